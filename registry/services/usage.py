"""What uses a version, so archiving or deleting it can be refused while something still needs it.

Aliases (and a rollout's candidate) are the registry's own; apps above it (batch jobs) register a
check here when they start, so the registry learns of their use without importing them.
"""

from collections.abc import Callable

from django.db.models import Q

from registry.models import ModelAlias, ModelVersion

VersionUse = Callable[[ModelVersion], list[str]]  # descriptions of what uses the version; [] if nothing
_checks: list[VersionUse] = []


def version_use_register(check: VersionUse) -> None:
    if check not in _checks:
        _checks.append(check)


def _alias_uses(version: ModelVersion) -> list[str]:
    aliases = ModelAlias.objects.filter(Q(version=version) | Q(candidate_version=version))
    return [f"alias {name!r}" for name in sorted(aliases.values_list("name", flat=True))]


def version_uses(version: ModelVersion) -> list[str]:
    uses = _alias_uses(version)
    for check in _checks:
        uses.extend(check(version))
    return uses
