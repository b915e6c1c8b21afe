"""SLO checks judge another check's results in a real store against an objective: a month at
99.9% pages on an outage still going on, tickets a slow burn, and stays ok through a healthy one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from tests.config.test_loader import problems
from tests.probes.test_trend import WATCHED, run_check
from watchkeeper.config.specs.slo import SloSpec
from watchkeeper.results import Result, Status
from watchkeeper.store.store import Retention, Store

MONTH = 30 * 24 * 60
"""Minutes in the SLO's 30-day window: one result a minute."""


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(str(tmp_path / "wk.db"))
    yield opened
    opened.close()


def a_month(
    store: Store,
    status: Callable[[int], Status] = lambda m: Status.OK,
    duration_ms: Callable[[int], float] = lambda m: 120.0,
) -> datetime:
    """Write a result of ``api`` every minute of the last 30 days (m minutes ago: as given);
    return now."""
    now = datetime.now(UTC)
    store.insert_results(
        [Result("api", now - timedelta(minutes=m), status(m), duration_ms(m)) for m in range(MONTH)]
    )
    return now


SLO = """\
  - name: api-slo
    slo: {check: api, objective: 99.9%}
"""


async def test_a_twenty_minute_outage_going_on_now_pages(tmp_path: Path, store: Store) -> None:
    a_month(store, lambda m: Status.CRITICAL if m < 20 else Status.OK)

    result = await run_check(tmp_path, store, SLO, "api-slo")

    assert result.status is Status.CRITICAL
    assert "fast_burn" in result.message
    measured = result.measurements
    assert measured["fast_burn"] is True
    assert (measured["events"], measured["bad"]) == (MONTH, 20)
    assert measured["burn_rate_1h"] == pytest.approx(20 / 60 / 0.001)
    assert measured["sli"] == pytest.approx(100 * (1 - 20 / MONTH))
    assert measured["budget_remaining"] == pytest.approx(100 * (1 - 20 / MONTH / 0.001))
    assert measured["met"] is True  # so far the month is still within its objective


async def test_a_healthy_month_is_ok_with_all_its_budget(tmp_path: Path, store: Store) -> None:
    a_month(store, lambda m: Status.OK)

    result = await run_check(tmp_path, store, SLO, "api-slo")

    assert result.status is Status.OK, result.message
    measured = result.measurements
    assert (measured["sli"], measured["budget_remaining"]) == (100.0, 100.0)
    assert (measured["fast_burn"], measured["slow_burn"], measured["met"]) == (False, False, True)
    assert measured["burn_rate_1h"] == measured["burn_rate_6h"] == 0.0


async def test_an_outage_ten_days_ago_spent_budget_but_pages_no_one(
    tmp_path: Path, store: Store
) -> None:
    ten_days = 10 * 24 * 60
    a_month(store, lambda m: Status.ERROR if ten_days <= m < ten_days + 20 else Status.OK)

    result = await run_check(tmp_path, store, SLO, "api-slo")

    assert result.status is Status.OK, result.message
    assert result.measurements["budget_remaining"] == pytest.approx(100 * (1 - 20 / 43.2))


async def test_a_failure_every_six_hours_for_three_days_is_a_slow_burn(
    tmp_path: Path, store: Store
) -> None:
    three_days = 3 * 24 * 60
    a_month(store, lambda m: Status.CRITICAL if m < three_days and m % 360 == 30 else Status.OK)

    result = await run_check(tmp_path, store, SLO, "api-slo")

    assert result.status is Status.WARNING, result.message
    assert result.measurements["slow_burn"] is True
    assert result.measurements["fast_burn"] is False


async def test_the_part_of_the_window_past_raw_retention_is_read_from_rollups(
    tmp_path: Path, store: Store
) -> None:
    ten_days = 10 * 24 * 60
    now = a_month(store, lambda m: Status.ERROR if ten_days <= m < ten_days + 20 else Status.OK)
    store.prune(now, Retention(raw=7 * 86400.0))

    result = await run_check(tmp_path, store, SLO, "api-slo")

    # A minute or so at the window's far edge may fall either side of it.
    assert result.measurements["events"] == pytest.approx(MONTH, abs=2)
    assert result.measurements["bad"] == 20


