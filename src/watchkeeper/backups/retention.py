"""Which backups to keep: borg's ``keep-*`` rules (hourly to yearly), as a pure function."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

NEWEST = "newest"
"""Why the newest backup is kept when no rule keeps it: it is never deleted."""


class Rule(StrEnum):
    """A period a backup is kept for, in the order the rules apply."""

    HOURLY = "hourly"
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    YEARLY = "yearly"


_PERIOD: dict[Rule, Callable[[datetime], tuple[int, ...]]] = {
    Rule.HOURLY: lambda t: (t.year, t.month, t.day, t.hour),
    Rule.DAILY: lambda t: (t.year, t.month, t.day),
    # ISO weeks run Monday to Sunday and belong to the ISO year, as borg's %G-%V.
    Rule.WEEKLY: lambda t: tuple(t.isocalendar())[:2],
    Rule.MONTHLY: lambda t: (t.year, t.month),
    Rule.YEARLY: lambda t: (t.year,),
}


@dataclass(frozen=True)
class Keep:
    """How many periods of each kind keep a backup; zero turns a rule off."""

    hourly: int = 0
    daily: int = 0
    weekly: int = 0
    monthly: int = 0
    yearly: int = 0

    def __post_init__(self) -> None:
        for field in fields(self):
            if getattr(self, field.name) < 0:
                raise ValueError(f"keep {field.name} must be 0 or more")

    def count(self, rule: Rule) -> int:
        """Given a rule, return how many backups it keeps."""
        count: int = getattr(self, rule.value)
        return count


def retained(stamps: Collection[datetime], keep: Keep, tz: ZoneInfo) -> dict[datetime, str]:
    """Given backup times, the rules and the timezone, return the times kept and why
    (e.g. "daily 3", "weekly 1 (oldest)"), newest first."""
    given = _by_instant(stamps)
    kept = _kept(sorted(given, reverse=True), keep, tz)
    return {given[instant]: reason for instant, reason in kept.items()}


def pruned(stamps: Collection[datetime], keep: Keep, tz: ZoneInfo) -> list[datetime]:
    """Given backup times, the rules and the timezone, return the times to delete, oldest first."""
    given = _by_instant(stamps)
    kept = _kept(sorted(given, reverse=True), keep, tz)
    return [given[instant] for instant in sorted(given.keys() - kept.keys())]


def _by_instant(stamps: Collection[datetime]) -> dict[datetime, datetime]:
    """Given aware times, return them keyed by their UTC instant."""
    if any(stamp.utcoffset() is None for stamp in stamps):
        raise ValueError("backup times must be timezone-aware")
    # Python compares times of one zone by wall clock, so the two 02:30s of a DST fall-back would
    # be one backup: work on UTC instants and hand back the times as given.
    return {stamp.astimezone(UTC): stamp for stamp in stamps}


def _kept(newest_first: list[datetime], keep: Keep, tz: ZoneInfo) -> dict[datetime, str]:
    """Given instants newest first, return those kept and why, newest first."""
    kept: dict[datetime, str] = {}
    for rule in Rule:
        _apply(rule, keep.count(rule), newest_first, tz, kept)
    if newest_first and newest_first[0] not in kept:
        kept[newest_first[0]] = NEWEST
    return {instant: kept[instant] for instant in newest_first if instant in kept}


def _apply(
    rule: Rule, count: int, newest_first: list[datetime], tz: ZoneInfo, kept: dict[datetime, str]
) -> None:
    """Keep the newest backup of each of the ``count`` most recent periods (borg's prune_split)."""
    if count == 0 or not newest_first:
        return
    period_of = _PERIOD[rule]
    last: tuple[int, ...] | None = None
    taken = 0
    for stamp in newest_first:
        period = period_of(stamp.astimezone(tz))
        if period == last:
            continue
        # A period whose newest backup an earlier rule kept is used up without counting (as in
        # borg), so `weekly: 4` after `daily: 7` adds four weeks beyond those the days reached.
        last = period
        if stamp not in kept:
            taken += 1
            kept[stamp] = f"{rule} {taken}"
            if taken == count:
                return
    oldest = newest_first[-1]
    if oldest not in kept:
        kept[oldest] = f"{rule} {taken + 1} (oldest)"
