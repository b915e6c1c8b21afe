"""Schedules as users write them: intervals (``30s``), cron (``0 9 * * 1-5``) and phrases from
maintenance guides (``monthly on the first monday at 11:00``), each saying when it next fires.
"""

from __future__ import annotations

import calendar
import dataclasses
import difflib
import hashlib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo

from croniter import CroniterBadDateError, CroniterError, croniter

from watchkeeper.config.units import DURATION_UNITS, UnitError, parse_duration

ACCEPTED = (
    "expected an interval (30s, 5m), cron (0 9 * * 1-5) or a phrase such as 'daily at 09:00', "
    "'weekly on monday at 10:00', 'monthly on the first monday at 11:00'"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UTC_ZONE = ZoneInfo("UTC")
_MICROSECOND = timedelta(microseconds=1)


class ScheduleError(ValueError):
    """A schedule that cannot be read; the message says what is accepted."""


class Schedule(Protocol):
    """Anything that can say when it next fires."""

    @property
    def text(self) -> str:
        """What the user wrote."""

    def next_after(self, after: datetime) -> datetime:
        """Given an aware moment, return the first fire time strictly after it, in UTC."""


def _utc(after: datetime) -> datetime:
    if after.utcoffset() is None:
        raise ValueError(f"next_after needs a timezone-aware datetime, got {after!r}")
    return after.astimezone(UTC)


@dataclass(frozen=True)
class IntervalSchedule:
    """Every ``seconds`` on the grid ``phase + k * seconds`` from the epoch (restart-proof)."""

    seconds: float
    phase: float = 0.0
    text: str = ""

    def __post_init__(self) -> None:
        if not math.isfinite(self.seconds) or round(self.seconds * 1_000_000) < 1:
            raise ScheduleError(f"bad interval {self.text or self.seconds!r}: must be more than 0s")

    def next_after(self, after: datetime) -> datetime:
        """Given an aware moment, return the next grid point strictly after it, in UTC."""
        # Integer microseconds keep the grid exact: float timestamps near 1.8e9 resolve only ~0.2µs,
        # enough to round a grid point onto `after` and break "strictly after".
        step = round(self.seconds * 1_000_000)
        phase = round(self.phase * 1_000_000)
        now = (_utc(after) - _EPOCH) // _MICROSECOND
        return _EPOCH + ((now - phase) // step + 1) * step * _MICROSECOND + phase * _MICROSECOND


_CRON_FIELDS = (
    ("minute", "0-59"),
    ("hour", "0-23"),
    ("day of month", "1-31 or L"),
    ("month", "1-12 or jan-dec"),
    ("day of week", "0-7 or sun-sat, with 1#1 for the first monday and L5 for the last friday"),
)


def _cron_problem(expression: str) -> str | None:
    """Given a cron expression, return why croniter rejects it, in words, or None if it is good."""
    fields = expression.split()
    if len(fields) != 5:
        return (
            f"expected five fields (minute hour day-of-month month day-of-week), got {len(fields)}"
        )
    for i, (name, allowed) in enumerate(_CRON_FIELDS):
        alone = ["*"] * 5
        alone[i] = fields[i]
        if not croniter.is_valid(" ".join(alone)):
            return f"{name} must be {allowed}"
    try:
        croniter(expression, _EPOCH).get_next(datetime)
    except CroniterBadDateError:
        return "it never fires (no month has that day)"
    except CroniterError as exc:
        return str(exc)
    return None


@dataclass(frozen=True)
class CronSchedule:
    """A five-field cron expression read in a timezone, DST-correct."""

    expression: str
    tz: ZoneInfo
    text: str = ""

    def __post_init__(self) -> None:
        problem = _cron_problem(self.expression)
        if problem:
            raise ScheduleError(f"bad cron {self.text or self.expression!r}: {problem}")

    def next_after(self, after: datetime) -> datetime:
        """Given an aware moment, return the next matching wall-clock time in ``tz``, in UTC."""
        hour_is_wildcard = self.expression.split()[1].startswith("*")
        times = croniter(self.expression, _utc(after).astimezone(self.tz))
        while True:
            fire: datetime = times.get_next(datetime)
            # When clocks go back, an hour of wall time repeats. As in cron, a job pinned to an hour
            # (a nightly backup) runs in the first pass only; an every-hour job runs in both.
            repeated = fire.fold == 1 and fire.replace(fold=0).utcoffset() != fire.utcoffset()
            if not repeated or hour_is_wildcard:
                return fire.astimezone(UTC)


_NUMBER_UNIT = re.compile(r"(?:every )?(\d+(?:\.\d+)?) ?(sec|second|min|minute|hr|hour|day|week)s?")
_EVERY_UNIT = re.compile(r"every (second|minute|hour)|hourly")


def _interval_seconds(text: str) -> float | None:
    """Given a lower-cased schedule, return its interval in seconds, or None if it is not one."""
    # Unit words map to the duration units by their first letter: sec -> s, min -> m, hr -> h.
    if m := _NUMBER_UNIT.fullmatch(text):
        return float(m[1]) * DURATION_UNITS[m[2][0]]
    if m := _EVERY_UNIT.fullmatch(text):
        return DURATION_UNITS[(m[1] or "hour")[0]]
    try:
        return parse_duration(text.removeprefix("every "))
    except UnitError:
        return None


def parse_interval(text: str) -> IntervalSchedule:
    """Given ``30s``, ``5m``, ``every 5 minutes`` or ``hourly``, return the interval schedule."""
    seconds = _interval_seconds(" ".join(text.lower().split()))
    if seconds is None:
        raise ScheduleError(
            f"bad interval {text!r}: expected e.g. 30s, 5m, 1h or 'every 5 minutes'"
        )
    return IntervalSchedule(seconds, text=text)


_DAYS = {name.lower(): i % 7 for i, name in enumerate(calendar.day_name, start=1)}
_DAYS |= {name[:3]: i for name, i in _DAYS.items()}
_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS |= {name[:3]: i for name, i in _MONTHS.items()}
_NTH = {"first": "#1", "second": "#2", "third": "#3", "fourth": "#4"}
_NTH |= {"1st": "#1", "2nd": "#2", "3rd": "#3", "4th": "#4", "last": "L"}
_QUARTER_MONTHS = "1,4,7,10"
_DAY_LIST = r"[a-z]+(?:(?:, | and )[a-z]+)*"
_TIME_24 = re.compile(r"(\d{1,2}):(\d\d)")
_TIME_12 = re.compile(r"(\d{1,2})(?::(\d\d))? ?([ap]m)")

# What to show when a phrase starts well but goes wrong.
_EXAMPLES = {
    "every": "'every 5 minutes', 'every day at 09:00' or 'every monday at 10:00'",
    "hourly": "'hourly' or 'hourly at :15'",
    "daily": "'daily at 09:00'",
    "weekdays": "'weekdays at 09:00'",
    "weekly": "'weekly on monday at 10:00' or 'weekly on monday, thursday at 10:00'",
    "monthly": "'monthly on the first monday at 11:00', 'monthly on the last friday at 16:00' "
    "or 'monthly on day 15 at 02:00'",
    "quarterly": "'quarterly on the first sunday at 01:00' or 'quarterly on day 1 at 06:00'",
    "yearly": "'yearly on january 1 at 00:00'",
    "annually": "'annually on january 1 at 00:00'",
}


def _day(name: str) -> int:
    day = _DAYS.get(name, _DAYS.get(name.removesuffix("s")))
    if day is None:
        raise ScheduleError(f"unknown day {name!r}: expected monday..sunday or mon..sun")
    return day


def _days(names: str) -> str:
    return ",".join(str(d) for d in sorted({_day(n) for n in re.split(", | and ", names)}))


def _day_of_month(text: str) -> int:
    day = int(text)
    if not 1 <= day <= 31:
        raise ScheduleError(f"day {day} is not a day of the month (1-31)")
    return day


def _date(month_name: str, day_text: str) -> str:
    month = _MONTHS.get(month_name)
    if month is None:
        raise ScheduleError(f"unknown month {month_name!r}: expected january..december or jan..dec")
    day = int(day_text)
    # 2000 is a leap year, so february 29 is allowed; it fires in leap years only.
    if not 1 <= day <= calendar.monthrange(2000, month)[1]:
        raise ScheduleError(f"{month_name} has no day {day}")
    return f"{day} {month} *"


def _months(period: str) -> str:
    return _QUARTER_MONTHS if period == "quarterly" else "*"


def _nth_weekday(nth: str, day: str) -> str:
    mark = _NTH.get(nth)
    if mark is None:
        raise ScheduleError(
            f"unknown position {nth!r}: expected first, second, third, fourth or last"
        )
    return f"L{_day(day)}" if mark == "L" else f"{_day(day)}{mark}"


# Each phrase body maps to the cron fields day-of-month, month and day-of-week.
_PHRASES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"daily|every day"), lambda m: "* * *"),
    (re.compile(r"weekdays|every weekday"), lambda m: "* * 1-5"),
    (re.compile(rf"(?:weekly on|every) ({_DAY_LIST})"), lambda m: f"* * {_days(m[1])}"),
    (re.compile(r"(monthly|quarterly) on the last day"), lambda m: f"L {_months(m[1])} *"),
    (
        re.compile(r"(monthly|quarterly) on the (\S+) ([a-z]+)"),
        lambda m: f"* {_months(m[1])} {_nth_weekday(m[2], m[3])}",
    ),
    (
        re.compile(r"(monthly|quarterly) on (?:day (\d+)|the (\d+)(?:st|nd|rd|th))"),
        lambda m: f"{_day_of_month(m[2] or m[3])} {_months(m[1])} *",
    ),
    (re.compile(r"(?:yearly|annually) on ([a-z]+) (\d+)"), lambda m: _date(m[1], m[2])),
]


