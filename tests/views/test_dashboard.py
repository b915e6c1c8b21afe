"""The executive summary: the overall state follows its stated rule, and each service gets a card."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from watchkeeper.alerting import queries
from watchkeeper.config.loader import parse_config_text
from watchkeeper.results import Result, Status
from watchkeeper.store.store import Store
from watchkeeper.views.dashboard import Dashboard, Overall

CONFIG = """
checks:
  - {name: api, service: backend, tcp: {host: 127.0.0.1, port: 1}}
  - {name: db, service: backend, tags: [data], tcp: {host: 127.0.0.1, port: 1}}
  - {name: home, service: web, tcp: {host: 127.0.0.1, port: 1}}
  - {name: old, enabled: false, tcp: {host: 127.0.0.1, port: 1}}
"""


@pytest.fixture
def board(store: Store, tmp_path: Path) -> Dashboard:
    config = parse_config_text(CONFIG, str(tmp_path / "watchkeeper.yaml"), {})[0]
    return Dashboard(store, lambda: config, ttl=0)


def record(store: Store, **statuses: Status) -> None:
    now = datetime.now(UTC)
    store.insert_results([Result(name, now, status, 5.0) for name, status in statuses.items()])


def test_no_results_yet_is_at_risk_not_healthy(board: Dashboard) -> None:
    overview = board.overview(datetime.now(UTC))
    assert overview.overall is Overall.AT_RISK
    assert overview.counts["pending"] == 3 and overview.counts["disabled"] == 1
    assert "without a result yet" in overview.reasons[0]


def test_every_enabled_check_ok_is_healthy(board: Dashboard, store: Store) -> None:
    record(store, api=Status.OK, db=Status.OK, home=Status.OK)
    overview = board.overview(datetime.now(UTC))
    assert overview.overall is Overall.HEALTHY
    assert overview.uptime["24h"] == 1.0
    assert [(c.name, c.overall, c.checks) for c in overview.services] == [
        ("backend", Overall.HEALTHY, 2),
        ("other", Overall.HEALTHY, 1),
        ("web", Overall.HEALTHY, 1),
    ]


def test_a_warning_is_at_risk_and_an_error_is_critical(board: Dashboard, store: Store) -> None:
    record(store, api=Status.OK, db=Status.WARNING, home=Status.OK)
    assert board.overview(datetime.now(UTC)).overall is Overall.AT_RISK
    record(store, home=Status.ERROR)
    overview = board.overview(datetime.now(UTC))
    assert overview.overall is Overall.CRITICAL
    assert overview.reasons[0] == "1 critical or in error: home"
    assert overview.errors_24h == 2
    cards = {c.name: c for c in overview.services}
    assert cards["web"].overall is Overall.CRITICAL and cards["web"].failing == ["home"]
    assert cards["backend"].overall is Overall.AT_RISK


def test_a_silence_covering_a_check_is_shown_on_it(board: Dashboard, store: Store) -> None:
    now = datetime.now(UTC)
    with store.engine.begin() as connection:
        queries.add_silence(
            connection, {"tag": ("data",)}, now, now + timedelta(hours=1), "ann", "migration"
        )
    views = {v.name: v for v in board.checks(now + timedelta(seconds=1))}
    assert views["db"].silenced_by is not None and views["db"].silenced_by.comment == "migration"
    assert views["api"].silenced_by is None


def test_uptime_is_read_once_per_ttl(store: Store, tmp_path: Path) -> None:
    config = parse_config_text(CONFIG, str(tmp_path / "watchkeeper.yaml"), {})[0]
    cached = Dashboard(store, lambda: config, ttl=3600)
    now = datetime.now(UTC)
    assert cached.uptime(now) == {}
    record(store, api=Status.OK)
    assert cached.uptime(now) == {}  # still the cached figures
    assert Dashboard(store, lambda: config, ttl=0).uptime(now)["api"].ratio("24h") == 1.0
