"""The routing table: which version answers for a model, by number or by alias.

Loaded from the database on first use per model and kept in process; the bus drops an entry when
its model, a version or an alias changes, so steady-state predictions make no query.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core import bus
from core.errors import Conflict, NotFound
from registry.models import NAME_VALIDATOR, ModelAlias, ModelVersion, RegisteredModel, VersionStatus
from serving.runtime_cache import VersionRef


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
class ModelRoute:
    name: str
    team_id: int
    response_cache_seconds: int
    aliases: dict[str, tuple[int, int | None]]  # name -> (version, previous version)
    versions: dict[int, ServedVersion]

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
    aliases = {name: (number, previous) for name, number, previous in ModelAlias.objects.filter(
        model_id=model["id"]).values_list("name", "version__version", "previous_version__version")}
    versions = {row["version"]: _served(row) for row in ModelVersion.objects.filter(model_id=model["id"])
                .values(*_FIELDS)}
    return ModelRoute(name=name, team_id=model["team_id"], response_cache_seconds=model["response_cache_seconds"],
                      aliases=aliases, versions=versions)


def route_for(name: str) -> ModelRoute:
    """The model's route; unknown (valid) names are cached too, so probing names costs no query."""
    if not _NAME.match(name):  # never a model: no query, and nothing cached for it
        raise NotFound(f"Model {name!r} not found")
    route = routes.get_or_load(name, lambda: _load(name))
    if not isinstance(route, ModelRoute):
        raise NotFound(f"Model {name!r} not found")
    return route


def aliased_refs() -> list[tuple[str, VersionRef]]:
    """Every (model, version) an alias points to: what a web worker loads before it reports ready."""
    rows = ModelAlias.objects.values("model__name", *(f"version__{f}" for f in _FIELDS))
    return [(row["model__name"], _served({f: row[f"version__{f}"] for f in _FIELDS}).ref) for row in rows
            if row["version__status"] == VersionStatus.READY]
