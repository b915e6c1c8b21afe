"""Judging measurements: critical if an expect fails or a critical holds, else warning, else ok."""

from __future__ import annotations

from watchkeeper.engine.evaluator import Rules, format_value, judge, summarize
from watchkeeper.results import Status

RULES = Rules.parse(
    expect=["status == 200", 'json.status == "healthy"'],
    warn=["response_time > 500ms"],
    critical=["response_time > 2s"],
)


def test_all_conditions_met_is_ok() -> None:
    m = {"status": 200, "json": {"status": "healthy"}, "response_time": 0.1}
    assert judge(RULES, m) == (Status.OK, "")


def test_warn_threshold_gives_warning_with_measured_value() -> None:
    m = {"status": 200, "json": {"status": "healthy"}, "response_time": 0.8}
    assert judge(RULES, m) == (Status.WARNING, "response_time > 500ms (response_time = 800ms)")


def test_critical_threshold_beats_warning() -> None:
    m = {"status": 200, "json": {"status": "healthy"}, "response_time": 2.31}
    status, message = judge(RULES, m)
    assert status is Status.CRITICAL
    assert message == "response_time > 2s (response_time = 2.31s)"


def test_failed_expect_is_critical_and_names_the_value() -> None:
    m = {"status": 503, "json": {"status": "unhealthy"}, "response_time": 0.1}
    status, message = judge(RULES, m)
    assert status is Status.CRITICAL
    assert "expected status == 200 (status = 503)" in message
    assert 'expected json.status == "healthy" (json.status = "unhealthy")' in message


def test_a_failure_a_probe_put_in_words_follows_the_conditions() -> None:
    rules = Rules.parse(expect=["available == true"])
    m = {"available": False, "error": "the API key was refused (HTTP 401) when listing models"}
    assert judge(rules, m) == (
        Status.CRITICAL,
        "expected available == true (available = false)"
        " — the API key was refused (HTTP 401) when listing models",
    )
    assert judge(rules, {"available": True, "error": "stale"}) == (Status.OK, "")


def test_missing_measurement_fails_an_expect_but_not_a_threshold() -> None:
    status, message = judge(RULES, {"status": 200, "response_time": 3.0})
    assert status is Status.CRITICAL
    assert "json" in message
    only_warn = Rules.parse(expect=[], warn=["missing > 1"])
    assert judge(only_warn, {"x": 1}) == (Status.OK, "")


def test_default_expect_applies_only_without_expect() -> None:
    rules = Rules.parse(expect=[], default_expect=["exit_code == 0"])
    assert judge(rules, {"exit_code": 1})[0] is Status.CRITICAL
    explicit = Rules.parse(expect=["exit_code == 1"], default_expect=["exit_code == 0"])
    assert judge(explicit, {"exit_code": 1})[0] is Status.OK


def test_values_are_formatted_by_their_kind() -> None:
    assert format_value("disk_used_percent", 91.234) == "91.2%"
    assert format_value("cert_expires_in", 86400 * 14) == "14d"
    assert format_value("cert_expires_in", -3600) == "-1h"
    assert format_value("disk_free", 2_500_000_000) == "2.5 GB"
    assert format_value("status", 200) == "200"
    assert format_value("hostname_matches", True) == "true"


def test_ok_summary_shows_the_values_the_rules_look_at() -> None:
    m = {"status": 200, "json": {"status": "healthy"}, "response_time": 0.042, "size": 10}
    assert summarize(RULES, m) == 'status = 200, json.status = "healthy", response_time = 42ms'
    assert summarize(Rules.parse(expect=["memory_used_percent < 80"]), {"x": 1}) == ""
