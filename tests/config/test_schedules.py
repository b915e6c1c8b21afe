"""Schedules: intervals, cron and maintenance-guide phrases, pinned to real calendar dates."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from watchkeeper.config.schedules import (
    CronSchedule,
    IntervalSchedule,
    Schedule,
    ScheduleError,
    parse_interval,
    parse_schedule,
    spread,
    to_cron,
)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
NEW_YORK = ZoneInfo("America/New_York")
SUNDAY_2026_11_22 = datetime(2026, 11, 22, tzinfo=UTC)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def phase_of(schedule: Schedule) -> float:
    assert isinstance(schedule, IntervalSchedule)
    return schedule.phase


def fires(schedule: Schedule, after: datetime, count: int) -> list[datetime]:
    """The next ``count`` fire times after ``after``, each fed back in as the scheduler would."""
    times = []
    for _ in range(count):
        after = schedule.next_after(after)
        times.append(after)
    return times


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("monthly on the first monday at 11:00", [utc(2026, 12, 7, 11), utc(2027, 1, 4, 11)]),
        ("monthly on the second sunday at 02:00", [utc(2026, 12, 13, 2), utc(2027, 1, 10, 2)]),
        ("monthly on the third wednesday at 09:30", [utc(2026, 12, 16, 9, 30)]),
        ("monthly on the fourth friday at 08:00", [utc(2026, 11, 27, 8), utc(2026, 12, 25, 8)]),
        ("monthly on the last friday at 16:00", [utc(2026, 11, 27, 16), utc(2026, 12, 25, 16)]),
        ("monthly on the last sunday at 03:00", [utc(2026, 11, 29, 3), utc(2026, 12, 27, 3)]),
        ("monthly on day 15 at 02:00", [utc(2026, 12, 15, 2), utc(2027, 1, 15, 2)]),
        ("monthly on the 1st at 00:00", [utc(2026, 12, 1), utc(2027, 1, 1)]),
        ("monthly on the last day at 23:00", [utc(2026, 11, 30, 23), utc(2026, 12, 31, 23)]),
        ("quarterly on the first sunday at 01:00", [utc(2027, 1, 3, 1), utc(2027, 4, 4, 1)]),
        ("quarterly on day 1 at 06:00", [utc(2027, 1, 1, 6), utc(2027, 4, 1, 6)]),
        ("yearly on january 1 at 00:00", [utc(2027, 1, 1), utc(2028, 1, 1)]),
        ("yearly on feb 29", [utc(2028, 2, 29), utc(2032, 2, 29)]),
        ("weekly on monday at 10:00", [utc(2026, 11, 23, 10), utc(2026, 11, 30, 10)]),
        ("weekly on monday, thursday at 10:00", [utc(2026, 11, 23, 10), utc(2026, 11, 26, 10)]),
        ("weekly on sunday at 02:00", [utc(2026, 11, 22, 2), utc(2026, 11, 29, 2)]),
        ("weekdays at 09:00", [utc(2026, 11, 23, 9), utc(2026, 11, 24, 9)]),
        ("daily at 09:00", [utc(2026, 11, 22, 9), utc(2026, 11, 23, 9)]),
        ("hourly at :15", [utc(2026, 11, 22, 0, 15), utc(2026, 11, 22, 1, 15)]),
        ("0 11 * * 1#1", [utc(2026, 12, 7, 11)]),
        ("0 16 * * 5L", [utc(2026, 11, 27, 16), utc(2026, 12, 25, 16)]),
    ],
)
def test_phrases_and_cron_fire_on_real_calendar_dates(text: str, expected: list[datetime]) -> None:
    assert fires(parse_schedule(text), SUNDAY_2026_11_22, len(expected)) == expected


def test_weekdays_skip_from_friday_to_monday() -> None:
    friday_nine = utc(2026, 11, 27, 9)
    assert parse_schedule("weekdays at 09:00").next_after(friday_nine) == utc(2026, 11, 30, 9)


def test_a_fire_time_is_strictly_after_the_given_moment() -> None:
    schedule = parse_schedule("monthly on the first monday at 11:00")
    assert schedule.next_after(utc(2026, 12, 7, 11)) == utc(2027, 1, 4, 11)
    just_before = utc(2026, 12, 7, 11) - timedelta(microseconds=1)
    assert schedule.next_after(just_before) == utc(2026, 12, 7, 11)


def test_next_after_accepts_any_timezone_and_answers_in_utc() -> None:
    schedule = parse_schedule("daily at 09:00", AMSTERDAM)
    after = datetime(2026, 11, 22, 8, 0, tzinfo=NEW_YORK)  # 14:00 in Amsterdam
    fire = schedule.next_after(after)
    assert fire == utc(2026, 11, 23, 8)
    assert fire.tzinfo is UTC


def test_next_after_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_schedule("daily at 09:00").next_after(datetime(2026, 11, 22))


def test_daily_at_nine_in_amsterdam_keeps_local_time_across_spring_dst() -> None:
    schedule = parse_schedule("daily at 09:00", AMSTERDAM)
    assert fires(schedule, utc(2026, 3, 27, 12), 3) == [
        utc(2026, 3, 28, 8),  # CET, UTC+1
        utc(2026, 3, 29, 7),  # CEST from 2026-03-29, UTC+2
        utc(2026, 3, 30, 7),
    ]


def test_a_time_skipped_by_spring_dst_runs_when_the_clock_resumes() -> None:
    # On 2026-03-29 Amsterdam jumps from 02:00 to 03:00, so 02:30 does not exist that day.
    schedule = parse_schedule("daily at 02:30", AMSTERDAM)
    assert fires(schedule, utc(2026, 3, 28, 12), 2) == [
        utc(2026, 3, 29, 1),
        utc(2026, 3, 30, 0, 30),
    ]


def test_a_pinned_time_in_the_repeated_autumn_hour_runs_once() -> None:
    # On 2026-10-25 Amsterdam goes from 03:00 CEST back to 02:00 CET, so 02:30 happens twice.
    schedule = parse_schedule("daily at 02:30", AMSTERDAM)
    assert fires(schedule, utc(2026, 10, 24, 12), 2) == [
        utc(2026, 10, 25, 0, 30),
        utc(2026, 10, 26, 1, 30),
    ]
    second_pass = datetime(2026, 10, 25, 2, 10, fold=1, tzinfo=AMSTERDAM)
    assert schedule.next_after(second_pass) == utc(2026, 10, 26, 1, 30)


def test_an_every_hour_cron_keeps_running_through_the_repeated_autumn_hour() -> None:
    schedule = parse_schedule("*/30 * * * *", AMSTERDAM)
    assert fires(schedule, utc(2026, 10, 24, 23, 50), 5) == [
        utc(2026, 10, 25, 0, 0),  # 02:00 CEST
        utc(2026, 10, 25, 0, 30),  # 02:30 CEST
        utc(2026, 10, 25, 1, 0),  # 02:00 CET
        utc(2026, 10, 25, 1, 30),  # 02:30 CET
        utc(2026, 10, 25, 2, 0),  # 03:00 CET
    ]


def test_weekly_schedule_in_new_york_follows_us_dst() -> None:
    schedule = parse_schedule("weekly on monday at 10:00", NEW_YORK)
    # US clocks go back on 2026-11-01: 10:00 EDT is 14:00 UTC, 10:00 EST is 15:00 UTC.
    assert fires(schedule, utc(2026, 10, 25), 2) == [utc(2026, 10, 26, 14), utc(2026, 11, 2, 15)]


@pytest.mark.parametrize(
    ("text", "cron"),
    [
        ("daily at 09:00", "0 9 * * *"),
        ("every day at 9:00", "0 9 * * *"),
        ("daily", "0 0 * * *"),
        ("  DAILY   at   9am ", "0 9 * * *"),
        ("daily at 2:30pm", "30 14 * * *"),
        ("daily at 12am", "0 0 * * *"),
        ("daily at 12pm", "0 12 * * *"),
        ("weekdays at 09:00", "0 9 * * 1-5"),
        ("every weekday at 07:45", "45 7 * * 1-5"),
        ("hourly at :15", "15 * * * *"),
        ("weekly on monday at 10:00", "0 10 * * 1"),
        ("weekly on mondays at 10:00", "0 10 * * 1"),
        ("Weekly on Mon, Thu at 10:00", "0 10 * * 1,4"),
        ("weekly on thursday,monday at 10:00", "0 10 * * 1,4"),
        ("weekly on monday and friday at 10:00", "0 10 * * 1,5"),
        ("weekly on sunday at 02:00", "0 2 * * 0"),
        ("every friday at 17:00", "0 17 * * 5"),
        ("monthly on the first monday at 11:00", "0 11 * * 1#1"),
        ("monthly on the second sunday at 02:00", "0 2 * * 0#2"),
        ("monthly on the third tue at 02:00", "0 2 * * 2#3"),
        ("monthly on the fourth saturday at 02:00", "0 2 * * 6#4"),
        ("monthly on the 2nd monday at 02:00", "0 2 * * 1#2"),
        ("monthly on the last friday at 16:00", "0 16 * * L5"),
        ("monthly on day 15 at 02:00", "0 2 15 * *"),
        ("monthly on the 1st at 00:00", "0 0 1 * *"),
        ("monthly on the last day at 23:00", "0 23 L * *"),
        ("quarterly on the first sunday at 01:00", "0 1 * 1,4,7,10 0#1"),
        ("quarterly on day 1 at 06:00", "0 6 1 1,4,7,10 *"),
        ("yearly on january 1 at 00:00", "0 0 1 1 *"),
        ("annually on dec 24 at 18:00", "0 18 24 12 *"),
        ("0 9 * * 1-5", "0 9 * * 1-5"),
        ("0   9 * *  mon-fri", "0 9 * * mon-fri"),
        ("0 16 * * 5L", "0 16 * * L5"),
    ],
)
def test_phrases_stand_for_cron_expressions(text: str, cron: str) -> None:
    assert to_cron(text) == cron


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("5m", 300),
        ("1h", 3600),
        ("1h30m", 5400),
        ("500ms", 0.5),
        ("every 30s", 30),
        ("every 5 minutes", 300),
        ("Every 2 Hours", 7200),
        ("every 1 min", 60),
        ("every 10 seconds", 10),
        ("every hour", 3600),
        ("every minute", 60),
        ("hourly", 3600),
        ("every 2 days", 172800),
    ],
)
def test_intervals_are_read_in_seconds(text: str, seconds: float) -> None:
    schedule = parse_schedule(text)
    assert schedule == IntervalSchedule(seconds, text=text)
    assert parse_interval(text) == schedule
    assert to_cron(text) is None


def test_an_interval_fires_on_its_phase_grid() -> None:
    schedule = IntervalSchedule(60, phase=17.25)
    assert fires(schedule, utc(2026, 11, 22, 12, 0, 30), 3) == [
        utc(2026, 11, 22, 12, 1, 17) + timedelta(milliseconds=250),
        utc(2026, 11, 22, 12, 2, 17) + timedelta(milliseconds=250),
        utc(2026, 11, 22, 12, 3, 17) + timedelta(milliseconds=250),
    ]


def test_an_interval_ignores_when_it_was_asked_so_restarts_do_not_shift_runs() -> None:
    schedule = IntervalSchedule(300, phase=42)
    moments = [utc(2026, 11, 22, 12, 0, 43), utc(2026, 11, 22, 12, 4, 59)]
    assert {schedule.next_after(m) for m in moments} == {utc(2026, 11, 22, 12, 5, 42)}


def test_an_interval_on_its_grid_point_fires_one_period_later() -> None:
    schedule = IntervalSchedule(0.1, phase=0.03)
    on_grid = utc(2026, 11, 22, 12) + timedelta(milliseconds=30)
    assert schedule.next_after(on_grid) == on_grid + timedelta(milliseconds=100)
    assert schedule.next_after(on_grid - timedelta(microseconds=1)) == on_grid


def test_an_interval_answers_in_utc_for_an_input_in_another_zone() -> None:
    fire = IntervalSchedule(3600).next_after(datetime(2026, 11, 22, 9, 30, tzinfo=AMSTERDAM))
    assert fire == utc(2026, 11, 22, 9)
    assert fire.tzinfo is UTC


def test_spread_gives_each_key_a_stable_phase_within_the_interval() -> None:
    every_minute = parse_schedule("60s")
    phases = {key: phase_of(spread(every_minute, key)) for key in ("web", "db", "disk", "cert")}
    assert all(0 <= phase < 60 for phase in phases.values())
    assert len(set(phases.values())) == 4
    assert phases == {key: phase_of(spread(every_minute, key)) for key in phases}
    assert spread(every_minute, "web").text == "60s"


def test_spread_is_the_same_in_another_process() -> None:
    here = spread(IntervalSchedule(60), "homepage")
    code = (
        "from watchkeeper.config.schedules import IntervalSchedule, spread;"
        "print(repr(spread(IntervalSchedule(60), 'homepage').phase))"
    )
    there = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONHASHSEED": "12345"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert float(there.stdout) == phase_of(here)


def test_spread_puts_a_thousand_checks_across_the_minute_without_a_burst() -> None:
    every_minute = IntervalSchedule(60)
    start = utc(2026, 11, 22, 12)
    seconds = Counter(
        spread(every_minute, f"check-{i}").next_after(start).second for i in range(1000)
    )
    assert len(seconds) == 60  # every second of the minute has some checks
    assert max(seconds.values()) <= 30  # no second carries more than 3% of them


def test_spread_leaves_cron_schedules_alone() -> None:
    cron = parse_schedule("daily at 09:00", AMSTERDAM)
    assert spread(cron, "backup") is cron


def test_a_cron_schedule_keeps_timezone_and_text() -> None:
    schedule = parse_schedule("weekly on Monday at 10:00", AMSTERDAM)
    assert schedule == CronSchedule("0 10 * * 1", AMSTERDAM, "weekly on Monday at 10:00")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("61 * * * *", "bad cron '61 * * * *': minute must be 0-59"),
        ("0 24 * * *", "bad cron '0 24 * * *': hour must be 0-23"),
        ("0 0 0 * *", "bad cron '0 0 0 * *': day of month must be 1-31"),
        ("0 0 1 13 *", "bad cron '0 0 1 13 *': month must be 1-12"),
        ("0 0 * * 8", "bad cron '0 0 * * 8': day of week must be 0-7"),
        ("0 11 * * 1#6", "bad cron '0 11 * * 1#6': day of week must be 0-7"),
        ("0 9 * *", "bad cron '0 9 * *': expected five fields"),
        (
            "0 0 9 * * 1-5",
            "expected five fields (minute hour day-of-month month day-of-week), got 6",
        ),
        ("0 0 30 2 *", "bad cron '0 0 30 2 *': it never fires"),
        ("daily at 25:00", "bad schedule 'daily at 25:00': bad time '25:00': expected HH:MM"),
        ("daily at 9:75", "bad time '9:75'"),
        ("daily at 13pm", "bad time '13pm'"),
        ("weekly on funday at 10:00", "unknown day 'funday': expected monday..sunday"),
        ("monthly on the fifth monday", "unknown position 'fifth'"),
        ("monthly on day 32", "day 32 is not a day of the month"),
        ("yearly on february 30", "february has no day 30"),
        ("yearly on smarch 1", "unknown month 'smarch'"),
        ("hourly at 09:15", "'hourly at' takes minutes past the hour"),
        ("weekly", "bad schedule 'weekly': expected e.g. 'weekly on monday at 10:00'"),
        ("monthly at 11:00", "expected e.g. 'monthly on the first monday at 11:00'"),
        ("0s", "bad interval '0s': must be more than 0s"),
        ("every 0 minutes", "must be more than 0s"),
        ("", "empty schedule: expected an interval"),
        ("   ", "empty schedule"),
    ],
)
def test_unreadable_schedules_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=re.escape(message)):
        parse_schedule(text)


def test_a_misspelt_phrase_lists_accepted_forms_and_suggests_the_word() -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_schedule("dialy at 9")
    assert str(caught.value) == (
        "unknown schedule 'dialy at 9': expected an interval (30s, 5m), cron (0 9 * * 1-5) or a "
        "phrase such as 'daily at 09:00', 'weekly on monday at 10:00', "
        "'monthly on the first monday at 11:00' (did you mean 'daily'?)"
    )


def test_an_unknown_word_gets_no_suggestion_when_nothing_is_close() -> None:
    with pytest.raises(ScheduleError, match=r"unknown schedule 'fortnightly'.*11:00'$"):
        parse_schedule("fortnightly")


@pytest.mark.parametrize("text", ["", "daily at 09:00", "sometimes"])
def test_parse_interval_rejects_anything_but_an_interval(text: str) -> None:
    with pytest.raises(ScheduleError, match=r"bad interval .*: expected e\.g\. 30s, 5m"):
        parse_interval(text)


def test_a_cron_schedule_built_directly_is_validated_too() -> None:
    with pytest.raises(ScheduleError, match="minute must be 0-59"):
        CronSchedule("75 * * * *", AMSTERDAM)
