"""Large artifacts on S3 stream: an upload goes up in multipart parts and a load streams to the local
cache, each holding a few MiB, not the file, in memory. Measured in a fresh process (peak RSS)."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from conftest import process_env
from registry.envelope import new_key

SIZE = 96 * 1024 * 1024
PROBE = """
import hashlib, json, os, sys, threading, time
import django
django.setup()
from django.core.files import File
from registry.artifacts import artifact_local_path, artifact_save

def rss_mib():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

def peak_growth(action):
    # ru_maxrss is a lifetime high-water mark (imports set it): sample the resident size instead.
    base, peak, done = rss_mib(), [0.0], threading.Event()
    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss_mib())
            time.sleep(0.005)
    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        result = action()
    finally:
        done.set()
        sampler.join()
    return max(peak[0], rss_mib()) - base, result

path, warm, sha = sys.argv[1], sys.argv[2], sys.argv[3]
with open(warm, "rb") as handle:  # everything imported and a client made before measuring
    artifact_save("models/1/warm.bin", File(handle, name=warm))
artifact_local_path("models/1/warm.bin", hashlib.sha256(open(warm, "rb").read()).hexdigest())

def upload():
    with open(path, "rb") as handle:
        artifact_save("models/1/large.bin", File(handle, name=path))

up, _ = peak_growth(upload)
down, local = peak_growth(lambda: artifact_local_path("models/1/large.bin", sha))
print(json.dumps({"base": rss_mib(), "upload": up, "download": down, "cached": str(local)}))
"""


def write_random(path: Path, size: int) -> str:
    digest = hashlib.sha256()
    with path.open("wb") as out:
        for _ in range(max(1, size // (4 * 1024 * 1024))):
            block = os.urandom(min(size, 4 * 1024 * 1024))
            digest.update(block)
            out.write(block)
    return digest.hexdigest()


@pytest.mark.parametrize("sealed", [False, True], ids=["plain", "encrypted"])
def test_a_96_mib_artifact_goes_up_in_parts_and_comes_down_streaming(s3_storage, tmp_path, sealed):
    large, warm = tmp_path / "large.bin", tmp_path / "warm.bin"
    sha = write_random(large, SIZE)
    warm.write_bytes(b"warm up")
    env = process_env(**s3_storage.env(), MODELYARD_ARTIFACT_CACHE_DIR=str(tmp_path / "cache"),
                      MODELYARD_ARTIFACT_KEYS=f"k1:{new_key()}" if sealed else "")
    done = subprocess.run([sys.executable, "-c", PROBE, str(large), str(warm), sha], env=env, cwd=settings.BASE_DIR,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    peaks = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"peak RSS growth, {SIZE >> 20} MiB artifact ({'sealed' if sealed else 'plain'}): "
          f"upload {peaks['upload']:.1f} MiB, download {peaks['download']:.1f} MiB (base {peaks['base']:.0f} MiB)")
    assert peaks["upload"] < 48 and peaks["download"] < 24  # half the file at most: it is never held whole
    server, bucket = s3_storage.server, s3_storage.bucket
    assert server.requests("POST", bucket, "models/1/large.bin", "upload") == 2  # create, complete
    assert server.requests("PUT", bucket, "models/1/large.bin", "partNumber") == 12 + int(sealed)
    assert s3_storage.gets("models/1/large.bin") == 1
    assert (s3_storage.raw("models/1/large.bin")[:8] == b"\x89MYENC\x01\n") is sealed
    cached = Path(peaks["cached"])
    assert cached.stat().st_size == SIZE and cached.name == sha
