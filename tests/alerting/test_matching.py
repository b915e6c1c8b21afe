"""Matchers: every key must match, globs are case-sensitive, tags are several values."""

from __future__ import annotations

from watchkeeper.alerting.matching import matches
from watchkeeper.alerting.model import Labels, Severity

API = Labels("api-health", "backend", ("user-facing", "http"), Severity.CRITICAL, "http")


def test_an_empty_matcher_matches_every_alert() -> None:
    assert matches({}, API)


def test_every_key_must_match() -> None:
    assert matches({"service": ("backend",), "severity": ("critical",)}, API)
    assert not matches({"service": ("backend",), "severity": ("warning",)}, API)


def test_a_key_matches_when_any_of_its_values_does() -> None:
    assert matches({"severity": ("warning", "critical")}, API)
    assert not matches({"severity": ("info", "warning")}, API)


def test_values_are_case_sensitive_globs() -> None:
    assert matches({"check": ("api-*",)}, API)
    assert matches({"check": ("api-he?lth",)}, API)
    assert not matches({"check": ("API-*",)}, API)
    assert not matches({"check": ("api",)}, API)


def test_a_tag_matcher_matches_any_of_the_checks_tags() -> None:
    assert matches({"tag": ("http",)}, API)
    assert matches({"tag": ("user-*",)}, API)
    assert not matches({"tag": ("internal",)}, API)


def test_a_missing_label_matches_no_pattern_not_even_a_star() -> None:
    lonely = Labels("cron-job", None, (), Severity.WARNING, "command")
    assert not matches({"service": ("*",)}, lonely)
    assert not matches({"tag": ("*",)}, lonely)
    assert matches({"kind": ("command",)}, lonely)
