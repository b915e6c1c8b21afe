"""The alert engine over a real store: results in, messages in the outbox, with an injected clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from watchkeeper.alerting import queries
from watchkeeper.alerting.engine import AlertEngine
from watchkeeper.config.loader import parse_config_text
from watchkeeper.results import Result, Status
from watchkeeper.store.store import Store
from watchkeeper.store.tables import notifications, outbox

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday

BASE = """
server: {base_url: "https://wk.example.com"}
notifications:
  channels: {oncall: ["json://127.0.0.1:9/hook"], email: ["json://127.0.0.1:9/mail"]}
"""


class Harness:
    """A store, an engine on a config, and a clock the test moves."""

    def __init__(self, store: Store, config_text: str) -> None:
        self.store = store
        config, _ = parse_config_text(config_text, "test.yaml", {})
        self.engine = AlertEngine(store.engine, config)
        self.now = T0
        self.engine.process(self.now)  # sets the cursor: history before this is not alerted

    def result(self, check: str, status: Status, message: str = "", **measurements: object) -> None:
        self.store.insert_results(
            [Result(check, self.now, status, 1.0, message or status.value, dict(measurements))]
        )

    def step(self, seconds: float = 0) -> None:
        self.now += timedelta(seconds=seconds)
        self.engine.process(self.now)
        self.engine.dispatch(self.now)

    def messages(self) -> list[tuple[str, str, str]]:
        with self.store.engine.connect() as c:
            rows = c.execute(
                select(outbox.c.channel, outbox.c.title, outbox.c.body).order_by(outbox.c.id)
            )
            return [tuple(r) for r in rows]  # type: ignore[misc]

    def suppressed(self) -> list[tuple[str, str]]:
        with self.store.engine.connect() as c:
            rows = c.execute(
                select(notifications.c.check_name, notifications.c.suppressed)
                .where(notifications.c.suppressed.is_not(None))
                .order_by(notifications.c.id)
            )
            return [tuple(r) for r in rows]  # type: ignore[misc]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{tmp_path / 'wk.db'}")
    yield opened
    opened.close()


DEFAULT_ALERTING = "alerting: {defaults: {after: 2 failures, reminder: 4h}}\n"


def harness(
    store: Store, checks: str, extra: str = "", alerting: str = DEFAULT_ALERTING
) -> Harness:
    return Harness(store, BASE + extra + alerting + "checks:\n" + checks)


API = """
  - name: api
    service: backend
    http: {url: "http://127.0.0.1:1/"}
"""


def test_fires_once_after_n_failures_with_values_reminds_and_resolves(store: Store) -> None:
    h = harness(store, API)
    h.result("api", Status.CRITICAL, "expected status == 200 (status = 503)")
    h.step()
    assert h.messages() == []  # pending: one failure of two
    for _ in range(3):
        h.step(30)
        h.result("api", Status.CRITICAL, "expected status == 200 (status = 503)")
    h.step()
    # No routes: every channel, once.
    assert sorted(m[0] for m in h.messages()) == ["email", "oncall"]
    _, title, body = h.messages()[0]
    assert title == "[CRITICAL] api is failing"
    assert "status = 503" in body and "https://wk.example.com/checks/api" in body

    h.step(4 * 3600)
    titles = [m[1] for m in h.messages()]
    assert sum(t.startswith("[REMINDER]") for t in titles) == 2  # one per channel
    h.result("api", Status.OK)
    h.step(1)
    assert sum(m[1].startswith("[RESOLVED]") for m in h.messages()) == 2


def test_a_new_engine_on_the_same_store_carries_on_without_repeating(store: Store) -> None:
    h = harness(store, API)
    for _ in range(2):
        h.result("api", Status.ERROR, "connection refused")
        h.step(10)
    fired = len(h.messages())
    assert fired == 2
    again = Harness(store, BASE + DEFAULT_ALERTING + "checks:\n" + API)
    again.now = h.now
    again.result("api", Status.ERROR, "connection refused")
    again.step(10)
    assert len(again.messages()) == fired
    again.result("api", Status.OK)
    again.step(10)
    assert sum(m[1].startswith("[RESOLVED]") for m in again.messages()) == 2


DEPENDENT = """
  - name: database
    service: database
    tcp: {host: 127.0.0.1, port: 1}
  - {name: web-a, http: {url: "http://127.0.0.1:1/a"}, depends_on: [database]}
  - {name: web-b, http: {url: "http://127.0.0.1:1/b"}, depends_on: [database]}
  - {name: web-c, http: {url: "http://127.0.0.1:1/c"}, depends_on: [database]}
