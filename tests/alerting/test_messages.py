"""Messages: what people read, with what failed, since when, where to look, and how loud."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from watchkeeper.alerting.messages import EventView, compose
from watchkeeper.alerting.model import EventKind, Severity

SINCE = datetime(2024, 5, 6, 14, 18, tzinfo=UTC)
AT = SINCE + timedelta(minutes=12)
BASE = "https://watch.example.com/"


FIRING_API = EventView(
    kind=EventKind.FIRING,
    check="api-health",
    service="backend",
    severity=Severity.CRITICAL,
    dedup_key="wk:api-health:1",
    since=SINCE,
    at=AT,
    message="expected status == 200 (status = 503)",
)


def event(check: str = "api-health", **changes: Any) -> EventView:
    """Return a firing critical of ``check`` with some fields changed."""
    return replace(FIRING_API, check=check, dedup_key=f"wk:{check}:1", **changes)


def test_a_firing_critical_says_what_failed_since_when_and_where_to_look() -> None:
    title, body, notify_type = compose([event()], BASE)
    assert title == "[CRITICAL] api-health is failing"
    assert notify_type == "failure"
    assert "expected status == 200 (status = 503)" in body
    assert "Failing since 2024-05-06T14:18:00Z (for 12m)." in body
    assert "Dedup key: wk:api-health:1" in body
    assert "Service: backend" in body
    assert "https://watch.example.com/checks/api-health" in body


def test_without_a_base_url_there_is_no_link() -> None:
    _, body, _ = compose([event()], None)
    assert "/checks/" not in body


def test_a_link_quotes_a_check_name_that_is_not_url_safe() -> None:
    _, body, _ = compose([event("disk /var")], "https://watch.example.com")
    assert "https://watch.example.com/checks/disk%20%2Fvar" in body


def test_since_is_written_in_utc_whatever_zone_it_was_given_in() -> None:
    local = SINCE.astimezone(ZoneInfo("Europe/Amsterdam"))
    _, body, _ = compose([event(since=local)], BASE)
    assert "Failing since 2024-05-06T14:18:00Z (for 12m)." in body


def test_a_warning_is_sent_as_a_warning() -> None:
    message = "expected disk_used_percent < 90 (disk_used_percent = 93.4)"
    title, body, notify_type = compose(
        [event("disk", severity=Severity.WARNING, message=message)], BASE
    )
    assert (title, notify_type) == ("[WARNING] disk is failing", "warning")
    assert "disk_used_percent = 93.4" in body


def test_a_recovery_says_how_long_it_lasted_and_is_a_success() -> None:
    title, body, notify_type = compose(
        [event(kind=EventKind.RESOLVED, message="status == 200 holds (status = 200)")], BASE
    )
    assert (title, notify_type) == ("[RESOLVED] api-health recovered", "success")
    assert "Recovered at 2024-05-06T14:30:00Z after failing since 2024-05-06T14:18:00Z" in body
    assert "(for 12m)" in body


@pytest.mark.parametrize(
    ("kind", "severity", "title", "notify_type"),
    [
        (
            EventKind.REMINDER,
            Severity.CRITICAL,
            "[REMINDER] api-health is still failing (critical)",
            "failure",
        ),
        (
            EventKind.ESCALATED,
            Severity.CRITICAL,
            "[CRITICAL] api-health escalated to critical",
            "failure",
        ),
        (EventKind.FLAPPING, Severity.CRITICAL, "[FLAPPING] api-health is flapping", "info"),
        (EventKind.STABLE, Severity.WARNING, "[STABLE] api-health is stable again", "success"),
        (EventKind.FIRING, Severity.INFO, "[INFO] api-health is failing", "info"),
    ],
)
def test_each_kind_of_event_has_its_title_and_notify_type(
    kind: EventKind, severity: Severity, title: str, notify_type: str
) -> None:
    assert compose([event(kind=kind, severity=severity)], BASE)[::2] == (title, notify_type)


def test_a_group_title_lists_its_checks_worst_first() -> None:
    events = [
        event("web", severity=Severity.WARNING),
        event("db", kind=EventKind.RESOLVED),
        event("api"),
    ]
    title, body, notify_type = compose(events, BASE)
    assert title == "[CRITICAL] 3 alerts: api, web, db"
    assert notify_type == "failure"
    blocks = body.split("\n\n")
    assert [b.splitlines()[0] for b in blocks] == [
        "[CRITICAL] api is failing",
        "[WARNING] web is failing",
        "[RESOLVED] db recovered",
    ]
    assert "https://watch.example.com/checks/db" in blocks[2]


def test_a_group_of_recoveries_is_a_success() -> None:
    events = [event("api", kind=EventKind.RESOLVED), event("db", kind=EventKind.RESOLVED)]
    title, _, notify_type = compose(events, BASE)
    assert (title, notify_type) == ("[RESOLVED] 2 alerts: api, db", "success")


def test_a_long_group_title_names_the_first_checks_and_counts_the_rest() -> None:
    events = [event(f"check-{i}") for i in range(8)]
    title, body, _ = compose(events, BASE)
    assert title == "[CRITICAL] 8 alerts: check-0, check-1, check-2, check-3, check-4 and 3 more"
    assert "check-7 is failing" in body


def test_a_digest_lists_every_alert_on_its_own_line() -> None:
    events = [
        event("backup-age", severity=Severity.INFO, message="expected age < 26h (age = 30h)"),
        event("cert", severity=Severity.INFO, message="expected cert_expires_in > 14d (9d)"),
    ]
    title, body, notify_type = compose(events, BASE, digest=True)
    assert (title, notify_type) == ("Digest: 2 alerts", "info")
    lines = [line for line in body.splitlines() if line.startswith("- ")]
    assert lines == [
        "- [INFO] backup-age is failing: expected age < 26h (age = 30h)"
        " (since 2024-05-06T14:18:00Z, for 12m)",
        "- [INFO] cert is failing: expected cert_expires_in > 14d (9d)"
        " (since 2024-05-06T14:18:00Z, for 12m)",
    ]
    assert "https://watch.example.com/checks/cert" in body


def test_an_event_at_the_moment_it_began_says_just_now() -> None:
    _, body, _ = compose([event(at=SINCE)], BASE)
    assert "Failing since 2024-05-06T14:18:00Z (just now)." in body


def test_a_message_needs_an_event() -> None:
    with pytest.raises(ValueError, match="at least one event"):
        compose([], BASE)
