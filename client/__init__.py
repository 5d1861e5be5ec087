"""Not a Python package of the project: the client distribution lives in src/; this file names its tests
``client.tests`` for pytest."""