def _time(text: str) -> tuple[int, int]:
    """Given ``09:00``, ``9am``, ``2:30pm`` or nothing (midnight), return (hour, minute)."""
    if not text:
        return 0, 0
    if m := _TIME_24.fullmatch(text):
        hour, minute = int(m[1]), int(m[2])
    elif (m := _TIME_12.fullmatch(text)) and 1 <= int(m[1]) <= 12:
        hour, minute = int(m[1]) % 12 + (12 if m[3] == "pm" else 0), int(m[2] or 0)
    else:
        hour = minute = -1
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ScheduleError(f"bad time {text!r}: expected HH:MM (24h), 9am or 2:30pm")
    return hour, minute


def _phrase_to_cron(text: str) -> str | None:
    """Given a normalised phrase, return its cron expression, or None if no phrase matches."""
    body, _, at = text.partition(" at ")
    if body == "hourly" and at:
        past = re.fullmatch(r":?(\d{1,2})", at)
        if not past or int(past[1]) > 59:
            raise ScheduleError(
                f"bad minute {at!r}: 'hourly at' takes minutes past the hour, e.g. :15"
            )
        return f"{int(past[1])} * * * *"
    for pattern, fields in _PHRASES:
        if phrase := pattern.fullmatch(body):
            hour, minute = _time(at)
            return f"{minute} {hour} {fields(phrase)}"
    return None


