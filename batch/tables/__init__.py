"""Reading and writing tables for batch jobs, without Django: format detection, inspection and chunk
plans (``inspect``), chunk readers (``read``), output parts and their assembly (``write``).

Like the model kit it raises its own error (``TableError``) with a message for the person who sent
the file; the services above turn it into a 4xx or a row in the errors file.
"""

from batch.tables.errors import TableError

__all__ = ["TableError"]
