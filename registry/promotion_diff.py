"""The review diff of a promotion request: what changes for the alias's callers if it moves.

Between the version the alias points to now and the candidate: metrics side by side, signature
compatibility, size, serving runtime and lineage. Pure reads over two versions; no queries.

Signature rule (``signature_diff``): a change callers must adapt to is ``breaking``: the input
dtype, the number of features, the set of column names *or their order* (rows are positional: a
reordered column list feeds values to the wrong features without any error), and the output names.
A signature missing on one side cannot be checked and counts as breaking. The rollouts app can use the
same function to refuse a breaking candidate at start.
"""

from typing import Any

from registry.models import ModelVersion

Change = dict[str, Any]


def _inputs(signature: dict[str, Any]) -> dict[str, Any]:
    return signature.get("inputs") or {}


def signature_diff(current: dict[str, Any], candidate: dict[str, Any]) -> dict[str, Any]:
    """``{"breaking": bool, "changes": [{"field", "current", "candidate", "breaking"}]}``."""
    if not current and not candidate:
        return {"breaking": False, "changes": []}
    if not current or not candidate:
        return {"breaking": True, "changes": [
            {"field": "signature", "current": current or None, "candidate": candidate or None, "breaking": True}]}
    mine, theirs = _inputs(current), _inputs(candidate)
    changes: list[Change] = []
    for field in ("dtype", "features"):
        if mine.get(field) != theirs.get(field):
            changes.append({"field": f"inputs.{field}", "current": mine.get(field),
                            "candidate": theirs.get(field), "breaking": True})
    changes += _column_changes(mine.get("columns"), theirs.get("columns"))
    if list(current.get("outputs") or []) != list(candidate.get("outputs") or []):
        changes.append({"field": "outputs", "current": current.get("outputs"),
                        "candidate": candidate.get("outputs"), "breaking": True})
    return {"breaking": any(c["breaking"] for c in changes), "changes": changes}


def _column_changes(mine: list[str] | None, theirs: list[str] | None) -> list[Change]:
    if mine == theirs:
        return []
    if mine and theirs and set(mine) == set(theirs):
        return [{"field": "inputs.columns", "current": mine, "candidate": theirs, "breaking": True,
                 "note": "same columns in another order"}]
    # Names appearing where there were none (or going away) change what named-column callers can send.
    return [{"field": "inputs.columns", "current": mine, "candidate": theirs, "breaking": True,
             "added": sorted(set(theirs or []) - set(mine or [])),
             "removed": sorted(set(mine or []) - set(theirs or []))}]


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def metrics_side_by_side(current: dict[str, Any], candidate: dict[str, Any]) -> dict[str, Change]:
    """Every metric either version reports: ``{name: {"current", "candidate", "delta"}}`` (delta when
    both are numbers)."""
    rows = {}
    for name in sorted(set(current) | set(candidate)):
        mine, theirs = current.get(name), candidate.get(name)
        delta = theirs - mine if _number(mine) and _number(theirs) else None
        rows[name] = {"current": mine, "candidate": theirs, "delta": delta}
    return rows


def _runtime(version: ModelVersion | None) -> dict[str, str] | None:
    if version is None:
        return None
    return {"format": version.format, "serving_format": version.serving_format or version.format}


def _lineage(current: dict[str, Any], candidate: dict[str, Any]) -> dict[str, Any]:
    changed = sorted(k for k in set(current) | set(candidate) if current.get(k) != candidate.get(k))
    return {"current": current, "candidate": candidate, "changed": changed}


def review_diff(current: ModelVersion | None, candidate: ModelVersion) -> dict[str, Any]:
    """The diff the reviewers see; ``current`` is None when the alias does not exist yet."""
    size_now = current.size_bytes if current else None
    signature = (signature_diff(current.signature or {}, candidate.signature or {}) if current
                 else {"breaking": False, "changes": []})
    return {
        "current_version": current.version if current else None,
        "candidate_version": candidate.version,
        "metrics": metrics_side_by_side(current.metrics if current else {}, candidate.metrics or {}),
        "signature": signature,
        "size_bytes": {"current": size_now, "candidate": candidate.size_bytes,
                       "delta": candidate.size_bytes - size_now if current else None},
        "runtime": {"current": _runtime(current), "candidate": _runtime(candidate),
                    "changed": current is not None and _runtime(current) != _runtime(candidate)},
        "lineage": _lineage(current.lineage if current else {}, candidate.lineage or {}),
    }