# Cached: schedules are immutable, and maintenance windows and digests are matched on hot paths.
@lru_cache(maxsize=1024)
def parse_schedule(text: str, tz: ZoneInfo = _UTC_ZONE) -> Schedule:
    """Given an interval, cron line or phrase and the timezone it means, return its schedule."""
    clean = " ".join(text.split())
    lower = re.sub(r" ?, ?", ", ", clean.lower())
    if not clean:
        raise ScheduleError(f"empty schedule: {ACCEPTED}")
    if (seconds := _interval_seconds(lower)) is not None:
        return IntervalSchedule(seconds, text=text)
    if clean[0].isdigit() or clean[0] == "*":
        fields = clean.split()
        # croniter spells "last friday" L5; Quartz and many guides write 5L.
        fields[-1] = re.sub(r"(?i)^(\d)L$", r"L\1", fields[-1])
        return CronSchedule(" ".join(fields), tz, text)
    try:
        expression = _phrase_to_cron(lower)
    except ScheduleError as exc:
        raise ScheduleError(f"bad schedule {text!r}: {exc}") from None
    if expression is not None:
        return CronSchedule(expression, tz, text)
    head = lower.split()[0]
    if head in _EXAMPLES:
        raise ScheduleError(f"bad schedule {text!r}: expected e.g. {_EXAMPLES[head]}")
    guess = difflib.get_close_matches(head, _EXAMPLES, n=1)
    hint = f" (did you mean {guess[0]!r}?)" if guess else ""
    raise ScheduleError(f"unknown schedule {text!r}: {ACCEPTED}{hint}")


def to_cron(text: str) -> str | None:
    """Given a schedule as written, return the cron it stands for (None for intervals)."""
    schedule = parse_schedule(text)
    return schedule.expression if isinstance(schedule, CronSchedule) else None


def spread(schedule: Schedule, key: str) -> Schedule:
    """Given a schedule and a stable key, return it phased by the key (cron unchanged)."""
    if not isinstance(schedule, IntervalSchedule):
        return schedule
    # sha256, not hash(): the phase must survive restarts and agree between workers.
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
    return dataclasses.replace(
        schedule, phase=digest % round(schedule.seconds * 1_000_000) / 1_000_000
    )
