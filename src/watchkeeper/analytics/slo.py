"""Service level objectives over a rolling window: SLI, error budget, burn rate, burn-rate alerts.

The alerts are the Google SRE workbook's multiwindow, multi-burn-rate alerts ("Alerting on SLOs"):
a rule fires only while both its long window (the burn is significant) and its short window (the
burn is still going on) burn faster than its rate, and (against the workbook's low-traffic
caveat) only on enough bad events. Windows are ``(now - w, now]``, as in trends; ``now`` must be
timezone-aware (ValueError otherwise).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from itertools import accumulate

from watchkeeper.analytics.series import Point, aware
from watchkeeper.results import Status

Event = tuple[datetime, bool]
"""One event an objective counts: when, and whether it was good."""

WORKBOOK_WINDOW = timedelta(days=30)
"""The SLO window the workbook's rules were written for."""

GOOD_STATUSES = frozenset({Status.OK})
"""Good is ok, as the dashboard's uptime counts it (and rollups keep only "not ok"), so an SLO
agrees with the uptime shown beside it; slowness a warning flags is a latency SLO's business."""


class SloKind(StrEnum):
    """What an objective counts as a good event."""

    AVAILABILITY = "availability"
    """A result whose status is ok or warning."""
    LATENCY = "latency"
    """A result faster than a threshold: "p95 < 500ms" is 95% of results under 500 ms."""


class Severity(StrEnum):
    """How loudly a burn-rate alert asks for attention."""

    PAGE = "page"
    TICKET = "ticket"


@dataclass(frozen=True)
class Objective:
    """A target share of good events (0.999 = 99.9%) over a rolling window."""

    target: float
    window: timedelta = WORKBOOK_WINDOW
    kind: SloKind = SloKind.AVAILABILITY

    def __post_init__(self) -> None:
        if not 0 < self.target < 1:
            raise ValueError(
                f"an SLO target is a share strictly between 0 and 1, got {self.target}"
            )
        if self.window <= timedelta(0):
            raise ValueError(f"an SLO window must be positive, got {self.window}")

    @property
    def error_budget(self) -> float:
        """Return the share of events allowed to be bad: 1 - target."""
        return 1 - self.target


@dataclass(frozen=True)
class EventLog:
    """Events in time order with running counts of bad ones, so any window costs two bisections.

    Build it once with ``EventLog.of`` when evaluating the same events at many times.
    """

    times: tuple[datetime, ...]
    bad_before: tuple[int, ...]
    """``bad_before[i]``: how many of the first ``i`` events were bad."""

    @classmethod
    def of(cls, events: Iterable[Event]) -> EventLog:
        """Given events in any order, return them as a log."""
        ordered = sorted(events, key=lambda event: event[0])
        return cls(
            times=tuple(at for at, _ in ordered),
            bad_before=tuple(accumulate((not good for _, good in ordered), initial=0)),
        )

    def counts(self, since: datetime, until: datetime) -> tuple[int, int]:
        """Return how many events, and how many bad ones, fall in (since, until]."""
        low = bisect_right(self.times, since)
        high = bisect_right(self.times, until)
        return high - low, self.bad_before[high] - self.bad_before[low]


Events = EventLog | Iterable[Event]


@dataclass(frozen=True)
class BurnRule:
    """Fire when both windows burn the error budget faster than ``burn_rate`` times the allowed rate
    and the long window holds at least ``min_bad`` bad events.

    At burn rate 1 the budget lasts exactly the SLO window; ``burn_rate * long / window`` is the
    share of the budget the long window must have used before the rule fires. ``min_bad`` 1 is the
    workbook's arithmetic alone (a burn above the rate already means a bad event).
    """

    severity: Severity
    long: timedelta
    short: timedelta
    burn_rate: float
    min_bad: int = 1

    def __post_init__(self) -> None:
        if self.min_bad < 1:
            raise ValueError(f"min_bad must be at least 1, got {self.min_bad}")


PAGE_MIN_BAD = 2
"""Bad events a page needs in its long window. Below 1 / (14.4 x 0.1%) = 69 events an hour, one
failed probe alone burns past the fast page's rate at three nines (1 bad of 60 minute-level events
burns 16.7), and a single blip must not wake anyone; two is the least evidence that is not one,
and delays a real outage's page by one event. Tickets keep 1: a lone failure that overspends the
budget of a low-traffic service is still worth a ticket."""

WORKBOOK_RULES = (
    BurnRule(Severity.PAGE, timedelta(hours=1), timedelta(minutes=5), 14.4, PAGE_MIN_BAD),
    BurnRule(Severity.PAGE, timedelta(hours=6), timedelta(minutes=30), 6.0, PAGE_MIN_BAD),
    BurnRule(Severity.TICKET, timedelta(days=3), timedelta(hours=6), 1.0),
)
"""The workbook's rules for a 30-day window: 2% of the budget in 1 hour, 5% in 6 hours (page),
10% in 3 days (ticket); each short window is 1/12 of its long one. The pages also need
``PAGE_MIN_BAD`` bad events in their long window."""


