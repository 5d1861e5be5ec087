"""What a rollout request must hold. The service checks it (the console and the shell bypass the API)."""

from typing import Any

from core.errors import ModelyardError
from rollouts.models import Strategy

MAX_STEP_SECONDS = 86_400
GUARD_RULES: dict[str, tuple[str, float | None, float | None]] = {
    # name: (kind, minimum, maximum)
    "max_error_rate": ("number", 0.0, 1.0),
    "max_p95_ms": ("number", 0.0, None),
    "min_requests": ("int", 1, 1_000_000),
    "min_agreement": ("number", 0.0, 1.0),
}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_strategy(strategy: Any) -> str:
    if strategy not in Strategy.values:
        raise ModelyardError(f"strategy must be one of {', '.join(Strategy.values)}", field="strategy")
    return strategy


def check_steps(strategy: str, steps: Any) -> list[int]:
    if steps in (None, []) and strategy != Strategy.CANARY:
        return []
    if strategy != Strategy.CANARY:
        raise ModelyardError(f"steps apply to canary rollouts only, not {strategy}", field="steps")
    if not isinstance(steps, list) or not steps or not all(_is_int(step) for step in steps):
        raise ModelyardError("steps must be a non-empty list of whole percentages", field="steps")
    if any(not 1 <= step <= 100 for step in steps):
        raise ModelyardError("every step must be between 1 and 100", field="steps")
    if any(later <= earlier for earlier, later in zip(steps, steps[1:], strict=False)):
        raise ModelyardError("steps must increase", field="steps")
    if steps[-1] != 100:
        raise ModelyardError("the last step must be 100: completing a canary gives the candidate all traffic",
                             field="steps")
    return steps


def check_step_seconds(value: Any) -> int:
    if not _is_int(value) or not 1 <= value <= MAX_STEP_SECONDS:
        raise ModelyardError(f"step_seconds must be a whole number from 1 to {MAX_STEP_SECONDS}", field="step_seconds")
    return value


def check_guards(guards: Any) -> dict[str, Any]:
    if guards is None:
        return {}
    if not isinstance(guards, dict):
        raise ModelyardError("guards must be an object", field="guards")
    for name, value in guards.items():
        if name not in GUARD_RULES:
            raise ModelyardError(f"unknown guard {name!r}; known: {', '.join(GUARD_RULES)}", field=f"guards.{name}")
        kind, low, high = GUARD_RULES[name]
        if value is None and name == "max_p95_ms":
            continue
        ok_type = _is_int(value) if kind == "int" else (_is_int(value) or isinstance(value, float))
        if not ok_type or (low is not None and value < low) or (high is not None and value > high):
            bounds = f"from {low} to {high}" if high is not None else f"of at least {low}"
            noun = "a whole number" if kind == "int" else "a number"
            raise ModelyardError(f"guards.{name} must be {noun} {bounds}", field=f"guards.{name}")
    return guards


def check_breaking(allow_breaking: Any, reason: Any) -> tuple[bool, str]:
    if not isinstance(allow_breaking, bool):
        raise ModelyardError("allow_breaking must be true or false", field="allow_breaking")
    if not isinstance(reason, str):
        raise ModelyardError("reason must be a string", field="reason")
    if allow_breaking and not reason.strip():
        raise ModelyardError("allow_breaking needs a reason", field="reason")
    return allow_breaking, reason
