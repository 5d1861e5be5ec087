"""What served an alias when: replayed from the audit log, annotated with the rollouts that moved it.

Every alias change is audited with the alias's whole state after it (``alias.set``, ``alias.traffic``
from registry/services/traffic.py, ``alias.delete``), so the log alone says what served at any past
moment; rollout events add which rollout, and which rule, made each change.
"""

from datetime import datetime
from typing import Any

from registry.models import AuditEvent, RegisteredModel, TrafficMode
from rollouts.models import Rollout

ACTIONS = ("alias.set", "alias.traffic", "alias.delete")


def _served(state: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Who answered callers in this state, with their share; a shadow candidate answers no one."""
    if not state:
        return []
    weight = state.get("weight") or 0
    if state.get("candidate") is None or state.get("mode") == TrafficMode.SHADOW or not weight:
        return [{"version": state["version"], "weight": 100}]
    if weight >= 100:
        return [{"version": state["candidate"], "weight": 100}]
    return [{"version": state["version"], "weight": 100 - weight}, {"version": state["candidate"], "weight": weight}]


def _state_after(event: AuditEvent) -> dict[str, Any] | None:
    if event.action == "alias.delete":
        return None
    after = event.after or {}
    state = {"version": after.get("version"), "candidate": after.get("candidate"),
             "weight": after.get("weight", 0), "mode": after.get("mode", TrafficMode.SPLIT)}
    if event.action == "alias.set" and "candidate" not in after:  # a plain move ends any split
        state.update(candidate=None, weight=0, mode=TrafficMode.SPLIT)
    return {**state, "rollout": after.get("rollout")}


def intervals(model: RegisteredModel, alias: str) -> list[dict[str, Any]]:
    """Consecutive intervals, oldest first; the last one has ``to: null`` (still serving)."""
    events = AuditEvent.objects.filter(action__in=ACTIONS, target=f"model:{model.name}@{alias}").order_by("at", "id")
    found: list[dict[str, Any]] = []
    state: dict[str, Any] | None = None
    for event in events:
        state = _state_after(event)
        if found:
            found[-1]["to"] = event.at
        found.append({"from": event.at, "to": None, "served": _served(state),
                      "shadow": state["candidate"] if state and state["mode"] == TrafficMode.SHADOW else None,
                      "rollout": state.get("rollout") if state else None, "change": event.action})
    _annotate(found)
    return found


def _annotate(found: list[dict[str, Any]]) -> None:
    ids = {interval["rollout"] for interval in found if interval["rollout"]}
    rollouts = {r.id: r for r in Rollout.objects.filter(id__in=ids)}
    for interval in found:
        rollout = rollouts.get(interval["rollout"])
        if rollout is not None:
            interval["rollout"] = {"id": rollout.id, "strategy": rollout.strategy, "status": rollout.status}


def containing(found: list[dict[str, Any]], moment: datetime) -> dict[str, Any] | None:
    """The interval that contains ``moment``, or None if the alias did not exist then."""
    for interval in found:
        if interval["from"] <= moment and (interval["to"] is None or moment < interval["to"]):
            return interval if interval["served"] else None
    return None