async def test_a_latency_objective_counts_results_slower_than_its_threshold_as_bad(
    tmp_path: Path, store: Store
) -> None:
    a_month(store, duration_ms=lambda m: 900.0 if m < 20 else 120.0)
    checks = """\
  - name: api-latency
    slo: {check: api, objective: 99%, latency: 500ms, window: 7d}
"""

    result = await run_check(tmp_path, store, checks, "api-latency")

    assert result.status is Status.CRITICAL
    assert result.measurements["bad"] == 20
    assert result.measurements["events"] == 7 * 24 * 60


async def test_a_check_with_no_results_yet_is_ok(tmp_path: Path, store: Store) -> None:
    result = await run_check(tmp_path, store, SLO, "api-slo")

    assert result.status is Status.OK, result.message
    assert result.measurements["events"] == 0
    assert result.measurements["sli"] is None
    assert result.measurements["met"] is None


def test_an_objective_is_written_as_a_percent_or_a_share() -> None:
    assert SloSpec(check="api", objective="99.9%").objective == 0.999
    assert SloSpec(check="api", objective=0.995).objective == 0.995
    with pytest.raises(ValidationError, match="between 0% and 100%"):
        SloSpec(check="api", objective="100%")
    with pytest.raises(ValidationError, match="write 25%"):
        SloSpec(check="api", objective=99.9)


SHOP = """\
  - {name: cart, service: shop, http: {url: "http://127.0.0.1:9/cart"}}
  - {name: pay, service: shop, http: {url: "http://127.0.0.1:9/pay"}}
  - name: shop-slo
    service: shop
    slo: {service: shop, objective: 99.9%}
"""


async def test_a_service_slo_pools_the_results_of_the_services_checks(
    tmp_path: Path, store: Store
) -> None:
    now = datetime.now(UTC)
    store.insert_results(
        [
            Result(name, now - timedelta(minutes=m), status, 120.0)
            for m in range(MONTH)
            for name, status in (
                ("cart", Status.OK),
                ("pay", Status.CRITICAL if m < 20 else Status.OK),
            )
        ]
    )

    result = await run_check(tmp_path, store, SHOP, "shop-slo")

    # The SLO itself is in the service too, but judges the others only.
    measured = result.measurements
    assert (measured["events"], measured["bad"]) == (2 * MONTH, 20)
    assert measured["fast_burn"] is True
    assert result.status is Status.CRITICAL


def test_an_slo_names_one_target_and_a_service_some_check_has(tmp_path: Path) -> None:
    both = "  - name: s\n    slo: {check: api, service: shop, objective: 99.9%}\n"
    assert problems(tmp_path, WATCHED + both) == [
        "4:10: an slo judges one of: check, checks or service"
    ]
    unknown = "  - name: s\n    slo: {service: shpo, objective: 99.9%}\n" + SHOP.replace(
        "  - name: shop-slo\n    service: shop\n    slo: {service: shop, objective: 99.9%}\n", ""
    )
    assert problems(tmp_path, WATCHED + unknown) == [
        "4:20: no check of the service 'shpo' to judge (did you mean 'shop'?)"
    ]
    several = "  - name: s\n    slo: {checks: [api, nope], objective: 99.9%}\n"
    assert problems(tmp_path, WATCHED + several) == ["4:25: unknown check 'nope'"]
    alone = "  - name: s\n    service: lonely\n    slo: {service: lonely, objective: 99.9%}\n"
    assert problems(tmp_path, WATCHED + alone) == [
        "5:20: no check of the service 'lonely' to judge"
    ]
    given_both = "  - name: s\n    slo: {service: shop, checks: [cart], objective: 99.9%}\n"
    assert problems(tmp_path, WATCHED + given_both + SHOP.split("  - name: shop-slo")[0]) == [
        "4:10: an slo judges one of: check, checks or service"
    ]
