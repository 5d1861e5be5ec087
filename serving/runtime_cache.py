"""Per-process cache of loaded runtimes, keyed by (version id, sha256).

LRU under a memory budget; concurrent first requests for one version wait for a single load.
"""

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from django.conf import settings

from core.errors import Unavailable
from modelkit.runtimes import Runtime, RuntimeLoadError, load_runtime
from registry.artifacts import ArtifactTampered, artifact_local_path, file_sha256
from registry.kit import load_policy
from serving import metrics

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class VersionRef:
    """What the cache needs to know of a version; cheap to keep in a routing table."""

    id: int
    sha256: str
    format: str
    storage_key: str

    @property
    def key(self) -> tuple[int, str]:
        return (self.id, self.sha256)


class RuntimeCache:
    def __init__(self, budget_bytes: int) -> None:
        self.budget_bytes = budget_bytes
        self._entries: OrderedDict[tuple[int, str], Runtime] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[tuple[int, str], threading.Lock] = {}
        self._preloading: set[tuple[int, str]] = set()

    def get(self, ref: VersionRef) -> Runtime:
        with self._lock:
            runtime = self._entries.get(ref.key)
            if runtime is not None:
                self._entries.move_to_end(ref.key)
                return runtime
            key_lock = self._loading.setdefault(ref.key, threading.Lock())
        with key_lock:  # one loader per version; the others wait here and find it cached
            with self._lock:
                runtime = self._entries.get(ref.key)
            if runtime is None:
                runtime = self._load(ref)
                self._store(ref.key, runtime)
        with self._lock:
            self._loading.pop(ref.key, None)
        return runtime

    def _load(self, ref: VersionRef) -> Runtime:
        started = time.perf_counter()
        try:
            path = artifact_local_path(ref.storage_key, ref.sha256)
            digest = file_sha256(path)
        except ArtifactTampered:  # a sealed file's ciphertext changed: the same verdict as a changed plaintext
            path, digest = None, ""
        except OSError as exc:  # storage briefly unreachable (a network volume): retry, change nothing
            raise Unavailable(f"The model artifact cannot be read right now ({exc.strerror or exc})",
                              code="artifact_unavailable") from None
        # The file must still be the one that was uploaded and validated; a different one is tampering.
        if digest != ref.sha256:
            from registry.services import version_quarantine

            reason = "The artifact no longer matches its sha256: it changed after upload"
            version_quarantine(version_id=ref.id, reason=reason)
            raise Unavailable(f"{reason}; this version cannot serve", code="artifact_integrity")
        assert path is not None
        try:
            runtime = load_runtime(ref.format, path, load_policy())
        except RuntimeLoadError as exc:
            raise Unavailable(f"The model cannot be loaded: {exc}", code="load_failed") from None
        metrics.LOAD_SECONDS.labels(ref.format).observe(time.perf_counter() - started)
        return runtime

    def _store(self, key: tuple[int, str], runtime: Runtime) -> None:
        with self._lock:
            self._entries[key] = runtime
            while len(self._entries) > 1 and self.used_bytes() > self.budget_bytes:
                self._entries.popitem(last=False)
            metrics.LOADED.set(len(self._entries))

    def used_bytes(self) -> int:
        return sum(runtime.memory_bytes for runtime in self._entries.values())

    def is_loaded(self, ref: VersionRef) -> bool:
        return ref.key in self._entries  # one dict lookup: called on every request to an alias under rollout

    def preload(self, ref: VersionRef) -> None:
        """Load in the background (once at a time per version), so no caller waits for it."""
        with self._lock:
            if ref.key in self._entries or ref.key in self._preloading:
                return
            self._preloading.add(ref.key)
        threading.Thread(target=self._preload, args=(ref,), name="modelyard-preload", daemon=True).start()

    def _preload(self, ref: VersionRef) -> None:
        try:
            self.get(ref)
        except Exception as exc:  # logged; callers keep answering from stable meanwhile
            logger.error("could not preload version %s: %s", ref.id, exc)
        finally:
            with self._lock:
                self._preloading.discard(ref.key)

    def loaded(self) -> list[tuple[int, str]]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


runtimes = RuntimeCache(settings.MODELYARD_RUNTIME_CACHE_BYTES)
