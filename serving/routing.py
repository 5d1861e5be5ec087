"""The routing table: which version answers for a model, by number or by alias.

Loaded from the database on first use per model and kept in process; the bus drops an entry when
its model, a version or an alias changes, so steady-state predictions make no query.
"""

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core import bus
from core.errors import Conflict, NotFound
from registry.models import NAME_VALIDATOR, ModelAlias, ModelVersion, RegisteredModel, TrafficMode, VersionStatus
from serving.runtime_cache import VersionRef, runtimes


@dataclass(frozen=True)
class ServedVersion:
    id: int
    number: int
    status: str
    signature: dict[str, Any]
    ref: VersionRef

    def require_ready(self, model: str) -> None:
        if self.status != VersionStatus.READY:
            raise Conflict(f"Version {self.number} of {model!r} is {self.status}, not ready",
                           code="version_not_ready")


@dataclass(frozen=True)
class Split:
    """An alias under rollout: ``weight`` percent of callers go to ``candidate``, or it shadows every request."""

    candidate: int
    weight: int
    mode: str


@dataclass(frozen=True)
class Choice:
    """The version that answers, and the one that gets a copy of the request off the caller's time."""

    served: ServedVersion
    shadow: ServedVersion | None = None


def bucket(model: str, alias: str, key: str) -> int:
    """0-99, the same in every process for one caller (Python's hash() is salted per process)."""
    digest = hashlib.blake2b(f"{model}/{alias}/{key}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") % 100


@dataclass(frozen=True)
class ModelRoute:
    name: str
    team_id: int
    response_cache_seconds: int
    aliases: dict[str, tuple[int, int | None]]  # name -> (version, previous version)
    versions: dict[int, ServedVersion]
    splits: dict[str, Split]

    def version(self, number: int) -> ServedVersion:
        try:
            return self.versions[number]
        except KeyError:
            raise NotFound(f"Model {self.name!r} has no version {number}") from None

    def alias(self, name: str) -> ServedVersion:
        """The aliased version; if it was taken out of service, the one the alias pointed to before."""
        try:
            current, previous = self.aliases[name]
        except KeyError:
            raise NotFound(f"Model {self.name!r} has no alias {name!r}") from None
        served = self.versions[current]
        fallback = self.versions.get(previous) if previous is not None else None
        if served.status != VersionStatus.READY and fallback is not None and fallback.status == VersionStatus.READY:
            return fallback
        return served

    def choose(self, alias: str, key: str) -> Choice:
        """Stable or candidate by weight, sticky per caller key; never a candidate this process has not loaded.

        The rollout only raises a weight once every live web process reports the candidate loaded;
        this check covers a process that started since: it answers from stable and loads meanwhile.
        """
        stable = self.alias(alias)
        split = self.splits.get(alias)
        candidate = self.versions.get(split.candidate) if split else None
        if split is None or candidate is None or candidate.status != VersionStatus.READY:
            return Choice(stable)
        if not runtimes.is_loaded(candidate.ref):
            runtimes.preload(candidate.ref)
            return Choice(stable)
        if split.mode == TrafficMode.SHADOW:
            return Choice(stable, shadow=candidate)
        if split.weight and bucket(self.name, alias, key) < split.weight:
            return Choice(candidate)
        return Choice(stable)


routes = bus.LocalCache("route", max_entries=10_000)
_NAME = re.compile(NAME_VALIDATOR.regex.pattern)
_FIELDS = ("id", "version", "status", "signature", "serving_format", "serving_storage_key", "serving_sha256",
           "format", "storage_key", "sha256")


def version_ref(row: Mapping[str, Any]) -> VersionRef:
    """What answers for a version (a row or ``vars(version)``): its ONNX conversion if any, else the original."""
    return VersionRef(id=row["id"], sha256=row["serving_sha256"] or row["sha256"],
                      format=row["serving_format"] or row["format"],
                      storage_key=row["serving_storage_key"] or row["storage_key"])


def _served(row: dict[str, Any]) -> ServedVersion:
    return ServedVersion(id=row["id"], number=row["version"], status=row["status"], signature=row["signature"],
                         ref=version_ref(row))


def _load(name: str) -> ModelRoute | None:
    model = RegisteredModel.objects.filter(name=name).values("id", "team_id", "response_cache_seconds").first()
    if model is None:
        return None
    # Aliases first: versions are never deleted, so every version they name is in the second read.
    rows = ModelAlias.objects.filter(model_id=model["id"]).values_list(
        "name", "version__version", "previous_version__version", "candidate_version__version", "candidate_weight",
        "traffic_mode")
    aliases, splits = {}, {}
    for alias, number, previous, candidate, weight, mode in rows:
        aliases[alias] = (number, previous)
        if candidate is not None:
            splits[alias] = Split(candidate=candidate, weight=weight, mode=mode)
    versions = {row["version"]: _served(row) for row in ModelVersion.objects.filter(model_id=model["id"])
                .values(*_FIELDS)}
    for split in splits.values():  # load candidates now, so they are ready before a weight reaches them
        if split.candidate in versions:
            runtimes.preload(versions[split.candidate].ref)
    return ModelRoute(name=name, team_id=model["team_id"], response_cache_seconds=model["response_cache_seconds"],
                      aliases=aliases, versions=versions, splits=splits)


def route_for(name: str) -> ModelRoute:
    """The model's route; unknown (valid) names are cached too, so probing names costs no query."""
    if not _NAME.match(name):  # never a model: no query, and nothing cached for it
        raise NotFound(f"Model {name!r} not found")
    route = routes.get_or_load(name, lambda: _load(name))
    if not isinstance(route, ModelRoute):
        raise NotFound(f"Model {name!r} not found")
    return route


def aliased_refs(prefixes: tuple[str, ...] = ("version", "candidate_version")) -> list[tuple[str, VersionRef]]:
    """Every (model, version) an alias points to, candidates of rollouts included: what a web worker
    loads before it reports ready (``prefixes=("candidate_version",)``: the candidates alone)."""
    found = []
    for prefix in prefixes:
        rows = ModelAlias.objects.filter(**{f"{prefix}__isnull": False}).values(
            "model__name", *(f"{prefix}__{f}" for f in _FIELDS))
        found += [(row["model__name"], _served({f: row[f"{prefix}__{f}"] for f in _FIELDS}).ref) for row in rows
                  if row[f"{prefix}__status"] == VersionStatus.READY]
    return found
