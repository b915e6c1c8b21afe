"""Silences, maintenance windows and inhibition: what mutes an alert, and only when it should."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from watchkeeper.alerting.model import Labels, Severity
from watchkeeper.alerting.silences import (
    Silence,
    active_silence,
    active_window,
    inhibited,
    parse_silence_matchers,
    window_for_check,
)
from watchkeeper.config.alerting import AlertingConfig, InhibitRule, MaintenanceWindow

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2024, 5, 6, 14, 30, tzinfo=UTC)
API = Labels("api", "backend", ("user-facing",), Severity.CRITICAL, "http")
API_WARNING = Labels("api", "backend", ("user-facing",), Severity.WARNING, "http")
DB = Labels("db", "backend", (), Severity.WARNING, "postgres")
WEB = Labels("web", "frontend", (), Severity.WARNING, "http")


def silence(id: int, starts: datetime, ends: datetime, **matchers: tuple[str, ...]) -> Silence:
    return Silence(id, matchers, starts, ends, "ana", "upgrading the database")


def test_a_silence_mutes_matching_alerts_only_between_its_start_and_end() -> None:
    s = silence(1, NOW, NOW + timedelta(hours=1), service=("backend",))
    assert active_silence([s], DB, NOW) == s
    assert active_silence([s], DB, NOW + timedelta(minutes=59)) == s
    assert active_silence([s], DB, NOW - timedelta(seconds=1)) is None
    assert active_silence([s], DB, NOW + timedelta(hours=1)) is None


def test_a_silence_does_not_mute_alerts_it_does_not_match() -> None:
    s = silence(1, NOW, NOW + timedelta(hours=1), service=("backend",), check=("db*",))
    assert active_silence([s], WEB, NOW) is None
    assert active_silence([s], API, NOW) is None


def test_of_several_active_silences_the_longest_lasting_is_reported() -> None:
    short = silence(1, NOW, NOW + timedelta(hours=1), check=("db",))
    long = silence(2, NOW, NOW + timedelta(hours=8), service=("backend",))
    expired = silence(3, NOW - timedelta(days=2), NOW - timedelta(days=1), check=("db",))
    assert active_silence([short, long, expired], DB, NOW) == long


def test_silence_matchers_are_read_from_key_value_items() -> None:
    got = parse_silence_matchers(["service=backend", "check=api-*", "tag=user-facing"])
    assert got == {"service": ("backend",), "check": ("api-*",), "tag": ("user-facing",)}


def test_a_repeated_silence_matcher_key_adds_a_value() -> None:
    got = parse_silence_matchers(["check=api", " check = web "])
    assert got == {"check": ("api", "web")}


@pytest.mark.parametrize(
    ("items", "error"),
    [
        (["backend"], "bad matcher 'backend': expected key=value"),
        (["service="], "bad matcher 'service=': expected key=value"),
        (["host=db1"], "unknown matcher key 'host'"),
        ([], "a silence needs at least one matcher"),
    ],
)
def test_bad_silence_matchers_are_refused_with_a_clear_message(
    items: list[str], error: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(error)):
        parse_silence_matchers(items)


def test_an_unknown_silence_matcher_key_lists_the_keys_allowed() -> None:
    with pytest.raises(ValueError, match="use check, service, tag, severity, kind"):
        parse_silence_matchers(["service=backend", "host=db1"])


SUNDAY_NIGHTS = MaintenanceWindow.model_validate(
    {"name": "patching", "schedule": "weekly on sunday at 02:00", "duration": "2h"}
)


def local(year: int, month: int, day: int, hour: int, minute: int, fold: int = 0) -> datetime:
    """Return a wall-clock time in Amsterdam; fold=1 picks the second pass of a repeated hour."""
    return datetime(year, month, day, hour, minute, tzinfo=AMSTERDAM, fold=fold)


def test_a_weekly_window_is_open_for_its_duration_after_it_starts() -> None:
    windows = [SUNDAY_NIGHTS]
    assert active_window(windows, DB, local(2024, 5, 5, 2, 0), AMSTERDAM) == SUNDAY_NIGHTS
    assert active_window(windows, DB, local(2024, 5, 5, 2, 30), AMSTERDAM) == SUNDAY_NIGHTS
    assert active_window(windows, DB, local(2024, 5, 5, 1, 59), AMSTERDAM) is None
    assert active_window(windows, DB, local(2024, 5, 5, 4, 0), AMSTERDAM) is None
    assert active_window(windows, DB, local(2024, 5, 5, 4, 1), AMSTERDAM) is None
    assert active_window(windows, DB, local(2024, 5, 6, 2, 30), AMSTERDAM) is None


def test_a_window_follows_local_time_across_the_autumn_clock_change() -> None:
    windows = [SUNDAY_NIGHTS]
    # 2024-10-27: clocks go back at 03:00 CEST to 02:00 CET. The window opens at the first 02:00
    # (00:00 UTC) and lasts two real hours, so it is open in the repeated 02:30 and closed at 04:01.
    assert active_window(windows, DB, local(2024, 10, 27, 2, 30), AMSTERDAM)
    assert active_window(windows, DB, local(2024, 10, 27, 2, 30, fold=1), AMSTERDAM)
    assert active_window(windows, DB, local(2024, 10, 27, 4, 1), AMSTERDAM) is None
    assert active_window(windows, DB, local(2024, 10, 28, 2, 30), AMSTERDAM) is None
    # A week later (CET) the window is at 02:00 local again, an hour later in UTC than in summer.
    assert active_window(windows, DB, datetime(2024, 11, 3, 0, 30, tzinfo=UTC), AMSTERDAM) is None
    assert active_window(windows, DB, datetime(2024, 11, 3, 1, 30, tzinfo=UTC), AMSTERDAM)


def test_a_window_starting_in_the_spring_gap_opens_when_the_clock_jumps() -> None:
    windows = [SUNDAY_NIGHTS]
    # 2024-03-31: 02:00 CET jumps to 03:00 CEST, so 02:00 never happens; the window opens at 03:00.
    assert active_window(windows, DB, local(2024, 3, 31, 3, 30), AMSTERDAM)
    assert active_window(windows, DB, local(2024, 3, 31, 4, 59), AMSTERDAM)
    assert active_window(windows, DB, local(2024, 3, 31, 5, 1), AMSTERDAM) is None


def test_a_window_mutes_only_the_alerts_it_matches() -> None:
    backend = MaintenanceWindow.model_validate(
        {"schedule": "weekly on sunday at 02:00", "duration": "2h", "match": {"service": "backend"}}
    )
    sunday = local(2024, 5, 5, 2, 30)
    assert active_window([backend], DB, sunday, AMSTERDAM) == backend
    assert active_window([backend], WEB, sunday, AMSTERDAM) is None


def test_marking_results_ignores_a_windows_severity_matcher() -> None:
    window = MaintenanceWindow.model_validate(
        {
            "schedule": "weekly on sunday at 02:00",
            "duration": "2h",
            "match": {"severity": "warning", "service": "backend"},
        }
    )
    sunday = local(2024, 5, 5, 2, 30)
    assert window_for_check([window], "db", "backend", ["x"], "postgres", sunday, AMSTERDAM)
    assert window_for_check([window], "web", "frontend", [], "http", sunday, AMSTERDAM) is None
    monday = local(2024, 5, 6, 2, 30)
    assert window_for_check([window], "db", "backend", [], "postgres", monday, AMSTERDAM) is None


DEFAULT_RULES = AlertingConfig().inhibit


def test_a_firing_critical_mutes_a_warning_of_the_same_service() -> None:
    assert inhibited(DB, [API, DB], DEFAULT_RULES) == DEFAULT_RULES[0]


def test_a_firing_critical_does_not_mute_a_warning_of_another_service() -> None:
    assert inhibited(WEB, [API, WEB], DEFAULT_RULES) is None


def test_a_critical_does_not_mute_other_criticals() -> None:
    db_critical = Labels("db", "backend", (), Severity.CRITICAL, "postgres")
    assert inhibited(db_critical, [API, db_critical], DEFAULT_RULES) is None


def test_an_alert_never_inhibits_itself() -> None:
    rule = InhibitRule.model_validate(
        {"source": {"severity": "critical"}, "target": {"service": "backend"}}
    )
    assert inhibited(API, [API], [rule]) is None
    assert inhibited(API_WARNING, [API], [rule]) is None
    assert inhibited(DB, [API], [rule]) == rule


def test_inhibition_needs_every_equal_label_to_be_equal() -> None:
    rule = InhibitRule.model_validate(
        {
            "source": {"severity": "critical"},
            "target": {"severity": "warning"},
            "equal": ["service", "kind"],
        }
    )
    db_http = Labels("db-admin", "backend", (), Severity.WARNING, "http")
    assert inhibited(db_http, [API], [rule]) == rule
    assert inhibited(DB, [API], [rule]) is None


def test_inhibition_with_no_equal_labels_mutes_across_services() -> None:
    rule = InhibitRule.model_validate(
        {"source": {"check": "api"}, "target": {"severity": "warning"}, "equal": []}
    )
    assert inhibited(WEB, [API], [rule]) == rule


def test_alerts_without_a_service_are_not_equal_to_each_other() -> None:
    lonely_critical = Labels("cron-a", None, (), Severity.CRITICAL, "command")
    lonely_warning = Labels("cron-b", None, (), Severity.WARNING, "command")
    assert inhibited(lonely_warning, [lonely_critical], DEFAULT_RULES) is None


def test_a_silence_ends_in_real_time_when_the_clock_goes_back() -> None:
    # Ends at 02:30 CEST (00:30 UTC); the repeated 02:10 CET an hour later is past it.
    s = silence(1, local(2024, 10, 27, 1, 0), local(2024, 10, 27, 2, 30), check=("db",))
    assert active_silence([s], DB, local(2024, 10, 27, 2, 10)) == s
    assert active_silence([s], DB, local(2024, 10, 27, 2, 10, fold=1)) is None
