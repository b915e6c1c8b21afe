"""Retention keeps what borg's keep-* rules keep: newest per period, rule after rule."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from watchkeeper.backups.retention import Keep, pruned, retained

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
ZONE_UTC = ZoneInfo("UTC")


def at(day: str, clock: str = "10:00", tz: ZoneInfo = ZONE_UTC) -> datetime:
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(clock), tzinfo=tz)


def test_borgs_prune_example_keeps_14_days_6_month_ends_and_the_oldest_for_the_year() -> None:
    # docs/misc/prune-example.txt: a backup every day of 2015 but 2015-12-19 (here two a day),
    # --keep-daily 14 --keep-monthly 6 --keep-yearly 1.
    days = [date(2015, 1, 1) + timedelta(days=n) for n in range(365)]
    stamps = [
        datetime.combine(day, time(hour), tzinfo=AMSTERDAM)
        for day in days
        if day != date(2015, 12, 19)
        for hour in (2, 14)
    ]

    kept = retained(stamps, Keep(daily=14, monthly=6, yearly=1), AMSTERDAM)

    daily = [f"2015-12-{d:02}" for d in (31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 18, 17)]
    monthly = ["2015-11-30", "2015-10-31", "2015-09-30", "2015-08-31", "2015-07-31", "2015-06-30"]
    assert kept == {
        **{at(day, "14:00", AMSTERDAM): f"daily {n}" for n, day in enumerate(daily, 1)},
        **{at(day, "14:00", AMSTERDAM): f"monthly {n}" for n, day in enumerate(monthly, 1)},
        # December 31st was kept daily and there is no earlier year: the oldest backup stays.
        at("2015-01-01", "02:00", AMSTERDAM): "yearly 1 (oldest)",
    }


BORG_TEST_ARCHIVES = {
    1: at("2015-01-01"),
    2: at("2016-01-01"),
    3: at("2017-01-01"),
    4: at("2017-02-01"),
    5: at("2017-03-01"),
    6: at("2017-03-02"),
    7: at("2017-03-03"),
    8: at("2017-03-04"),
    9: at("2017-10-01", "09:45"),
    10: at("2017-10-01", "09:55"),
    11: at("2017-10-01", "10:00:01"),
    12: at("2017-10-01", "10:00:03"),
    13: at("2017-10-01", "10:00:05"),
}


@pytest.mark.parametrize(
    ("keep", "expected_ids"),
    [
        (Keep(yearly=3), [13, 2, 1]),
        (Keep(monthly=3), [13, 8, 4]),
        (Keep(weekly=2), [13, 8]),
        (Keep(daily=3), [13, 8, 7]),
        (Keep(hourly=3), [13, 10, 8]),
    ],
)
def test_each_rule_keeps_the_newest_backup_of_its_most_recent_periods(
    keep: Keep, expected_ids: list[int]
) -> None:
    kept = retained(BORG_TEST_ARCHIVES.values(), keep, ZONE_UTC)

    assert list(kept) == [BORG_TEST_ARCHIVES[i] for i in expected_ids]


def test_the_oldest_backup_is_kept_when_a_rule_cannot_reach_its_count() -> None:
    oldest, interim, end_2018, end_2019 = (
        at("2018-01-01"),
        at("2018-12-30"),
        at("2018-12-31"),
        at("2019-12-31"),
    )
    stamps = [oldest, interim, end_2018, end_2019]

    assert retained(stamps, Keep(yearly=3), ZONE_UTC) == {
        end_2019: "yearly 1",
        end_2018: "yearly 2",
        oldest: "yearly 3 (oldest)",
    }
    assert retained(stamps, Keep(yearly=2), ZONE_UTC) == {
        end_2019: "yearly 1",
        end_2018: "yearly 2",
    }


def test_days_without_a_backup_do_not_count() -> None:
    stamps = [at("2024-05-01"), at("2024-05-02"), at("2024-05-05"), at("2024-05-10")]

    kept = retained(stamps, Keep(daily=3), ZONE_UTC)

    assert kept == {
        at("2024-05-10"): "daily 1",
        at("2024-05-05"): "daily 2",
        at("2024-05-02"): "daily 3",
    }
    assert pruned(stamps, Keep(daily=3), ZONE_UTC) == [at("2024-05-01")]


def test_each_day_keeps_its_newest_backup() -> None:
    stamps = [at("2024-05-01", "02:00"), at("2024-05-01", "23:59"), at("2024-05-02", "02:00")]

    assert pruned(stamps, Keep(daily=2), ZONE_UTC) == [at("2024-05-01", "02:00")]


def test_a_week_whose_newest_backup_was_kept_daily_is_used_up_without_counting() -> None:
    this_week = [at(f"2024-06-{d:02}") for d in range(10, 17)]  # Monday 10th to Sunday 16th
    week_before, two_weeks_before = at("2024-06-09"), at("2024-06-02")  # Sundays

    kept = retained([*this_week, week_before, two_weeks_before], Keep(daily=1, weekly=2), ZONE_UTC)

    # Saturday the 15th is not taken as this week's weekly backup: Sunday the 16th stands for it.
    assert kept == {
        at("2024-06-16"): "daily 1",
        week_before: "weekly 1",
        two_weeks_before: "weekly 2",
    }


def test_a_backup_kept_by_an_earlier_rule_does_not_count_toward_a_later_one() -> None:
    stamps = [at("2024-03-31"), at("2024-03-30"), at("2024-02-29"), at("2024-01-31")]

    kept = retained(stamps, Keep(daily=2, monthly=2), ZONE_UTC)

    assert kept == {
        at("2024-03-31"): "daily 1",
        at("2024-03-30"): "daily 2",
        at("2024-02-29"): "monthly 1",
        at("2024-01-31"): "monthly 2",
    }


def test_weeks_run_monday_to_sunday_across_the_turn_of_the_year() -> None:
    sunday, monday, thursday = at("2024-12-29"), at("2024-12-30"), at("2025-01-02")

    kept = retained([sunday, monday, thursday], Keep(weekly=2), ZONE_UTC)

    # Monday 30 December 2024 and Thursday 2 January 2025 are both in ISO week 2025-W01.
    assert kept == {thursday: "weekly 1", sunday: "weekly 2"}


def test_days_are_the_configured_timezones_days_across_spring_forward() -> None:
    # Amsterdam moves from 02:00 CET to 03:00 CEST on 31 March 2024.
    saturday, sunday, monday = (
        at(day, "01:30", AMSTERDAM) for day in ("2024-03-30", "2024-03-31", "2024-04-01")
    )
    assert sunday.astimezone(UTC).date() == monday.astimezone(UTC).date()  # 00:30Z and 23:30Z

    assert retained([saturday, sunday, monday], Keep(daily=3), AMSTERDAM) == {
        monday: "daily 1",
        sunday: "daily 2",
        saturday: "daily 3",
    }
    assert retained([saturday, sunday, monday], Keep(daily=3), ZONE_UTC) == {
        monday: "daily 1",
        saturday: "daily 2",
    }


def test_days_are_the_configured_timezones_days_across_fall_back() -> None:
    # Amsterdam moves from 03:00 CEST back to 02:00 CET on 27 October 2024.
    saturday, sunday, monday = (
        at(day, "01:30", AMSTERDAM) for day in ("2024-10-26", "2024-10-27", "2024-10-28")
    )

    assert retained([saturday, sunday, monday], Keep(daily=2), AMSTERDAM) == {
        monday: "daily 1",
        sunday: "daily 2",
    }


def test_the_repeated_hour_of_fall_back_is_one_hour() -> None:
    earlier = datetime(2024, 10, 27, 1, 30, tzinfo=AMSTERDAM)
    first = datetime(2024, 10, 27, 2, 30, tzinfo=AMSTERDAM)  # CEST, 00:30Z
    second = datetime(2024, 10, 27, 2, 30, fold=1, tzinfo=AMSTERDAM)  # CET, 01:30Z

    kept = retained([earlier, first, second], Keep(hourly=2), AMSTERDAM)

    # Both 02:30s compare equal as Amsterdam wall-clock times, so compare instants and folds.
    assert [(t.astimezone(UTC), reason) for t, reason in kept.items()] == [
        (datetime(2024, 10, 27, 1, 30, tzinfo=UTC), "hourly 1"),
        (datetime(2024, 10, 26, 23, 30, tzinfo=UTC), "hourly 2"),
    ]
    assert [
        t.astimezone(UTC) for t in pruned([earlier, first, second], Keep(hourly=2), AMSTERDAM)
    ] == [datetime(2024, 10, 27, 0, 30, tzinfo=UTC)]


def test_without_rules_only_the_newest_backup_is_kept() -> None:
    stamps = [at("2024-01-01"), at("2024-01-02"), at("2024-01-03")]

    assert retained(stamps, Keep(), ZONE_UTC) == {at("2024-01-03"): "newest"}
    assert pruned(stamps, Keep(), ZONE_UTC) == [at("2024-01-01"), at("2024-01-02")]


def test_no_backups_keep_nothing() -> None:
    assert retained([], Keep(daily=7), ZONE_UTC) == {}
    assert pruned([], Keep(daily=7), ZONE_UTC) == []


def test_the_same_instant_written_in_two_zones_is_one_backup() -> None:
    utc, local = at("2024-01-02", "09:00"), at("2024-01-02", "10:00", AMSTERDAM)

    assert retained([at("2024-01-01"), utc, local], Keep(daily=1), ZONE_UTC) == {utc: "daily 1"}


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        retained([datetime(2024, 1, 1)], Keep(daily=1), ZONE_UTC)


def test_negative_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="keep weekly must be 0 or more"):
        Keep(weekly=-1)


# The reference below is written apart from the module: it groups backups by period first and
# then takes periods newest first, where the module walks the backups once per rule.

REFERENCE_PERIODS: list[tuple[str, Callable[[Keep], int], str]] = [
    ("hourly", lambda k: k.hourly, "%Y-%m-%d %H"),
    ("daily", lambda k: k.daily, "%Y-%m-%d"),
    ("weekly", lambda k: k.weekly, "%G-%V"),
    ("monthly", lambda k: k.monthly, "%Y-%m"),
    ("yearly", lambda k: k.yearly, "%Y"),
]


def reference_retained(stamps: list[datetime], keep: Keep, tz: ZoneInfo) -> dict[datetime, str]:
    backups = set(stamps)
    if not backups:
        return {}
    kept: dict[datetime, str] = {}
    for name, count_of, pattern in REFERENCE_PERIODS:
        count = count_of(keep)
        if count == 0:
            continue
        newest_of_period: dict[str, datetime] = {}
        for stamp in backups:
            period = stamp.astimezone(tz).strftime(pattern)
            newest_of_period[period] = max(stamp, newest_of_period.get(period, stamp))
        # Periods already represented by an earlier rule are skipped but not counted.
        fresh = [s for s in sorted(newest_of_period.values(), reverse=True) if s not in kept]
        for n, stamp in enumerate(fresh[:count], 1):
            kept[stamp] = f"{name} {n}"
        if len(fresh) < count and min(backups) not in kept:
            kept[min(backups)] = f"{name} {len(fresh) + 1} (oldest)"
    kept.setdefault(max(backups), "newest")
    return kept


START = datetime(2023, 1, 1, tzinfo=UTC)


@st.composite
def backup_times(draw: st.DrawFn) -> list[datetime]:
    """Backups on up to 40 days of two years, one to three on each (so days repeat)."""
    stamps = []
    for day in draw(st.lists(st.integers(0, 730), max_size=40)):
        for second in draw(st.lists(st.integers(0, 86_399), min_size=1, max_size=3)):
            stamps.append(START + timedelta(days=day, seconds=second))
    return stamps


keeps = st.builds(
    Keep,
    hourly=st.integers(0, 4),
    daily=st.integers(0, 10),
    weekly=st.integers(0, 6),
    monthly=st.integers(0, 14),
    yearly=st.integers(0, 3),
)
zones = st.sampled_from(["UTC", "Europe/Amsterdam", "America/New_York", "Asia/Kolkata"]).map(
    ZoneInfo
)


@settings(derandomize=True, max_examples=300)
@given(stamps=backup_times(), keep=keeps, tz=zones)
def test_retention_keeps_exactly_what_the_rules_define(
    stamps: list[datetime], keep: Keep, tz: ZoneInfo
) -> None:
    kept = retained(stamps, keep, tz)

    assert kept == reference_retained(stamps, keep, tz)
    if stamps:
        assert max(stamps) in kept
    assert sorted(set(stamps) - kept.keys()) == pruned(stamps, keep, tz)