"""
ONE_CHANNEL = "    - {channels: [oncall]}\n"


def test_a_dead_database_pages_once_not_once_per_dependent_check(store: Store) -> None:
    h = harness(store, DEPENDENT, "  routes:\n" + ONE_CHANNEL)
    for _ in range(3):
        h.result("database", Status.ERROR, "connection refused")
        for web in ("web-a", "web-b", "web-c"):
            h.result(web, Status.ERROR, "503")
        h.step(30)
    (only,) = h.messages()
    assert "database" in only[1]
    assert sorted(h.suppressed()) == [
        ("web-a", "upstream"),
        ("web-b", "upstream"),
        ("web-c", "upstream"),
    ]
    with store.engine.connect() as c:
        held = {a.check: a.caused_by for a in queries.firing_alerts(c)}
    assert held == {"database": None, "web-a": "database", "web-b": "database", "web-c": "database"}


def test_held_alert_is_announced_when_upstream_recovers_but_the_check_still_fails(
    store: Store,
) -> None:
    h = harness(store, DEPENDENT, "  routes:\n" + ONE_CHANNEL)
    for _ in range(2):
        h.result("database", Status.ERROR)
        h.result("web-a", Status.ERROR, "still 503")
        h.step(30)
    h.result("database", Status.OK)
    h.step(30)
    assert [m[1] for m in h.messages()] == [
        "[CRITICAL] database is failing",
        "[RESOLVED] database recovered",
    ]
    h.result("web-a", Status.ERROR, "still 503")
    h.step(30)
    assert h.messages()[-1][1] == "[CRITICAL] web-a is failing"


def test_silence_records_the_alert_but_sends_nothing(store: Store) -> None:
    h = harness(store, API, "  routes:\n" + ONE_CHANNEL)
    with store.engine.begin() as c:
        queries.add_silence(
            c, {"service": ("backend",)}, T0, T0 + timedelta(hours=1), "ops", "deploy"
        )
    for _ in range(2):
        h.result("api", Status.CRITICAL)
        h.step(60)
    assert h.messages() == []
    assert h.suppressed() == [("api", "silenced")]
    h.step(3600)  # the silence has ended; the alert fired while silenced is not re-sent as new
    assert h.messages() == []


def test_maintenance_window_suppresses_matching_alerts_only(store: Store) -> None:
    extra = (
        "  routes:\n"
        + ONE_CHANNEL
        + "maintenance: [{schedule: weekly on monday at 09:30, duration: 1h, match: {service: backend}}]\n"
    )
    h = harness(
        store, API + "  - {name: other, service: web, http: {url: 'http://127.0.0.1:1/'}}\n", extra
    )
    for _ in range(2):
        h.result("api", Status.CRITICAL)
        h.result("other", Status.CRITICAL)
        h.step(60)
    assert [m[1] for m in h.messages()] == ["[CRITICAL] other is failing"]
    assert h.suppressed() == [("api", "maintenance")]


def test_grouping_batches_alerts_of_a_service_into_one_message(store: Store) -> None:
    checks = "".join(
        f"  - {{name: {n}, service: backend, http: {{url: 'http://127.0.0.1:1/{n}'}}, alert: {{after: 1}}}}\n"
        for n in ("a", "b", "c")
    )
    routes = "  routes:\n    - {match: {service: backend}, channels: [oncall], group_by: [service], group_wait: 30s}\n"
    h = harness(store, checks, routes)
    h.result("a", Status.CRITICAL)
    h.step(0)
    h.result("b", Status.CRITICAL)
    h.step(10)
    h.result("c", Status.ERROR)
    h.step(10)
    assert h.messages() == []  # waiting for the group
    h.step(10)  # 30s after the first
    (message,) = h.messages()
    assert message[1].startswith("[CRITICAL] 3 alerts")
    assert all(name in message[2] for name in ("a is failing", "b is failing", "c is failing"))


def test_info_alerts_go_to_a_digest_on_its_schedule(store: Store) -> None:
    checks = (
        "  - {name: deps, http: {url: 'http://127.0.0.1:1/'}, alert: {after: 1, severity: info}}\n"
        "  - {name: docs, http: {url: 'http://127.0.0.1:1/d'}, alert: {after: 1, severity: info}}\n"
    )
    routes = (
        "  routes:\n    - {match: {severity: info}, digest: daily at 12:00, channels: [email]}\n"
    )
    h = harness(store, checks, routes)
    h.result("deps", Status.WARNING, "3 outdated")
    h.result("docs", Status.WARNING, "stale")
    h.step(60)
    assert h.messages() == []
    h.step(2 * 3600)  # past 12:00
    (digest,) = h.messages()
    assert digest[0] == "email" and digest[1].startswith("Digest: 2 alerts")


def test_a_firing_critical_inhibits_warnings_of_its_service(store: Store) -> None:
    checks = (
        "  - {name: api, service: backend, http: {url: 'http://127.0.0.1:1/'}, alert: {after: 1}}\n"
        "  - {name: latency, service: backend, http: {url: 'http://127.0.0.1:1/l'}, alert: {after: 1}}\n"
        "  - {name: web, service: web, http: {url: 'http://127.0.0.1:1/w'}, alert: {after: 1}}\n"
    )
    h = harness(store, checks, "  routes:\n" + ONE_CHANNEL)
    h.result("api", Status.CRITICAL)
    h.step(1)
    h.result("latency", Status.WARNING)
    h.result("web", Status.WARNING)
    h.step(1)
    assert [m[1] for m in h.messages()] == ["[CRITICAL] api is failing", "[WARNING] web is failing"]
    assert h.suppressed() == [("latency", "inhibited")]


def test_history_from_before_the_first_run_is_not_alerted(store: Store) -> None:
    store.insert_results(
        [Result("api", T0 - timedelta(hours=1), Status.ERROR, 1.0, "old") for _ in range(5)]
    )
    h = harness(store, API)
    h.step(1)
    assert h.messages() == []


def test_flapping_check_is_reported_once_not_paged_on_every_flip(store: Store) -> None:
    h = harness(
        store,
        API.replace("    http:", "    alert: {after: 1}\n    http:"),
        alerting="alerting: {flapping: {window: 1h, transitions: 4}}\n",
    )
    for i in range(12):
        h.result("api", Status.CRITICAL if i % 2 == 0 else Status.OK)
        h.step(60)
    titles = [m[1] for m in h.messages() if m[0] == "oncall"]
    assert sum(t.startswith("[FLAPPING]") for t in titles) == 1
    after = titles[titles.index("[FLAPPING] api is flapping") + 1 :]
    assert after == []  # six more flips, not one more page
