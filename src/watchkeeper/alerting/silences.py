"""Quiet periods: silences, maintenance windows and inhibition, each saying what mutes an alert."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from watchkeeper.alerting.matching import matches
from watchkeeper.alerting.model import Labels, Severity
from watchkeeper.config.alerting import MATCH_KEYS, InhibitRule, MaintenanceWindow
from watchkeeper.config.schedules import parse_schedule

_KEYS = ", ".join(MATCH_KEYS)


LONGEST_SILENCE = timedelta(days=366)
"""A silence is a decision for a while, not forever: longer ones are refused."""


@dataclass(frozen=True)
class Silence:
    """A person's decision to mute matching alerts from ``starts_at`` until ``ends_at``."""

    id: int
    matchers: Mapping[str, tuple[str, ...]]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str


def active_silence(silences: Sequence[Silence], labels: Labels, now: datetime) -> Silence | None:
    """Given silences and an alert, return the silence muting it now (the longest-lasting), or None."""
    # In UTC, so that comparing with times in the same local zone is not done on the wall clock.
    now = now.astimezone(UTC)
    muting = (s for s in silences if s.starts_at <= now < s.ends_at and matches(s.matchers, labels))
    return max(muting, key=lambda s: s.ends_at, default=None)


def active_window(
    windows: Sequence[MaintenanceWindow], labels: Labels, now: datetime, tz: ZoneInfo
) -> MaintenanceWindow | None:
    """Given maintenance windows and an alert, return the first window open now that matches it."""
    return next((w for w in windows if matches(w.match, labels) and _open(w, now, tz)), None)


def window_for_check(
    windows: Sequence[MaintenanceWindow],
    check: str,
    service: str | None,
    tags: Iterable[str],
    kind: str,
    now: datetime,
    tz: ZoneInfo,
) -> MaintenanceWindow | None:
    """Given windows and a check, return the first window open now for it, to mark its results.

    A result has no alert severity yet, so a window's ``severity`` matcher is ignored here.
    """
    labels = Labels(check, service, tuple(tags), Severity.INFO, kind)
    return next(
        (
            w
            for w in windows
            if matches({k: v for k, v in w.match.items() if k != "severity"}, labels)
            and _open(w, now, tz)
        ),
        None,
    )


_BOUNDARIES: dict[tuple[str, float, str], tuple[datetime, datetime, bool]] = {}
"""Per window: (valid from, valid until, open): its state is the same until the next boundary."""


def _open(window: MaintenanceWindow, now: datetime, tz: ZoneInfo) -> bool:
    # Marking results asks this for every result, and a cron step costs ~100µs, while the answer
    # only changes when a window opens or closes: remember it until then.
    utc_now = now.astimezone(UTC)
    key = (window.schedule, window.duration, tz.key)
    known = _BOUNDARIES.get(key)
    if known is not None and known[0] <= utc_now < known[1]:
        return known[2]
    # The first fire strictly after (now - duration) is the earliest start whose window could still
    # cover now; if it has already happened, now lies inside that window. The sum is done in UTC:
    # arithmetic on a local time is wall-clock arithmetic, which is off by an hour across DST.
    length = timedelta(seconds=window.duration)
    start = parse_schedule(window.schedule, tz).next_after(utc_now - length)
    is_open = start <= utc_now
    if len(_BOUNDARIES) > 1024:
        _BOUNDARIES.clear()
    _BOUNDARIES[key] = (utc_now, start + length if is_open else start, is_open)
    return is_open


def inhibited(
    labels: Labels, firing: Sequence[Labels], rules: Sequence[InhibitRule]
) -> InhibitRule | None:
    """Given an alert, the alerts firing now and inhibit rules, return the rule muting it, or None.

    As in Alertmanager, a rule mutes an alert matching ``target`` while another check's alert matching
    ``source`` fires with equal values for every ``equal`` label. Unlike Alertmanager, a label neither
    alert has is not equal: the default rule must not let any critical mute every service-less warning.
    """
    for rule in rules:
        if not matches(rule.target, labels):
            continue
        for source in firing:
            if (
                source.check != labels.check
                and matches(rule.source, source)
                and all(_equal(source, labels, key) for key in rule.equal)
            ):
                return rule
    return None


def _equal(source: Labels, target: Labels, key: str) -> bool:
    return bool(source.values(key)) and source.values(key) == target.values(key)


def parse_silence_matchers(items: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Given ``["service=backend", "check=api-*"]``, return a matcher; a repeated key adds values.

    Raises ValueError for an item that is not ``key=value``, an unknown key, or no items at all
    (a silence must never mute everything by accident).
    """
    if not items:
        raise ValueError(f"a silence needs at least one matcher such as service=backend ({_KEYS})")
    matcher: dict[str, tuple[str, ...]] = {}
    for item in items:
        key, sep, value = (part.strip() for part in item.partition("="))
        if not sep or not key or not value:
            raise ValueError(f"bad matcher {item!r}: expected key=value, e.g. service=backend")
        if key not in MATCH_KEYS:
            raise ValueError(f"unknown matcher key {key!r} in {item!r}: use {_KEYS}")
        matcher[key] = (*matcher.get(key, ()), value)
    return matcher
