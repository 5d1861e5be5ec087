"""The options of the ``s3`` artifact storage (django-storages' S3Storage), in one place.

config/settings.py builds them from the environment; the S3 tests build the same ones for a moto
server on loopback, so what is tested is what runs.
"""

from typing import Any

MIB = 1024 * 1024


def s3_storage_options(*, bucket: str, endpoint_url: str | None, region: str = "us-east-1",
                       addressing_style: str = "path", read_timeout: float = 60.0,
                       **credentials: str) -> dict[str, Any]:
    """Multipart past 8 MiB in 8 MiB parts, at most two in flight and two read ahead, so an upload
    holds a few parts in memory whatever the file's size; retries with backoff on 5xx and throttling."""
    from boto3.s3.transfer import TransferConfig
    from botocore.config import Config

    transfer = TransferConfig(multipart_threshold=8 * MIB, multipart_chunksize=8 * MIB, max_concurrency=2)
    transfer.max_in_memory_upload_chunks = 2  # s3transfer's own knob (default 10 parts read ahead)
    client = Config(s3={"addressing_style": addressing_style}, signature_version="s3v4",
                    retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=read_timeout)
    return {
        "bucket_name": bucket,
        "endpoint_url": endpoint_url or None,
        "region_name": region,
        "file_overwrite": False,  # keys are unique (registry.artifacts): an overwrite would be a bug
        "default_acl": None,
        "querystring_auth": False,
        "transfer_config": transfer,
        "max_memory_size": 8 * MIB,  # a file opened through the storage API spools to disk past this
        "client_config": client,
        **credentials,  # access_key / secret_key; unset: boto3's chain (AWS_* variables, a role)
    }
