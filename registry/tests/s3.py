"""An S3 API on loopback for tests: moto's server mode (a real HTTP server, in its own process).

The root conftest loads this module as a plugin, so every test can ask for ``s3_storage``.
Requests are counted from the server's own access log, so a test can tell how many GETs reached S3.
"""

import re
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from registry.s3 import s3_storage_options

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "modelyard-test", "AWS_SECRET_ACCESS_KEY": "modelyard-test-secret",
               "AWS_DEFAULT_REGION": "us-east-1"}


@dataclass
class S3Server:
    endpoint: str
    log: Path

    def requests(self, method: str, bucket: str, key: str = "", query: str = "") -> int:
        """How many ``method`` requests for objects in ``bucket`` whose path starts with ``key``
        (and whose query string contains ``query``) the server has answered."""
        pattern = re.compile(rf'"{method} /{re.escape(bucket)}/{re.escape(key)}[^ ?]*(\?[^ ]*)? HTTP')
        return sum(1 for line in self.log.read_text(errors="replace").splitlines()
                   if (match := pattern.search(line)) and query in (match.group(1) or ""))

    def new_bucket(self) -> str:
        import boto3

        name = f"modelyard-{uuid.uuid4().hex[:12]}"
        boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                     aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                     region_name="us-east-1").create_bucket(Bucket=name)
        return name

    def env(self, bucket: str) -> dict[str, str]:
        """The environment that points a Modelyard process (worker, gunicorn) at this bucket."""
        return {"MODELYARD_ARTIFACT_STORAGE": "s3", "MODELYARD_S3_BUCKET": bucket,
                "MODELYARD_S3_ENDPOINT_URL": self.endpoint, **CREDENTIALS}


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    from conftest import free_port

    port, log = free_port(), tmp_path_factory.mktemp("moto") / "moto.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                   stdout=out, stderr=subprocess.STDOUT)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1)
            break
        except OSError as exc:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise AssertionError(f"moto server did not start:\n{log.read_text(errors='replace')[-2000:]}") from exc
            time.sleep(0.1)
    yield S3Server(endpoint, log)
    process.terminate()
    process.wait(timeout=10)


@dataclass
class S3Storage:
    server: S3Server
    bucket: str

    def gets(self, key: str = "") -> int:
        return self.server.requests("GET", self.bucket, key)

    def env(self) -> dict[str, str]:
        return self.server.env(self.bucket)

    def keys(self) -> list[str]:
        from registry.artifacts import artifact_storage

        client = artifact_storage().connection.meta.client
        return [item["Key"] for item in client.list_objects_v2(Bucket=self.bucket).get("Contents", [])]

    def raw(self, key: str) -> bytes:
        from registry.artifacts import artifact_storage

        return artifact_storage().bucket.Object(key).get()["Body"].read()

    def put_raw(self, key: str, data: bytes) -> None:
        from registry.artifacts import artifact_storage

        artifact_storage().bucket.Object(key).put(Body=data)


@pytest.fixture
def s3_storage(s3_server: S3Server, settings: Any, tmp_path: Path) -> S3Storage:
    """This test's artifacts in a bucket of their own on the moto server, cached under tmp_path."""
    bucket = s3_server.new_bucket()
    options = s3_storage_options(bucket=bucket, endpoint_url=s3_server.endpoint,
                                 access_key=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                                 secret_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"])
    settings.STORAGES = {**settings.STORAGES,
                         "artifacts": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}}
    settings.ARTIFACT_CACHE_DIR = tmp_path / "artifact-cache"
    return S3Storage(s3_server, bucket)
