"""SLOs: SLI and error budget on known numbers, and the workbook's burn-rate alerts on a planted
outage (they fire during it, stop as each short window clears) and not on a healthy month."""

from __future__ import annotations

from collections.abc import Container
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from watchkeeper.analytics.slo import (
    WORKBOOK_RULES,
    BurnRule,
    Event,
    EventLog,
    Objective,
    Severity,
    SloKind,
    availability_events,
    budget_remaining,
    burn_alerts,
    burn_rate,
    evaluate,
    latency_events,
    rules_for,
    sli,
)
from watchkeeper.results import Status

START = datetime(2026, 3, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
MONTH = 30 * DAY
OUTAGE = START + 20 * DAY + 10 * HOUR
"""A 20-minute full outage: the events stamped OUTAGE, OUTAGE + 1 min, ... OUTAGE + 19 min fail."""

THREE_NINES = Objective(target=0.999)
FAST_PAGE, SLOW_PAGE, TICKET = WORKBOOK_RULES


def month_of_minutes(bad: Container[datetime] = frozenset()) -> EventLog:
    """Return one event a minute for 30 days from START, bad at the given times."""
    times = (START + n * MINUTE for n in range(int(MONTH / MINUTE)))
    return EventLog.of((at, at not in bad) for at in times)


def with_outage() -> EventLog:
    return month_of_minutes({OUTAGE + n * MINUTE for n in range(20)})


def firing(log: EventLog, now: datetime) -> set[BurnRule]:
    return {alert.rule for alert in burn_alerts(THREE_NINES, log, now)}


def test_the_error_budget_is_one_minus_the_target() -> None:
    assert THREE_NINES.error_budget == pytest.approx(0.001)
    assert Objective(0.95).error_budget == pytest.approx(0.05)


@pytest.mark.parametrize("target", [0.0, 1.0, 1.5, -0.1])
def test_a_target_is_a_share_strictly_between_0_and_1(target: float) -> None:
    with pytest.raises(ValueError, match="target"):
        Objective(target)


def test_a_window_must_be_positive() -> None:
    with pytest.raises(ValueError, match="window"):
        Objective(0.99, window=timedelta(0))


@pytest.mark.parametrize(
    ("bad", "expected_sli", "expected_remaining"),
    [(0, 1.0, 1.0), (25, 0.9975, 0.75), (100, 0.99, 0.0), (150, 0.985, -0.5)],
)
def test_budget_arithmetic_on_10000_events_against_99_percent(
    bad: int, expected_sli: float, expected_remaining: float
) -> None:
    # 99% of 10,000 events allows 100 bad ones; 25 bad spend a quarter, 150 overspend by half.
    events = [(START + n * MINUTE, n >= bad) for n in range(10_000)]
    objective = Objective(0.99)
    now = START + 10_000 * MINUTE

    assert sli(objective, events, now) == pytest.approx(expected_sli)
    assert budget_remaining(objective, events, now) == pytest.approx(expected_remaining)
    assert burn_rate(objective, events, now, objective.window) == pytest.approx(
        1 - expected_remaining
    )


def test_a_20_minute_outage_spends_46_percent_of_a_monthly_three_nines_budget() -> None:
    # 20 bad minutes of 43,200; the budget is 43.2 minutes.
    status = evaluate(THREE_NINES, with_outage(), START + MONTH - MINUTE)

    assert (status.events, status.bad) == (43_200, 20)
    assert status.sli == pytest.approx(1 - 20 / 43_200)
    assert status.budget_remaining == pytest.approx(1 - 20 / 43.2)
    assert status.met is True


def test_only_events_inside_the_rolling_window_count() -> None:
    events: list[Event] = [(START, False), (START + DAY, True), (START + 2 * DAY, True)]
    two_days = Objective(0.9, window=2 * DAY)

    # (START, START + 2 days]: the bad event at START has just left the window.
    assert sli(two_days, events, START + 2 * DAY) == 1.0
    # A minute earlier it is still in, and the last event has not happened yet.
    assert sli(two_days, events, START + 2 * DAY - MINUTE) == 0.5


def test_without_events_there_is_no_sli_budget_or_burn() -> None:
    status = evaluate(THREE_NINES, [], START)

    assert (status.events, status.sli, status.budget_remaining, status.met) == (0, None, None, None)
    assert status.alerts == ()
    assert burn_rate(THREE_NINES, [], START, HOUR) is None


def test_burn_rate_is_the_observed_error_rate_over_the_allowed_one() -> None:
    # 1 bad in the last 60 minutes: 1/60 against 0.1% is a burn rate of 16.7.
    log = month_of_minutes({START + 10 * DAY})
    now = START + 10 * DAY + 30 * MINUTE

    assert burn_rate(THREE_NINES, log, now, HOUR) == pytest.approx((1 / 60) / 0.001)
    assert burn_rate(THREE_NINES, log, now, 5 * MINUTE) == 0.0


def test_the_fast_page_fires_from_the_second_bad_minute_until_the_5_minute_window_clears() -> None:
    log = with_outage()
    minutes = [OUTAGE + n * MINUTE for n in range(-10, 90)]

    paging = [now for now in minutes if FAST_PAGE in firing(log, now)]

    # A page needs two bad events, the second at OUTAGE + 1 min. The last bad event is at
    # OUTAGE + 19 min; the 5-minute window lets go of it 5 minutes later.
    assert paging == [OUTAGE + n * MINUTE for n in range(1, 24)]


def test_a_single_bad_minute_pages_no_one_though_it_burns_past_the_fast_rate() -> None:
    blip = START + 10 * DAY
    log = month_of_minutes({blip})
    minutes = [blip + n * MINUTE for n in range(-5, 120)]

    # 1 bad of 60 burns 16.7 > 14.4 over the hour and 200 over 5 minutes: the workbook's
    # arithmetic alone pages, for the 5 minutes the blip stays in the short window.
    assert burn_rate(THREE_NINES, log, blip, HOUR) == pytest.approx(16.7, abs=0.1)
    workbook_only = replace(FAST_PAGE, min_bad=1)
    assert [now for now in minutes if burn_alerts(THREE_NINES, log, now, [workbook_only])] == [
        blip + n * MINUTE for n in range(5)
    ]
    # The default rules want two bad events before they page; a second bad minute is an outage.
    assert FAST_PAGE.min_bad == SLOW_PAGE.min_bad == 2
    assert all(not firing(log, now) for now in minutes)
    second = month_of_minutes({blip, blip + MINUTE})
    assert firing(second, blip + MINUTE) == {FAST_PAGE}


def test_the_slow_page_outlasts_the_fast_one_until_its_30_minute_window_clears() -> None:
    log = with_outage()

    assert firing(log, OUTAGE + 23 * MINUTE) == {FAST_PAGE, SLOW_PAGE, TICKET}
    assert firing(log, OUTAGE + 24 * MINUTE) == {SLOW_PAGE, TICKET}
    assert SLOW_PAGE in firing(log, OUTAGE + 48 * MINUTE)
    assert SLOW_PAGE not in firing(log, OUTAGE + 49 * MINUTE)


def test_the_ticket_stays_open_until_6_hours_after_the_outage() -> None:
    log = with_outage()
    last_bad = OUTAGE + 19 * MINUTE

    assert firing(log, last_bad + 6 * HOUR - MINUTE) == {TICKET}
    assert firing(log, last_bad + 6 * HOUR) == set()


def test_a_fired_alert_carries_its_severity_and_both_burn_rates() -> None:
    alerts = burn_alerts(THREE_NINES, with_outage(), OUTAGE + 4 * MINUTE)
    fast = next(alert for alert in alerts if alert.rule == FAST_PAGE)

    assert fast.severity is Severity.PAGE
    assert fast.long_burn == pytest.approx((5 / 60) / 0.001)
    assert fast.short_burn == pytest.approx(1 / 0.001)
    assert fast.long_bad == 5
    assert {alert.severity for alert in alerts} == {Severity.PAGE, Severity.TICKET}


def test_nothing_fires_before_the_outage() -> None:
    assert firing(with_outage(), OUTAGE - MINUTE) == set()


def test_a_healthy_month_spending_half_its_budget_evenly_fires_nothing() -> None:
    # An event every 10 seconds, one bad in 2,000 (0.05%): every window burns at most a few times
    # the allowed rate for an instant, the long windows at 0.5.
    step = timedelta(seconds=10)
    count = int(MONTH / step)
    log = EventLog.of((START + n * step, n % 2_000 != 1_999) for n in range(count))

    fired = [
        alert
        for hour in range(1, 30 * 24 + 1)
        for alert in burn_alerts(THREE_NINES, log, START + hour * HOUR)
    ]

    assert fired == []
    assert budget_remaining(THREE_NINES, log, START + MONTH) == pytest.approx(0.5, abs=0.01)


def test_a_perfect_month_fires_nothing_and_keeps_its_whole_budget() -> None:
    log = month_of_minutes()

    assert all(not firing(log, START + hour * HOUR) for hour in range(1, 30 * 24 + 1))
    assert budget_remaining(THREE_NINES, log, START + MONTH) == 1.0


def test_the_workbook_rules_spend_2_5_and_10_percent_of_a_30_day_budget() -> None:
    assert rules_for(MONTH) == WORKBOOK_RULES
    spent = [rule.burn_rate * (rule.long / MONTH) for rule in WORKBOOK_RULES]
    assert spent == pytest.approx([0.02, 0.05, 0.10])
    assert all(rule.short * 12 == rule.long for rule in WORKBOOK_RULES)


def test_rules_for_a_7_day_window_scale_every_window_and_keep_the_burn_rates() -> None:
    week = 7 * DAY
    fast, slow, ticket = rules_for(week)

    assert (fast.long, fast.short, fast.burn_rate) == (14 * MINUTE, timedelta(seconds=70), 14.4)
    assert (slow.long, slow.short, slow.burn_rate) == (84 * MINUTE, 7 * MINUTE, 6.0)
    assert (ticket.long, ticket.short, ticket.burn_rate) == (
        timedelta(hours=16, minutes=48),
        84 * MINUTE,
        1.0,
    )
    for scaled, original in zip(rules_for(week), WORKBOOK_RULES, strict=True):
        assert scaled.burn_rate * (scaled.long / week) == pytest.approx(
            original.burn_rate * (original.long / MONTH)
        )


def test_a_shorter_slo_window_alerts_on_its_scaled_windows_by_default() -> None:
    # A 7-day SLO: a 3-minute outage in minute events fires the fast page (14 min / 70 s windows),
    # which clears 70 seconds after the last bad minute.
    week = Objective(0.999, window=7 * DAY)
    outage = START + 3 * DAY
    log = EventLog.of(
        (START + n * MINUTE, not outage <= START + n * MINUTE < outage + 3 * MINUTE)
        for n in range(int(7 * DAY / MINUTE))
    )
    fast = rules_for(week.window)[0]

    assert fast in {a.rule for a in burn_alerts(week, log, outage + 2 * MINUTE)}
    assert fast in {a.rule for a in burn_alerts(week, log, outage + 3 * MINUTE)}
    assert fast not in {a.rule for a in burn_alerts(week, log, outage + 4 * MINUTE)}


def test_rules_for_keeps_each_rules_minimum_of_bad_events() -> None:
    assert [rule.min_bad for rule in rules_for(7 * DAY)] == [2, 2, 1]


def test_a_rule_needs_at_least_one_bad_event() -> None:
    with pytest.raises(ValueError, match="min_bad"):
        BurnRule(Severity.PAGE, HOUR, 5 * MINUTE, 14.4, min_bad=0)


def test_a_naive_now_is_refused_even_without_events() -> None:
    naive = datetime(2026, 3, 1)
    for call in (
        lambda: sli(THREE_NINES, [], naive),
        lambda: burn_rate(THREE_NINES, [], naive, HOUR),
        lambda: budget_remaining(THREE_NINES, [], naive),
        lambda: burn_alerts(THREE_NINES, [], naive),
        lambda: evaluate(THREE_NINES, [], naive),
    ):
        with pytest.raises(ValueError, match="timezone-aware"):
            call()


def test_custom_rules_replace_the_default_ones() -> None:
    strict = BurnRule(Severity.TICKET, long=HOUR, short=5 * MINUTE, burn_rate=0.5)
    log = month_of_minutes({START + DAY})

    assert [a.rule for a in burn_alerts(THREE_NINES, log, START + DAY, [strict])] == [strict]


def test_availability_counts_only_ok_as_good_as_uptime_does() -> None:
    statuses = [Status.OK, Status.WARNING, Status.CRITICAL, Status.ERROR]
    events = availability_events((START + n * MINUTE, s) for n, s in enumerate(statuses))

    assert [good for _, good in events] == [True, False, False, False]


def test_a_p95_under_500ms_objective_is_95_percent_of_results_under_500ms() -> None:
    # 100 results, 4 at or over 500 ms: 96% under, so 4% of the allowed 5% (80% of the budget) is
    # spent.
    latencies = [120.0] * 96 + [500.0, 650.0, 900.0, 2_000.0]
    events = latency_events(((START + n * MINUTE, ms) for n, ms in enumerate(latencies)), 500.0)
    p95 = Objective(0.95, kind=SloKind.LATENCY)

    status = evaluate(p95, events, START + 100 * MINUTE)

    assert status.sli == pytest.approx(0.96)
    assert status.budget_remaining == pytest.approx(0.2)
    assert status.met is True
