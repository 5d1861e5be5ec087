"""The judgement of a candidate on one window: absolute guards, then a comparison with stable on the same window.

Pure functions on two ``core.windows.Window``s, so every rule is tested without a server. Which tests and
why: docs/rollouts.md ("Judging the candidate").
"""

import math
from dataclasses import dataclass, field
from typing import Any

from core.windows import Window

# One-sided two-proportion z-test on error rates: fail when the candidate is worse with p < ALPHA *and*
# by at least MIN_ERROR_DIFF (a significant but tiny difference is not worth a rollback).
ALPHA = 0.01
MIN_ERROR_DIFF = 0.01
# p95 comparison: fail when the candidate's p95 is over P95_RATIO times stable's and at least P95_MIN_MS slower.
P95_RATIO = 1.5
P95_MIN_MS = 5.0
DEFAULT_GUARDS: dict[str, Any] = {"max_error_rate": 0.05, "max_p95_ms": None, "min_requests": 20,
                                  "min_agreement": 0.95}


@dataclass
class Verdict:
    outcome: str  # "fail", "thin" (too few requests to judge) or "pass"
    rule: str
    checks: list[dict[str, Any]] = field(default_factory=list)

    def evidence(self, candidate: Window, stable: Window) -> dict[str, Any]:
        return {"rule": self.rule, "outcome": self.outcome, "checks": self.checks,
                "candidate": candidate.evidence(), "stable": stable.evidence()}


def error_rate_test(candidate: Window, stable: Window) -> tuple[float, float]:
    """(z, one-sided p-value) for "the candidate's error rate is higher than stable's"."""
    n1, n2 = candidate.requests, stable.requests
    if not n1 or not n2:
        return 0.0, 1.0
    pooled = (candidate.errors + stable.errors) / (n1 + n2)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    diff = candidate.error_rate - stable.error_rate
    if spread == 0:
        return (math.inf, 0.0) if diff > 0 else (0.0, 1.0)
    z = diff / spread
    return z, 0.5 * math.erfc(z / math.sqrt(2))


def _check(checks: list[dict[str, Any]], name: str, value: Any, limit: Any, ok: bool) -> bool:
    checks.append({"check": name, "value": value, "limit": limit, "ok": ok})
    return ok


def _absolute(guards: dict[str, Any], candidate: Window, checks: list[dict[str, Any]]) -> str | None:
    if not _check(checks, "max_error_rate", round(candidate.error_rate, 5), guards["max_error_rate"],
                  candidate.error_rate <= guards["max_error_rate"]):
        return "max_error_rate"
    p95, limit = candidate.percentile_ms(0.95), guards.get("max_p95_ms")
    if limit is not None and not _check(checks, "max_p95_ms", p95, limit, p95 is None or p95 <= limit):
        return "max_p95_ms"
    return None


def _relative(candidate: Window, stable: Window, checks: list[dict[str, Any]]) -> str | None:
    z, p_value = error_rate_test(candidate, stable)
    worse = p_value < ALPHA and candidate.error_rate - stable.error_rate >= MIN_ERROR_DIFF
    if not _check(checks, "error_rate_vs_stable", {"z": round(z, 3) if math.isfinite(z) else "inf",
                  "p_value": round(p_value, 6)}, {"alpha": ALPHA, "min_diff": MIN_ERROR_DIFF}, not worse):
        return "error_rate_vs_stable"
    mine, theirs = candidate.percentile_ms(0.95), stable.percentile_ms(0.95)
    slower = mine is not None and theirs is not None and mine > theirs * P95_RATIO and mine - theirs >= P95_MIN_MS
    if not _check(checks, "p95_vs_stable", {"candidate": mine, "stable": theirs},
                  {"ratio": P95_RATIO, "min_ms": P95_MIN_MS}, not slower):
        return "p95_vs_stable"
    return None


def judge(strategy: str, guards: dict[str, Any], candidate: Window, stable: Window) -> Verdict:
    guards = {**DEFAULT_GUARDS, **guards}
    checks: list[dict[str, Any]] = []
    needed = guards["min_requests"]
    if not _check(checks, "min_requests", candidate.requests, needed, candidate.requests >= needed):
        return Verdict("thin", "min_requests", checks)
    rule = _absolute(guards, candidate, checks)
    if rule is None and stable.requests >= needed:  # too little stable traffic: absolute guards only
        rule = _relative(candidate, stable, checks)
    if rule is None and strategy == "shadow":
        agreement = candidate.agreement
        if not _check(checks, "min_agreement", agreement, guards["min_agreement"],
                      agreement is not None and agreement >= guards["min_agreement"]):
            rule = "min_agreement"
    return Verdict("fail", rule, checks) if rule else Verdict("pass", "guards_hold", checks)
