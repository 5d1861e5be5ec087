"""The judgement on its own: absolute guards, the two-proportion test against stable, p95s, shadow agreement."""

from rollouts.judge import error_rate_test, judge
from rollouts.tests.conftest import window

GUARDS = {"min_requests": 20, "max_error_rate": 0.05}


def test_too_few_requests_is_thin_not_a_failure():
    verdict = judge("canary", GUARDS, window(2, requests=5, errors=5), window(1, requests=500))
    assert (verdict.outcome, verdict.rule) == ("thin", "min_requests")


def test_an_error_rate_over_the_limit_fails():
    verdict = judge("canary", GUARDS, window(2, requests=100, errors=10), window(1, requests=100))
    assert (verdict.outcome, verdict.rule) == ("fail", "max_error_rate")


def test_clearly_worse_than_stable_fails_under_the_absolute_limit():
    verdict = judge("canary", {**GUARDS, "max_error_rate": 0.2}, window(2, requests=2000, errors=80),
                    window(1, requests=2000, errors=2))
    assert (verdict.outcome, verdict.rule) == ("fail", "error_rate_vs_stable")


def test_a_tiny_significant_difference_is_not_worth_a_rollback():
    verdict = judge("canary", GUARDS, window(2, requests=200_000, errors=1200), window(1, requests=200_000, errors=800))
    z, p_value = error_rate_test(window(2, requests=200_000, errors=1200), window(1, requests=200_000, errors=800))
    assert p_value < 0.01 and verdict.outcome == "pass"


def test_a_slower_p95_than_stable_fails_and_a_bit_slower_passes():
    slow = judge("canary", GUARDS, window(2, requests=100, bucket=40), window(1, requests=100, bucket=20))
    close = judge("canary", GUARDS, window(2, requests=100, bucket=21), window(1, requests=100, bucket=20))
    assert (slow.outcome, slow.rule) == ("fail", "p95_vs_stable") and close.outcome == "pass"


def test_an_absolute_p95_limit_fails():
    verdict = judge("canary", {**GUARDS, "max_p95_ms": 1}, window(2, requests=100, bucket=30), window(1))
    assert (verdict.outcome, verdict.rule) == ("fail", "max_p95_ms")


def test_shadow_agreement_below_the_minimum_fails():
    low = judge("shadow", {**GUARDS, "min_agreement": 0.9}, window(2, requests=50, shadow_rows=100, agreed=40),
                window(1, requests=50))
    high = judge("shadow", {**GUARDS, "min_agreement": 0.9}, window(2, requests=50, shadow_rows=100, agreed=99),
                 window(1, requests=50))
    assert (low.outcome, low.rule) == ("fail", "min_agreement") and high.outcome == "pass"


def test_evidence_holds_both_windows_and_every_check():
    verdict = judge("canary", GUARDS, window(2, requests=100), window(1, requests=100))
    evidence = verdict.evidence(window(2, requests=100), window(1, requests=100))
    assert evidence["candidate"]["requests"] == 100 and evidence["stable"]["version"] == 1
    assert [c["check"] for c in evidence["checks"]] == ["min_requests", "max_error_rate", "error_rate_vs_stable",
                                                        "p95_vs_stable"]