@dataclass(frozen=True)
class BurnAlert:
    """A rule that fires, with the burn rates of its two windows and the long window's bad events."""

    rule: BurnRule
    long_burn: float
    short_burn: float
    long_bad: int

    @property
    def severity(self) -> Severity:
        """Return the rule's severity."""
        return self.rule.severity


@dataclass(frozen=True)
class SloStatus:
    """An objective evaluated at ``now``: events and bad events in its window, SLI, budget, alerts.

    ``sli`` and ``budget_remaining`` are None when the window holds no events.
    """

    objective: Objective
    now: datetime
    events: int
    bad: int
    sli: float | None
    budget_remaining: float | None
    alerts: tuple[BurnAlert, ...]

    @property
    def met(self) -> bool | None:
        """Return whether the SLI reaches the target; None without events."""
        return None if self.sli is None else self.sli >= self.objective.target


def availability_events(results: Iterable[tuple[datetime, Status]]) -> list[Event]:
    """Given (time, status) results, return events that are good when the status is ok."""
    return [(at, status in GOOD_STATUSES) for at, status in results]


def latency_events(points: Iterable[Point], threshold: float) -> list[Event]:
    """Given (time, latency) points, return events that are good when latency < threshold."""
    return [(at, value < threshold) for at, value in points]


def sli(objective: Objective, events: Events, now: datetime) -> float | None:
    """Given events, return the share of good ones over the objective's window; None when none."""
    aware(now)
    total, bad = _log(events).counts(now - objective.window, now)
    return None if total == 0 else (total - bad) / total


def burn_rate(
    objective: Objective, events: Events, now: datetime, lookback: timedelta
) -> float | None:
    """Given events, return the bad share over (now - lookback, now] / the error budget.

    1.0 spends the budget exactly over the window; None when the lookback holds no events.
    """
    aware(now)
    total, bad = _log(events).counts(now - lookback, now)
    return None if total == 0 else bad / total / objective.error_budget


def budget_remaining(objective: Objective, events: Events, now: datetime) -> float | None:
    """Given events, return the share of the window's error budget left (negative: overspent).

    Measured against the events seen so far: 1 - (bad share / error budget). None when none.
    """
    rate = burn_rate(objective, events, now, objective.window)
    return None if rate is None else 1 - rate


def rules_for(window: timedelta) -> tuple[BurnRule, ...]:
    """Return the workbook's rules scaled to an SLO window of any length.

    Every alert window is scaled by ``window / 30 days`` and the burn rates kept, so each rule
    still fires at the same share of the budget spent and the same time left before it runs out
    (a 7-day SLO's fast page looks over 14 minutes and 70 seconds). Probes must then run more
    often than the shortest window, or that window holds too few events to mean anything.
    """
    scale = window / WORKBOOK_WINDOW
    return tuple(
        replace(rule, long=rule.long * scale, short=rule.short * scale) for rule in WORKBOOK_RULES
    )


def burn_alerts(
    objective: Objective,
    events: Events,
    now: datetime,
    rules: Iterable[BurnRule] | None = None,
) -> list[BurnAlert]:
    """Given events, return the rules (default: ``rules_for(objective.window)``) firing at now.

    A rule fires when the burn rates over both its windows exceed its rate and its long window
    holds at least ``min_bad`` bad events; a window with no events does not burn.
    """
    aware(now)
    log = _log(events)
    fired = []
    for rule in rules_for(objective.window) if rules is None else rules:
        long_burn = burn_rate(objective, log, now, rule.long) or 0.0
        short_burn = burn_rate(objective, log, now, rule.short) or 0.0
        _, long_bad = log.counts(now - rule.long, now)
        if long_burn > rule.burn_rate and short_burn > rule.burn_rate and long_bad >= rule.min_bad:
            fired.append(BurnAlert(rule, long_burn, short_burn, long_bad))
    return fired


def evaluate(
    objective: Objective,
    events: Events,
    now: datetime,
    rules: Iterable[BurnRule] | None = None,
) -> SloStatus:
    """Given events, return the objective's status at now: counts, SLI, budget left and alerts."""
    aware(now)
    log = _log(events)
    total, bad = log.counts(now - objective.window, now)
    return SloStatus(
        objective=objective,
        now=now,
        events=total,
        bad=bad,
        sli=sli(objective, log, now),
        budget_remaining=budget_remaining(objective, log, now),
        alerts=tuple(burn_alerts(objective, log, now, rules)),
    )


def _log(events: Events) -> EventLog:
    return events if isinstance(events, EventLog) else EventLog.of(events)
