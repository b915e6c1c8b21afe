"""Routing: which channels an alert reaches, how alerts are grouped, and when messages are due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from watchkeeper.alerting.model import Labels, Severity
from watchkeeper.alerting.routing import Delivery, route
from watchkeeper.config.alerting import Route

NOW = datetime(2024, 5, 6, 14, 30, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")
CHANNELS = ("ops", "oncall", "email")
API = Labels("api", "backend", ("user-facing",), Severity.CRITICAL, "http")
WEB = Labels("web", "frontend", (), Severity.WARNING, "http")
DB = Labels("db", "backend", (), Severity.WARNING, "postgres")


def routes(*items: dict[str, Any]) -> tuple[Route, ...]:
    """Build routes the way the config file writes them."""
    return tuple(Route.model_validate(item) for item in items)


def never(channel: str, group_key: str) -> datetime | None:
    return None


def deliver(labels: Labels, configured: tuple[Route, ...], **kw: Any) -> list[Delivery]:
    args: dict[str, Any] = {
        "check_route": (),
        "channels": CHANNELS,
        "now": NOW,
        "tz": UTC_ZONE,
        "last_sent": never,
    }
    return route(labels, routes=configured, **(args | kw))


def test_a_checks_own_route_wins_and_is_sent_at_once() -> None:
    configured = routes({"channels": ["ops"], "group_wait": "30s"})
    got = deliver(API, configured, check_route=("oncall", "email"))
    assert [(d.channel, d.due_at, d.digest) for d in got] == [
        ("oncall", NOW, False),
        ("email", NOW, False),
    ]


def test_with_no_routes_every_channel_gets_the_alert_at_once() -> None:
    got = deliver(API, ())
    assert [(d.channel, d.due_at) for d in got] == [(c, NOW) for c in CHANNELS]
    assert {d.group_key for d in got} == {"direct:check=api"}


def test_the_first_matching_route_is_used_and_the_walk_stops() -> None:
    configured = routes(
        {"match": {"service": "frontend"}, "channels": ["email"]},
        {"match": {"service": "backend"}, "channels": ["oncall"]},
        {"channels": ["ops"]},
    )
    assert [d.channel for d in deliver(API, configured)] == ["oncall"]
    assert [d.channel for d in deliver(WEB, configured)] == ["email"]


def test_continue_lets_later_routes_match_too() -> None:
    configured = routes(
        {"match": {"severity": "critical"}, "channels": ["oncall"], "continue": True},
        {"match": {"service": "backend"}, "channels": ["ops"]},
        {"channels": ["email"]},
    )
    got = deliver(API, configured)
    assert [(d.channel, d.group_key) for d in got] == [
        ("oncall", "route1:check=api"),
        ("ops", "route2:check=api"),
    ]
    assert [d.channel for d in deliver(DB, configured)] == ["ops"]


def test_when_routes_exist_but_none_match_the_alert_is_unrouted() -> None:
    configured = routes({"match": {"service": "payments"}, "channels": ["oncall"]})
    assert deliver(API, configured) == []


def test_alerts_with_equal_group_by_labels_share_a_group() -> None:
    configured = routes({"channels": ["ops"], "group_by": ["service"]})
    assert deliver(API, configured)[0].group_key == "route1:service=backend"
    assert deliver(DB, configured)[0].group_key == "route1:service=backend"
    assert deliver(WEB, configured)[0].group_key == "route1:service=frontend"


def test_grouping_by_several_labels_names_each() -> None:
    configured = routes({"channels": ["ops"], "group_by": ["service", "severity", "tag"]})
    key = deliver(API, configured)[0].group_key
    assert key == "route1:service=backend,severity=critical,tag=user-facing"


def test_without_group_by_each_check_is_its_own_group() -> None:
    configured = routes({"channels": ["ops"]})
    assert deliver(API, configured)[0].group_key == "route1:check=api"
    assert deliver(DB, configured)[0].group_key == "route1:check=db"


def test_a_new_group_waits_group_wait() -> None:
    configured = routes({"channels": ["ops"], "group_wait": "30s"})
    assert deliver(API, configured)[0].due_at == NOW + timedelta(seconds=30)


def test_a_group_that_just_sent_waits_out_group_interval() -> None:
    configured = routes(
        {
            "channels": ["ops", "email"],
            "group_by": ["service"],
            "group_wait": "30s",
            "group_interval": "5m",
        }
    )
    sent = {("ops", "route1:service=backend"): NOW - timedelta(minutes=2)}
    got = deliver(API, configured, last_sent=lambda c, k: sent.get((c, k)))
    assert [(d.channel, d.due_at) for d in got] == [
        ("ops", NOW + timedelta(minutes=3)),
        ("email", NOW + timedelta(seconds=30)),
    ]


def test_without_group_by_a_check_is_its_own_group_and_never_waits_for_itself() -> None:
    configured = routes({"channels": ["ops"], "group_wait": "30s", "group_interval": "5m"})
    got = deliver(API, configured, last_sent=lambda c, k: NOW - timedelta(minutes=2))
    assert got[0].due_at == NOW + timedelta(seconds=30)


def test_a_group_that_sent_longer_ago_than_group_interval_waits_group_wait() -> None:
    configured = routes({"channels": ["ops"], "group_wait": "30s", "group_interval": "5m"})
    got = deliver(API, configured, last_sent=lambda c, k: NOW - timedelta(minutes=5))
    assert got[0].due_at == NOW + timedelta(seconds=30)


def test_a_digest_route_is_due_at_the_next_digest_time_in_the_configured_timezone() -> None:
    amsterdam = ZoneInfo("Europe/Amsterdam")
    configured = routes(
        {"match": {"severity": "info"}, "channels": ["email"], "digest": "daily at 09:00"},
        {"channels": ["ops"]},
    )
    info = Labels("backup-age", None, (), Severity.INFO, "command")
    # 14:30 UTC is 16:30 in Amsterdam (CEST): past today's 09:00, so tomorrow 09:00 CEST = 07:00 UTC.
    got = deliver(info, configured, tz=amsterdam)
    assert got == [Delivery("email", "digest1", datetime(2024, 5, 7, 7, 0, tzinfo=UTC), True)]
    early = datetime(2024, 5, 6, 6, 59, tzinfo=UTC)
    assert deliver(info, configured, tz=amsterdam, now=early)[0].due_at == early + timedelta(
        minutes=1
    )


def test_info_alerts_without_a_digest_route_follow_the_routes_like_others() -> None:
    configured = routes(
        {"match": {"service": "backend"}, "channels": ["oncall"]}, {"channels": ["ops"]}
    )
    info = Labels("db-size", "backend", (), Severity.INFO, "postgres")
    got = deliver(info, configured)
    assert [(d.channel, d.digest) for d in got] == [("oncall", False)]


def test_due_times_count_real_time_across_a_clock_change() -> None:
    amsterdam = ZoneInfo("Europe/Amsterdam")
    configured = routes({"channels": ["ops"], "group_wait": "2m"})
    # 02:59 CEST on 2024-10-27 is 00:59 UTC; a minute later clocks go back to 02:00 CET.
    before_change = datetime(2024, 10, 27, 2, 59, tzinfo=amsterdam)
    got = deliver(API, configured, now=before_change, tz=amsterdam)
    assert got[0].due_at == datetime(2024, 10, 27, 1, 1, tzinfo=UTC)
