"""Error patterns: error events grouped by fingerprint, counted over a window, flagged as the
maintenance guide's daily error review does (recurring, new, bursts), totalled over all kinds,
and clustered in time.

Pure functions over plain data: the caller passes the events and ``now`` (timezone-aware).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from watchkeeper.analytics.fingerprints import Fingerprint, fingerprint, redact_tokens
from watchkeeper.analytics.series import aware

EXAMPLE_CHARS = 300
"""An example message is cut here after masking, as the log probe cuts its examples."""


class ErrorLevel(StrEnum):
    """How severe an error event is, least severe first (Sentry's ``fatal`` is ``critical``)."""

    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"


_LEVEL_RANK = {level: rank for rank, level in enumerate(ErrorLevel)}


class PatternVerdict(StrEnum):
    """What an error pattern, or all errors together, ask of the team, mildest first."""

    NONE = "none"
    INVESTIGATE = "investigate"
    ESCALATE = "escalate"
    CRITICAL = "critical"


_VERDICT_RANK = {verdict: rank for rank, verdict in enumerate(PatternVerdict)}


class Trigger(StrEnum):
    """A rule of the guide that an error pattern or all errors together meet; each implies a verdict.

    OVER_TARGET applies to all errors together only; the others to a kind, BURST and FLOOD to both.
    """

    RECURRING = "recurring"
    NEW = "new"
    REPEATED = "repeated"
    BURST = "burst"
    NEW_CRITICAL = "new_critical"
    FLOOD = "flood"
    OVER_TARGET = "over_target"


TRIGGER_VERDICTS: dict[Trigger, PatternVerdict] = {
    Trigger.RECURRING: PatternVerdict.INVESTIGATE,
    Trigger.NEW: PatternVerdict.INVESTIGATE,
    Trigger.REPEATED: PatternVerdict.ESCALATE,
    Trigger.BURST: PatternVerdict.ESCALATE,
    Trigger.NEW_CRITICAL: PatternVerdict.ESCALATE,
    Trigger.FLOOD: PatternVerdict.CRITICAL,
    Trigger.OVER_TARGET: PatternVerdict.INVESTIGATE,
}
"""The verdict each trigger implies; a pattern's verdict is the gravest of its triggers'."""


@dataclass(frozen=True, slots=True)
class ErrorEvent:
    """One error: when, what, how severe, where from (source, tags) and, if known, its stack
    (frames outermost first, as Python prints them: the last is where the error was raised).

    ``time`` must be timezone-aware.
    """

    time: dt.datetime
    message: str
    level: ErrorLevel = ErrorLevel.ERROR
    source: str = ""
    tags: tuple[tuple[str, str], ...] = ()
    stack: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.time.utcoffset() is None:
            raise ValueError(f"error event time {self.time.isoformat()} has no timezone")


@dataclass(frozen=True, slots=True)
class PatternRules:
    """Thresholds of the error review within the window (defaults: 003's guide): per fingerprint,
    and for ``burst_over``, ``critical_over`` and ``target_under`` over all errors together too."""

    recurring_over: int = 5
    escalate_over: int = 10
    burst_over: int = 20
    burst_span: dt.timedelta = dt.timedelta(hours=1)
    critical_over: int = 50
    critical_level: ErrorLevel = ErrorLevel.CRITICAL
    target_under: int = 10

    def __post_init__(self) -> None:
        if self.burst_span <= dt.timedelta(0):
            raise ValueError("burst_span must be positive")


DEFAULT_RULES = PatternRules()


@dataclass(frozen=True, slots=True)
class ErrorPattern:
    """One kind of error over the window: how often, since when, an example, flags and verdict.

    ``first_seen`` is the earliest occurrence in the whole history passed in, ``last_seen`` the
    latest up to ``now``; ``peak`` is the most occurrences within any ``burst_span``.
    """

    fingerprint: Fingerprint
    count: int
    first_seen: dt.datetime
    last_seen: dt.datetime
    example: str
    level: ErrorLevel
    sources: tuple[str, ...]
    peak: int
    recurring: bool
    new: bool
    burst: bool
    triggers: tuple[Trigger, ...]
    verdict: PatternVerdict


@dataclass(frozen=True, slots=True)
class Overall:
    """All errors over the window together: how many, of how many kinds, the most within any
    ``burst_span`` (``peak``), and the triggers and verdict those totals meet."""

    count: int
    kinds: int
    peak: int
    triggers: tuple[Trigger, ...]
    verdict: PatternVerdict


@dataclass(frozen=True, slots=True)
class Cluster:
    """A run of errors close together in time: its span, size, and the fingerprints in it (keys,
    most frequent first)."""

    start: dt.datetime
    end: dt.datetime
    count: int
    fingerprints: tuple[str, ...]


def fingerprint_of(event: ErrorEvent) -> Fingerprint:
    """Given an error event, return its fingerprint: that of its message, or, when it has a stack,
    that of ``"<last frame>: <message>"`` — the same error raised at another place is another kind,
    and the frame's line number is normalised away like any number, so a redeploy keeps the kind.
    """
    frames = [frame.strip() for frame in event.stack if frame.strip()]
    if not frames:
        return fingerprint(event.message)
    # The frame goes first so that cutting a long message never cuts the frame.
    return fingerprint(f"{frames[-1]}: {event.message}")


def patterns(
    events: Iterable[ErrorEvent],
    now: dt.datetime,
    window: dt.timedelta = dt.timedelta(hours=24),
    rules: PatternRules = DEFAULT_RULES,
) -> list[ErrorPattern]:
    """Given error events (the full history known, for telling new kinds from old), ``now`` and a
    window, return one pattern per fingerprint seen in ``(now - window, now]``, gravest first.

    Events after ``now`` are ignored. Triggers and verdicts, in the words of 003's guide ("Error
    Log Review" and the dashboard's escalation criteria), counted per fingerprint in the window:

    - RECURRING, count > ``recurring_over`` (5) → INVESTIGATE: "Errors appearing > 5 times in 24h
      require investigation".
    - NEW, first seen inside the window → INVESTIGATE: "Look for new error types".
    - REPEATED, count > ``escalate_over`` (10) → ESCALATE: "Recurring errors (same error > 10
      times in 24h)".
    - BURST, > ``burst_over`` (20) within any ``burst_span`` (1h) → ESCALATE: "Error count > 20
      in 1 hour".
    - NEW_CRITICAL, new and at ``critical_level`` or above → ESCALATE: "New critical error types".
    - FLOOD, count > ``critical_over`` (50) → CRITICAL: "Error count > 50 in last 24h" (listed
      beside "System status: critical" among the dashboard's escalation criteria).

    The guide counts its hourly and daily totals over all errors, which ``overall`` does; here
    they apply per kind too, to name the kind behind them.
    """
    start = _window_start(now, window)
    by_kind: dict[Fingerprint, list[ErrorEvent]] = {}
    for event in _in_order(e for e in events if e.time <= now):
        by_kind.setdefault(fingerprint_of(event), []).append(event)
    found = [
        _pattern(kind, history, start, rules)
        for kind, history in by_kind.items()
        if history[-1].time > start
    ]
    found.sort(key=lambda p: (-_VERDICT_RANK[p.verdict], -p.count, p.fingerprint.key))
    return found


def overall(
    events: Iterable[ErrorEvent],
    now: dt.datetime,
    window: dt.timedelta = dt.timedelta(hours=24),
    rules: PatternRules = DEFAULT_RULES,
) -> Overall:
    """Given error events and ``now``, return all errors of any kind in ``(now - window, now]``
    counted together, with the guide's verdict on the totals:

    - OVER_TARGET, count >= ``target_under`` (10) → INVESTIGATE: the daily checklist's "Error
      count (24h) < 10".
    - BURST, > ``burst_over`` (20) within any ``burst_span`` (1h) → ESCALATE: "Error count > 20
      in 1 hour".
    - FLOOD, count > ``critical_over`` (50) → CRITICAL: "Error count > 50 in last 24h".
    """
    start = _window_start(now, window)
    inside = [e for e in events if start < e.time <= now]
    peak = _peak(sorted(e.time for e in inside), rules.burst_span)
    met = {
        Trigger.OVER_TARGET: len(inside) >= rules.target_under,
        Trigger.BURST: peak > rules.burst_over,
        Trigger.FLOOD: len(inside) > rules.critical_over,
    }
    triggers = tuple(trigger for trigger, holds in met.items() if holds)
    return Overall(
        count=len(inside),
        kinds=len({fingerprint_of(e) for e in inside}),
        peak=peak,
        triggers=triggers,
        verdict=_gravest(triggers),
    )


def clusters(
    events: Iterable[ErrorEvent],
    gap: dt.timedelta = dt.timedelta(minutes=5),
    min_events: int = 10,
) -> list[Cluster]:
    """Given error events of any kinds, return their clusters in time order: maximal runs in which
    each event follows the one before by at most ``gap``, of at least ``min_events`` events — the
    signature of a cascading failure (the guide's "error clustering (multiple errors at same time)").
    """
    if gap < dt.timedelta(0):
        raise ValueError("gap must not be negative")
    if min_events < 1:
        raise ValueError("min_events must be at least 1")
    ordered = _in_order(events)
    runs: list[list[ErrorEvent]] = []
    for event in ordered:
        if runs and event.time - runs[-1][-1].time <= gap:
            runs[-1].append(event)
        else:
            runs.append([event])
    return [_cluster(run) for run in runs if len(run) >= min_events]


def _pattern(
    kind: Fingerprint, history: Sequence[ErrorEvent], start: dt.datetime, rules: PatternRules
) -> ErrorPattern:
    """Given a kind's events up to now in order, return its pattern over the window after start."""
    inside = [e for e in history if e.time > start]
    level = max((e.level for e in inside), key=_LEVEL_RANK.__getitem__)
    peak = _peak([e.time for e in inside], rules.burst_span)
    new = history[0].time > start
    met = {
        Trigger.RECURRING: len(inside) > rules.recurring_over,
        Trigger.NEW: new,
        Trigger.REPEATED: len(inside) > rules.escalate_over,
        Trigger.BURST: peak > rules.burst_over,
        Trigger.NEW_CRITICAL: new and _LEVEL_RANK[level] >= _LEVEL_RANK[rules.critical_level],
        Trigger.FLOOD: len(inside) > rules.critical_over,
    }
    triggers = tuple(trigger for trigger, holds in met.items() if holds)
    return ErrorPattern(
        fingerprint=kind,
        count=len(inside),
        first_seen=history[0].time,
        last_seen=history[-1].time,
        # The newest occurrence is the example, as in the log probe; masked like its examples.
        example=redact_tokens(inside[-1].message.strip())[:EXAMPLE_CHARS],
        level=level,
        sources=tuple(sorted({e.source for e in inside if e.source})),
        peak=peak,
        recurring=met[Trigger.RECURRING],
        new=new,
        burst=met[Trigger.BURST],
        triggers=triggers,
        verdict=_gravest(triggers),
    )


def _window_start(now: dt.datetime, window: dt.timedelta) -> dt.datetime:
    """Given an aware ``now`` and a positive window, return where the window starts."""
    aware(now)
    if window <= dt.timedelta(0):
        raise ValueError("window must be positive")
    return now - window


def _in_order(events: Iterable[ErrorEvent]) -> list[ErrorEvent]:
    """Given events, return them by time, then message: the one order whatever order they came in
    (ties of time and message differ in nothing a pattern or cluster reports)."""
    return sorted(events, key=lambda e: (e.time, e.message))


def _gravest(triggers: Iterable[Trigger]) -> PatternVerdict:
    """Given triggers met, return the gravest verdict they imply (NONE for none)."""
    return max(
        (TRIGGER_VERDICTS[t] for t in triggers),
        key=_VERDICT_RANK.__getitem__,
        default=PatternVerdict.NONE,
    )


def _peak(times: Sequence[dt.datetime], span: dt.timedelta) -> int:
    """Given times in order, return the most of them within any half-open interval ``span`` long."""
    peak = left = 0
    for right, moment in enumerate(times):
        while times[left] <= moment - span:
            left += 1
        peak = max(peak, right - left + 1)
    return peak


def _cluster(run: Sequence[ErrorEvent]) -> Cluster:
    """Given a run of events in time order, return it as a cluster."""
    kinds = Counter(fingerprint_of(e).key for e in run)
    return Cluster(
        start=run[0].time,
        end=run[-1].time,
        count=len(run),
        fingerprints=tuple(sorted(kinds, key=lambda key: (-kinds[key], key))),
    )
