"""The alert state machine: when a failing check fires, escalates, reminds, resolves and flaps."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from watchkeeper.alerting.model import AlertEvent, CheckState, EventKind, Phase, Severity
from watchkeeper.alerting.state import advance, dedup_key, from_json, remind, to_json
from watchkeeper.config.alerting import AlertRule, Flapping
from watchkeeper.results import Result, Status

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
OK, WARN, CRIT, ERR = Status.OK, Status.WARNING, Status.CRITICAL, Status.ERROR
CALM = Flapping(window=3600, transitions=1_000_000)
"""Flapping that cannot happen, for tests about the phases alone."""


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def result(minutes: float, status: Status, message: str = "") -> Result:
    return Result("api", at(minutes), status, 12.0, message, {"status": 200 + minutes})


def feed(
    steps: Iterable[tuple[float, Status]],
    rule: AlertRule,
    flapping: Flapping = CALM,
    state: CheckState | None = None,
) -> tuple[CheckState, list[list[AlertEvent]]]:
    """Given (minute, status) steps, return the final state and the events of each step."""
    state = state or CheckState("api")
    events = []
    for minutes, status in steps:
        state, new = advance(
            state, result(minutes, status, f"{status} at {minutes}"), rule, flapping
        )
        events.append(new)
    return state, events


def kinds(events: list[AlertEvent]) -> list[EventKind]:
    return [e.kind for e in events]


def test_dedup_key_names_the_check_and_when_it_started_failing_in_utc() -> None:
    assert dedup_key("api-health", T0) == "api-health@2026-11-22T10:00:00Z"
    paris = datetime(2026, 11, 22, 11, 0, tzinfo=timezone(timedelta(hours=1)))
    assert dedup_key("api-health", paris) == "api-health@2026-11-22T10:00:00Z"
    assert dedup_key("x", T0 + timedelta(microseconds=5)) == "x@2026-11-22T10:00:00.000005Z"


def test_fires_exactly_once_after_n_consecutive_failures() -> None:
    rule = AlertRule(after=3)
    state, events = feed([(0, CRIT), (1, CRIT)], rule)
    assert events == [[], []]
    assert (state.phase, state.failures, state.failing_since) == (Phase.PENDING, 2, at(0))

    state, events = feed([(2, CRIT), (3, CRIT), (4, CRIT)], rule, state=state)
    [fired] = events[0]
    assert fired == AlertEvent(
        EventKind.FIRING,
        "api",
        "api@2026-11-22T10:00:00Z",
        Severity.CRITICAL,
        at(2),
        at(0),
        "critical at 2",
        {"status": 202},
    )
    assert events[1:] == [[], []]
    assert (state.phase, state.fired_at, state.last_notified_at) == (Phase.FIRING, at(2), at(2))


def test_first_failure_fires_at_once_when_after_is_one() -> None:
    state, events = feed([(0, OK), (1, WARN)], AlertRule(after=1))
    assert kinds(events[1]) == [EventKind.FIRING]
    assert state.phase is Phase.FIRING


def test_for_duration_delays_firing_until_the_check_has_failed_that_long() -> None:
    rule = AlertRule.model_validate({"after": 1, "for": "5m"})
    state, events = feed([(m, CRIT) for m in range(5)], rule)
    assert events == [[]] * 5
    assert state.phase is Phase.PENDING
    _, events = feed([(5, CRIT)], rule, state=state)
    assert kinds(events[0]) == [EventKind.FIRING]


def test_after_and_for_must_both_hold() -> None:
    rule = AlertRule.model_validate({"after": 3, "for": "1m"})
    # Three quick failures: enough failures, not long enough.
    _, events = feed([(0, CRIT), (0.1, CRIT), (0.2, CRIT), (1, CRIT)], rule)
    assert [kinds(e) for e in events] == [[], [], [], [EventKind.FIRING]]
    # Two slow failures: long enough, not enough failures.
    _, events = feed([(0, CRIT), (2, CRIT), (4, CRIT)], rule)
    assert [kinds(e) for e in events] == [[], [], [EventKind.FIRING]]


def test_error_counts_as_failing_and_alerts_as_critical() -> None:
    _, events = feed([(0, ERR), (1, ERR)], AlertRule(after=2))
    assert kinds(events[1]) == [EventKind.FIRING]
    assert events[1][0].severity is Severity.CRITICAL


def test_escalation_from_warning_to_critical_is_announced_once() -> None:
    steps = [(0, WARN), (1, WARN), (2, CRIT), (3, CRIT), (4, WARN), (5, CRIT), (6, ERR)]
    state, events = feed(steps, AlertRule(after=2))
    assert [kinds(e) for e in events] == [
        [],
        [EventKind.FIRING],
        [EventKind.ESCALATED],
        [],
        [],
        [],
        [],
    ]
    escalated = events[2][0]
    assert escalated.severity is Severity.CRITICAL
    assert escalated.dedup_key == events[1][0].dedup_key == "api@2026-11-22T10:00:00Z"
    assert escalated.message == "critical at 2"
    # A drop back to warning changes nothing: the alert stays critical.
    assert state.severity is Severity.CRITICAL


def test_severity_rising_while_pending_fires_at_the_higher_severity() -> None:
    _, events = feed([(0, WARN), (1, CRIT), (2, WARN)], AlertRule(after=3))
    [fired] = events[2]
    assert (fired.kind, fired.severity) == (EventKind.FIRING, Severity.CRITICAL)


def test_rule_severity_and_explicit_severity_override_the_status() -> None:
    rule = AlertRule(after=1, severity="info")
    _, [[fired]] = feed([(0, CRIT)], rule)
    assert fired.severity is Severity.INFO
    _, [fired] = advance(CheckState("api"), result(0, CRIT), rule, CALM, Severity.WARNING)
    assert fired.severity is Severity.WARNING


def test_repeated_failures_never_fire_twice() -> None:
    _, events = feed([(m, CRIT) for m in range(50)], AlertRule(after=2))
    assert sum(kinds(e).count(EventKind.FIRING) for e in events) == 1


def test_recovery_resolves_once_with_the_same_dedup_key_and_resets_the_state() -> None:
    state, events = feed([(0, WARN), (1, WARN), (2, OK), (3, OK)], AlertRule(after=2))
    fired, [resolved], after = events[1][0], events[2], events[3]
    assert resolved == AlertEvent(
        EventKind.RESOLVED,
        "api",
        fired.dedup_key,
        Severity.WARNING,
        at(2),
        at(0),
        "recovered: ok at 2",
        {"status": 202},
    )
    assert after == []
    assert state == CheckState(
        "api",
        last_status=OK,
        last_message="ok at 3",
        last_measurements={"status": 203},
        changes=[at(2)],
    )
    # The next failing streak is a new alert with a new key.
    _, events = feed([(4, CRIT), (5, CRIT)], AlertRule(after=2), state=state)
    assert events[1][0].dedup_key == "api@2026-11-22T10:04:00Z"


def test_pending_check_that_recovers_emits_nothing() -> None:
    state, events = feed([(0, CRIT), (1, CRIT), (2, OK)], AlertRule(after=3))
    assert events == [[], [], []]
    assert (state.phase, state.failures, state.failing_since, state.severity) == (
        Phase.OK,
        0,
        None,
        None,
    )


def test_advance_returns_a_new_state_and_leaves_the_given_one_alone() -> None:
    state, _ = feed([(0, WARN)], AlertRule(after=2))
    before = to_json(state)
    new, _ = advance(state, result(1, CRIT), AlertRule(after=2), CALM)
    assert to_json(state) == before
    assert new is not state and new.phase is Phase.FIRING


def firing(rule: AlertRule) -> CheckState:
    state, _ = feed([(0, CRIT)], rule)
    assert state.phase is Phase.FIRING and state.last_notified_at == at(0)
    return state


def test_reminder_comes_at_the_interval_and_not_before() -> None:
    rule = AlertRule(after=1, reminder="1h")
    state = firing(rule)
    assert remind(state, at(59), rule) == (state, None)
    new, event = remind(state, at(60), rule)
    assert event is not None
    assert (event.kind, event.dedup_key, event.at, event.since) == (
        EventKind.REMINDER,
        state.dedup_key,
        at(60),
        at(0),
    )
    assert (event.message, event.measurements) == ("critical at 0", {"status": 200})
    assert new.last_notified_at == at(60)


def test_each_reminder_resets_the_clock() -> None:
    rule = AlertRule(after=1, reminder="1h")
    state, first = remind(firing(rule), at(61), rule)
    assert first is not None
    assert remind(state, at(120), rule)[1] is None
    state, second = remind(state, at(121), rule)
    assert second is not None and second.at == at(121)


def test_an_escalation_resets_the_reminder_clock() -> None:
    rule = AlertRule(after=1, reminder="1h")
    state, events = feed([(0, WARN), (30, CRIT)], rule)
    assert kinds(events[1]) == [EventKind.ESCALATED]
    assert remind(state, at(60), rule)[1] is None
    assert remind(state, at(90), rule)[1] is not None


def test_no_reminders_when_the_rule_has_none_or_nothing_fires() -> None:
    rule = AlertRule(after=1, reminder=None)
    assert remind(firing(rule), at(10_000), rule)[1] is None
    pending, _ = feed([(0, CRIT)], AlertRule(after=2))
    assert remind(pending, at(10_000), AlertRule(after=2))[1] is None


FLAPS = Flapping(window="10m", transitions=4)


def test_flapping_is_announced_once_and_mutes_firing_and_resolved() -> None:
    rule = AlertRule(after=1)
    steps = [(0, OK), (1, CRIT), (2, OK), (3, CRIT), (4, OK), (5, CRIT), (6, OK), (7, CRIT)]
    state, events = feed(steps, rule, FLAPS)
    assert [kinds(e) for e in events] == [
        [],
        [EventKind.FIRING],
        [EventKind.RESOLVED],
        [EventKind.FIRING],
        [EventKind.FLAPPING],
        [],
        [],
        [],
    ]
    flapping = events[4][0]
    assert flapping.dedup_key == "api@2026-11-22T10:03:00Z"  # the alert it interrupted
    assert (flapping.since, flapping.message) == (at(1), "flapping: 4 changes within 10m")
    # The phases still move underneath: a fresh alert fires, unannounced.
    assert (state.flapping, state.phase, state.failing_since) == (True, Phase.FIRING, at(7))
    assert state.last_notified_at is None
    assert remind(state, at(500), AlertRule(after=1, reminder="1m"))[1] is None


def test_stable_again_and_still_failing_fires_the_current_alert() -> None:
    rule = AlertRule(after=1)
    steps = [(0, OK), (1, CRIT), (2, OK), (3, CRIT), (4, OK), (5, CRIT), (6, OK), (7, CRIT)]
    state, _ = feed(steps, rule, FLAPS)
    # Changes at 1..7 leave the 10-minute window one by one; at 15 only 6 and 7 remain: 2 <= 4 / 2.
    state, events = feed([(13, CRIT), (14, CRIT), (15, CRIT), (16, CRIT)], rule, FLAPS, state)
    assert [kinds(e) for e in events] == [[], [], [EventKind.STABLE, EventKind.FIRING], []]
    stable, fired = events[2]
    assert stable.message == "stable: 2 changes within 10m"
    assert fired.dedup_key == stable.dedup_key == "api@2026-11-22T10:07:00Z"
    assert (fired.since, fired.at) == (at(7), at(15))
    assert (state.flapping, state.last_notified_at) == (False, at(15))


def test_stable_again_while_passing_fires_nothing() -> None:
    rule = AlertRule(after=1)
    steps = [(0, OK), (1, CRIT), (2, OK), (3, CRIT), (4, OK), (5, CRIT), (6, OK)]
    state, _ = feed(steps, rule, FLAPS)
    assert state.flapping
    # Changes at 1..6: at 14 only 5 and 6 remain in the window.
    _, events = feed([(13, OK), (14, OK), (15, OK)], rule, FLAPS, state)
    assert [kinds(e) for e in events] == [[], [EventKind.STABLE], []]


def test_an_alert_that_fires_and_recovers_while_flapping_is_never_announced() -> None:
    rule = AlertRule(after=1)
    steps = [(0, OK), (1, CRIT), (2, OK), (3, CRIT), (4, OK), (5, CRIT)]
    state, events = feed(steps, rule, FLAPS)
    assert (state.flapping, state.phase, kinds(events[-1])) == (True, Phase.FIRING, [])
    # At 14.5 only the change at 5 and this recovery remain: stable, but nothing to resolve.
    state, events = feed([(14.5, OK)], rule, FLAPS, state)
    assert [kinds(e) for e in events] == [[EventKind.STABLE]]
    assert (state.flapping, state.phase) == (False, Phase.OK)


def test_an_alert_escalated_while_flapping_fires_at_its_new_severity_when_stable() -> None:
    rule = AlertRule(after=1)
    steps = [(0, OK), (1, WARN), (2, OK), (3, WARN), (4, OK), (5, WARN), (14.5, CRIT)]
    _, events = feed(steps, rule, FLAPS)
    assert kinds(events[-1]) == [EventKind.STABLE, EventKind.FIRING]
    assert events[-1][1].severity is Severity.CRITICAL


def test_flips_outside_the_window_are_forgotten() -> None:
    steps = [(0, OK), (1, CRIT), (2, OK), (3, CRIT), (20, OK)]
    state, events = feed(steps, AlertRule(after=1), FLAPS)
    assert EventKind.FLAPPING not in [k for e in events for k in kinds(e)]
    assert state.changes == [at(20)]
    assert not state.flapping


def test_state_survives_a_json_round_trip() -> None:
    state, _ = feed([(0, OK), (1, WARN), (2, CRIT)], AlertRule(after=2), FLAPS)
    data = json.loads(json.dumps(to_json(state)))
    assert data["phase"] == "firing" and data["failing_since"] == "2026-11-22T10:01:00+00:00"
    assert from_json(data) == state


statuses = st.sampled_from(list(Status))
steps = st.lists(st.tuples(st.integers(1, 900), statuses), max_size=40)
rules = st.builds(
    AlertRule,
    after=st.integers(1, 4),
    for_=st.sampled_from([None, 0.0, 60.0, 600.0]),
    reminder=st.sampled_from([None, 300.0, 3600.0]),
)
flappings = st.builds(
    Flapping, window=st.sampled_from([60.0, 900.0, 3600.0]), transitions=st.integers(2, 6)
)


def timeline(gaps: list[tuple[int, Status]]) -> list[Result]:
    moment, results = T0, []
    for gap, status in gaps:
        moment += timedelta(seconds=gap)
        results.append(Result("api", moment, status, 1.0, f"{status}", {"n": gap}))
    return results


def run(
    state: CheckState, results: list[Result], rule: AlertRule, flapping: Flapping
) -> tuple[CheckState, list[AlertEvent]]:
    """Advance through the results, offering a reminder before each one."""
    events: list[AlertEvent] = []
    for r in results:
        state, reminder = remind(state, r.started_at, rule)
        events += [reminder] if reminder else []
        state, new = advance(state, r, rule, flapping)
        events += new
    return state, events


@given(steps, st.integers(0, 40), rules, flappings)
def test_a_state_restored_from_json_behaves_identically(
    gaps: list[tuple[int, Status]], split: int, rule: AlertRule, flapping: Flapping
) -> None:
    results = timeline(gaps)
    state, _ = run(CheckState("api"), results[:split], rule, flapping)
    restored = from_json(json.loads(json.dumps(to_json(state))))
    assert restored == state
    assert run(restored, results[split:], rule, flapping) == run(
        state, results[split:], rule, flapping
    )


def assert_each_alert_fires_then_resolves_at_most_once(events: list[AlertEvent]) -> None:
    by_key: dict[str, list[EventKind]] = defaultdict(list)
    for e in events:
        if e.kind not in (EventKind.FLAPPING, EventKind.STABLE):
            by_key[e.dedup_key].append(e.kind)
    for key, seen in by_key.items():
        assert seen.count(EventKind.FIRING) <= 1, key
        assert seen.count(EventKind.RESOLVED) <= 1, key
        assert seen[0] is EventKind.FIRING, key  # nothing about an alert before it fires
        if EventKind.RESOLVED in seen:
            assert seen[-1] is EventKind.RESOLVED, key


@given(steps, rules)
def test_without_flapping_each_alert_fires_once_then_resolves_once(
    gaps: list[tuple[int, Status]], rule: AlertRule
) -> None:
    _, events = run(CheckState("api"), timeline(gaps), rule, CALM)
    assert_each_alert_fires_then_resolves_at_most_once(events)
    assert not {EventKind.FLAPPING, EventKind.STABLE} & set(kinds(events))


@given(steps, rules, flappings)
def test_with_flapping_alerts_still_fire_once_and_stay_quiet_while_flapping(
    gaps: list[tuple[int, Status]], rule: AlertRule, flapping: Flapping
) -> None:
    _, events = run(CheckState("api"), timeline(gaps), rule, flapping)
    assert_each_alert_fires_then_resolves_at_most_once(events)
    muted = False
    for e in events:
        if e.kind in (EventKind.FLAPPING, EventKind.STABLE):
            assert muted is (e.kind is EventKind.STABLE)
            muted = e.kind is EventKind.FLAPPING
        else:
            assert not muted, e
