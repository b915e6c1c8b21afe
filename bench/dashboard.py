"""Dashboard benchmark (issue 4): server time of three pages, 1,000 checks, a month of history.

1. **The store**, as a long-running install has it: 1,000 checks, one result per check per minute
   for 30 days up to the present, ~2% failing (outages clustered per check and per service,
   slow-result blips), latencies with a per-check level, a daily swing and noise; results are
   written in time order, an hour at a time. The last day goes through the real code after each
   hour, as ``serve``'s upkeep would: ``Store.rollup``, then ``Store.prune`` with the default
   retention. Before that, the real rollup is too slow to replay a month (~50 µs a result: 40
   minutes), so the same rollups (minute, hour, day; count, failures, min, avg, max, nearest-rank
   p95) are computed here and written directly, and raw results are written only where retention
   still keeps them (14 days); on a small store the two ways give identical rows. The alert engine
   runs over the last two days. The file is cached in ``bench/.cache`` under the generator's
   version (~15 minutes to make, ~12 GB); later runs top it up to the present through the real
   code, as if the install had kept running.
2. **The pages**, through a real ``watchkeeper serve`` on that file with the same 1,000 checks
   (TCP checks every hour against a listener here): the summary (``/``), the checks table
   (``/checks``) and a check's page with a 30-day chart (``/checks/NAME?range=30d``, a different
   check each request). Per page: the first request after start (it waits for the first read of
   every check's uptime), requests made more than 10 s apart, after the dashboard's uptime figures
   went stale ("cold": each starts their re-read in the background), and back-to-back requests
   ("steady"), each with the server's own ``Server-Timing: app;dur=`` and the client's wall time.
   Then, the server stopped, how long that uptime read itself takes (``read_uptime``, 5 times).

Usage: ``python bench/dashboard.py [--requests N] [--cold N] [--generate-only]``. Prints progress on
stderr and, last, one line of JSON with the figures.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import http.client
import json
import logging
import math
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert, select

from watchkeeper.alerting.engine import AlertEngine
from watchkeeper.auth import accounts
from watchkeeper.auth.model import Role
from watchkeeper.config.loader import load_config
from watchkeeper.config.schema import Config
from watchkeeper.store.rollups import Resolution
from watchkeeper.store.store import _INSERT_RESULTS, _UPSERT_STATE, Retention, Store
from watchkeeper.store.tables import rollup_watermarks
from watchkeeper.views.uptime import read_uptime

HERE = Path(__file__).resolve().parent
VERSION = 1
"""Bump when the generated data changes, so a cached store of an older shape is not reused."""
CHECKS = 1000
DAYS = 30
CHUNK = timedelta(hours=1)
LIVE = timedelta(days=1)
"""The last stretch of history written, rolled up and pruned by the real code, hour by hour."""
TOP_UP_LIMIT = timedelta(days=2)
"""A cached store further behind than this is generated afresh (topping up is ~3x slower)."""
ALERT_HISTORY = timedelta(days=2)
"""How much of the month the alert engine is run over (~15 µs a result: 11 minutes for all)."""
UPTIME_TTL = 10.0
"""Seconds the dashboard's uptime figures stay fresh; a later request has them re-read."""
SERVICES = (
    "api", "auth", "billing", "search", "checkout", "payments", "mail", "cdn", "storage", "queue",
    "db", "cache", "dns", "vpn", "ldap", "backup", "ci", "registry", "metrics", "logs",
    "wiki", "chat", "crm", "erp", "shop",
)  # fmt: skip
PAGES = ("summary", "checks", "check")


def say(text: str) -> None:
    """Print a progress line on stderr at once."""
    print(text, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# The store


@dataclass(frozen=True)
class Profile:
    """How one simulated check behaves: when it runs, how fast it answers, how often it fails."""

    name: str
    service: str
    offset_us: int
    """When in each minute it starts (the scheduler spreads checks over their interval)."""
    base_ms: float
    noise: float
    swing: float
    phase: float
    outage_starts: float
    """Per-minute chance that an outage starts; outages end with chance ``outage_ends``."""
    outage_ends: float
    blip: float
    """Per-result chance of a lone failure (mostly a slow answer)."""


def profiles(count: int) -> list[Profile]:
    """Return ``count`` checks' profiles, the same every time for the same version."""
    rng = random.Random(f"profiles-{VERSION}")
    found = []
    for i in range(count):
        service = SERVICES[i % len(SERVICES)]
        mean_outage = rng.uniform(3, 45)  # minutes
        # Most checks rarely fail; a few are flaky: a skewed share of time spent down, mean ~1.4%.
        down_share = min(0.15, rng.gammavariate(0.7, 0.014 / 0.7))
        ends = 1 / mean_outage
        found.append(
            Profile(
                name=f"{service}-{i // len(SERVICES):02d}",
                service=service,
                offset_us=rng.randrange(0, 59_000_000),
                base_ms=min(800.0, max(2.0, rng.lognormvariate(math.log(40), 0.9))),
                noise=rng.uniform(0.1, 0.4),
                swing=rng.uniform(0.0, 0.3),
                phase=rng.uniform(0, 2 * math.pi),
                outage_starts=ends * down_share / (1 - down_share),
                outage_ends=ends,
                blip=min(0.03, rng.expovariate(1 / 0.005)),
            )
        )
    return found


SERVICE_INCIDENT_ENDS = 1 / 30
SERVICE_INCIDENT_STARTS = SERVICE_INCIDENT_ENDS * 0.002
"""A service-wide incident (every check of the service fails) about every 10 days, ~30 minutes."""


def config_text(checks: list[Profile], store: Path, port: int, target_port: int) -> str:
    """Return the YAML of the benchmark's config: the checks, as TCP checks every hour."""
    lines = [
        "version: 1",
        f"store: {json.dumps(str(store))}",
        f"server: {{host: 127.0.0.1, port: {port}}}",
        "checks:",
    ]
    for i, p in enumerate(checks):
        tags = '["prod", "edge"]' if i % 7 == 0 else '["prod"]'
        lines.append(
            f"  - {{name: {p.name}, service: {p.service}, tags: {tags}, interval: 1h,"
            f" tcp: {{host: 127.0.0.1, port: {target_port}}},"
            ' warn: ["connect_time > 500ms"], critical: ["connect_time > 2s"]}'
        )
    return "\n".join(lines) + "\n"


class Simulation:
    """The checks' results minute after minute; outages are two-state chains per check, service."""

    def __init__(self, checks: list[Profile], seed: str, down: set[str] | None = None) -> None:
        self.checks = sorted(checks, key=lambda p: p.offset_us)  # rows in start order
        self.rng = random.Random(seed)
        # Checks failing when a cached store is topped up carry on failing, like a real outage.
        self.down = {name: "critical" for name in down or ()}
        self.service_down: set[str] = set()

    def minute(self, start: datetime) -> list[tuple[Any, ...]]:
        """Return the rows of the results that started in the minute beginning at ``start``."""
        rng = self.rng
        random, gauss = rng.random, rng.gauss
        for service in SERVICES:
            if service in self.service_down:
                if rng.random() < SERVICE_INCIDENT_ENDS:
                    self.service_down.discard(service)
            elif rng.random() < SERVICE_INCIDENT_STARTS:
                self.service_down.add(service)
        prefix = start.strftime("%Y-%m-%d %H:%M:")
        day_angle = 2 * math.pi * (start.hour * 60 + start.minute) / 1440
        rows = []
        for p in self.checks:
            outage = self.down.get(p.name)
            if outage is not None:
                if random() < p.outage_ends:
                    del self.down[p.name]
                    outage = None
            elif random() < p.outage_starts:
                outage = self.down[p.name] = "error" if random() < 0.4 else "critical"
            if outage is None and p.service in self.service_down:
                outage = "critical"
            us = p.offset_us + int(random() * 3000)
            started = f"{prefix}{us // 1_000_000:02d}.{us % 1_000_000:06d}"
            connect = p.base_ms * (1 + p.swing * math.sin(day_angle + p.phase))
            connect *= math.exp(gauss(0, p.noise))
            status, message = "ok", ""
            if outage is None and random() < p.blip:
                outage = "slow" if random() < 0.7 else "error"
            if outage == "slow":
                connect = max(connect * rng.uniform(8, 20), rng.uniform(501, 1500))
                status, message = (
                    "warning",
                    f"connect_time > 500ms (connect_time = {connect:.0f}ms)",
                )
            elif outage == "critical":
                connect = rng.uniform(2001, 4000)
                status = "critical"
                message = f"connect_time > 2s (connect_time = {connect / 1000:.1f}s)"
            elif outage == "error":
                if random() < 0.5:
                    rows.append(
                        (p.name, started, "error", 10000.0 + rng.uniform(0, 5),
                         f"timed out after 10s connecting to {p.name}.internal:443", "{}", 0)
                    )  # fmt: skip
                else:
                    rows.append(
                        (p.name, started, "error", rng.uniform(0.2, 2),
                         f"cannot connect to {p.name}.internal:443: Connection refused", "{}", 0)
                    )  # fmt: skip
                continue
            seconds = round(connect / 1000, 6)
            rows.append(
                (p.name, started, status, round(connect + rng.uniform(0.05, 0.5), 3), message,
                 f'{{"connect_time":{seconds}}}', 0)
            )  # fmt: skip
        return rows


_INSERT_ROLLUPS = (
    "INSERT INTO rollups (check_name, resolution, bucket_start, count, failures,"
    " min_ms, avg_ms, max_ms, p95_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def summary(
    check: str, resolution: str, bucket: str, results: list[tuple[float, bool]]
) -> tuple[Any, ...]:
    """Return the rollup row of ``results`` (duration, failed), as ``store.rollups`` computes it."""
    ordered = sorted(d for d, _ in results)
    n = len(ordered)
    return (
        check, resolution, bucket, n, sum(1 for _, failed in results if failed),
        ordered[0], sum(ordered) / n, ordered[-1], ordered[(n * 95 + 99) // 100 - 1],
    )  # fmt: skip


class Summaries:
    """Rollup rows of the results given, computed in Python for the history before the live day."""

    def __init__(self) -> None:
        self.hour: dict[str, list[tuple[float, bool]]] = {}
        self.day: dict[str, list[tuple[float, bool]]] = {}

    def add(self, rows: list[tuple[Any, ...]], minute: datetime) -> list[tuple[Any, ...]]:
        """Take one minute's result rows; return their minute rollups."""
        bucket = minute.strftime("%Y-%m-%d %H:%M:00.000000")
        found = []
        for name, _, status, duration, *_ in rows:
            failed = status != "ok"
            found.append(
                (name, "minute", bucket, 1, int(failed), duration, duration, duration, duration)
            )
            self.hour.setdefault(name, []).append((duration, failed))
            self.day.setdefault(name, []).append((duration, failed))
        return found

    def close(self, resolution: Resolution, start: datetime) -> list[tuple[Any, ...]]:
        """Return the rollups of the hour or day that began at ``start`` and forget its results."""
        held = self.hour if resolution is Resolution.HOUR else self.day
        bucket = start.strftime("%Y-%m-%d %H:%M:00.000000")
        found = [summary(name, resolution.value, bucket, results) for name, results in held.items()]
        held.clear()
        return found


def run_as_installed(
    store: Store, config: Config, sim: Simulation, since: datetime, live_from: datetime
) -> int:
    """Write results from ``since`` to the present an hour at a time; return results simulated.

    From ``live_from`` on, after each hour, upkeep runs as ``serve`` runs it every minute:
    ``Store.rollup`` (buckets wait 5 minutes for late results) and ``Store.prune`` with the default
    retention. Before it, rollups are computed here with the same arithmetic (the real rollup costs
    ~50 µs a result, 40 minutes for a month), and only the raw results retention would still keep
    are written. The alert engine runs over the last ALERT_HISTORY.
    """
    alerts: AlertEngine | None = None
    alerts_from = datetime.now(UTC) - ALERT_HISTORY
    keep_raw_from = datetime.now(UTC) - timedelta(seconds=Retention().raw)
    summaries = Summaries()
    logging.getLogger("watchkeeper").setLevel(logging.ERROR)  # "no route matches" for each alert
    simulated = 0
    moment = since
    started = time.monotonic()
    last_said = started
    while True:
        now = Resolution.MINUTE.floor(datetime.now(UTC))
        until = min(Resolution.HOUR.floor(moment) + CHUNK, now)
        live = moment >= live_from
        if not live:
            until = min(until, live_from)
        if until <= moment:
            return simulated
        if alerts is None and moment >= alerts_from:
            alerts = AlertEngine(store.engine, config)
            alerts.process(moment)  # on a new store, this starts its cursor here
        rows: list[tuple[Any, ...]] = []
        rolled: list[tuple[Any, ...]] = []
        while moment < until:
            minute = sim.minute(moment)
            if not live:
                rolled += summaries.add(minute, moment)
            if live or moment >= keep_raw_from:
                rows += minute
            simulated += len(minute)
            moment += timedelta(minutes=1)
        if not live:
            rolled += summaries.close(Resolution.HOUR, Resolution.HOUR.floor(until - CHUNK))
            if until == Resolution.DAY.floor(until):
                rolled += summaries.close(Resolution.DAY, until - timedelta(days=1))
        latest = {row[0]: row[:-1] for row in rows}  # rows are in start order
        with store.engine.begin() as connection:
            if rows:
                connection.exec_driver_sql(_INSERT_RESULTS, rows)
                connection.exec_driver_sql(_UPSERT_STATE, list(latest.values()))
            if rolled:
                connection.exec_driver_sql(_INSERT_ROLLUPS, rolled)
            if until == live_from:
                # What the real rollups would have recorded: every bucket before here is done.
                for resolution in Resolution:
                    connection.execute(
                        insert(rollup_watermarks).values(
                            resolution=resolution.value, rolled_up_to=resolution.floor(until)
                        )
                    )
        if live:
            store.rollup(until)
            store.prune(until, Retention())
        if alerts is not None:
            alerts.process(until)
        if time.monotonic() - last_said > 30:
            last_said = time.monotonic()
            rate = simulated / (last_said - started)
            say(f"  … {moment:%Y-%m-%d %H:%M} UTC, {simulated:,} results ({rate:,.0f}/s)")


@dataclass
class Cached:
    """The cached store: its file, config and how it was made."""

    db: Path
    checks: list[Profile]
    generated_seconds: float | None
    """Seconds spent generating it in this run; None when it was reused."""
    topped_up: int
    size_bytes: int


def prepare(cache: Path, count: int, days: int) -> Cached:
    """Return the cached store, generating it first or topping it up to the present."""
    cache.mkdir(parents=True, exist_ok=True)
    db = cache / f"dashboard-{count}x{days}d-v{VERSION}.db"
    checks = profiles(count)
    config_path = cache / f"{db.stem}.yaml"
    config_path.write_text(config_text(checks, db, 8080, 9))
    config = load_config(config_path).config
    if db.exists():
        topped = _top_up(db, checks, config)
        if topped is not None:
            return Cached(db, checks, None, topped, _size(db))
        for stale in cache.glob(f"{db.name}*"):
            stale.unlink()
    partial = db.with_suffix(".partial.db")
    for leftover in cache.glob(f"{partial.name}*"):
        leftover.unlink()
    since = Resolution.MINUTE.floor(datetime.now(UTC)) - timedelta(days=days)
    say(f"generating {partial}: {count:,} checks x {days} days from {since:%Y-%m-%d %H:%M} UTC …")
    started = time.monotonic()
    store = Store.open(str(partial))
    event.listen(store.engine, "connect", _bulk_load)
    store.engine.dispose()
    try:
        sim = Simulation(checks, f"gen-{VERSION}")
        live_from = Resolution.HOUR.floor(datetime.now(UTC)) - LIVE
        written = run_as_installed(store, config, sim, since, live_from)
    finally:
        store.close()
    seconds = time.monotonic() - started
    partial.rename(db)
    say(f"  generated {written:,} results in {seconds:,.0f} s; {_size(db) / 2**30:.1f} GiB")
    return Cached(db, checks, seconds, written, _size(db))


def _top_up(db: Path, checks: list[Profile], config: Config) -> int | None:
    """Bring a cached store up to the present as the install would have; None if too far behind."""
    store = Store.open(str(db))
    try:
        with store.engine.connect() as connection:
            mark = connection.scalar(
                select(rollup_watermarks.c.rolled_up_to).where(
                    rollup_watermarks.c.resolution == Resolution.MINUTE.value
                )
            )
        latest = store.latest()
        newest = max(r.started_at for r in latest.values())
        if newest < datetime.now(UTC) - TOP_UP_LIMIT:
            say(f"{db} ends {newest:%Y-%m-%d %H:%M} UTC, too long ago: generating it afresh")
            return None
        # Resume after the newest result and after every bucket already rolled up (a serve run
        # rolls up the minutes it ran in), so no result lands in a bucket already summarised.
        resume = Resolution.MINUTE.floor(max(newest, mark or newest)) + timedelta(minutes=1)
        down = {name for name, r in latest.items() if r.status.failing}
        say(f"reusing {db} (results up to {newest:%Y-%m-%d %H:%M} UTC); topping up …")
        sim = Simulation(checks, f"topup-{resume.isoformat()}", down)
        topped = run_as_installed(store, config, sim, resume, live_from=resume)
    finally:
        store.close()
    say(f"  topped up with {topped:,} results")
    return topped


def _bulk_load(dbapi_connection: Any, _record: Any) -> None:
    # A file being generated can be thrown away after a crash, so no fsync, and a bigger cache.
    dbapi_connection.execute("PRAGMA synchronous = OFF")
    dbapi_connection.execute("PRAGMA cache_size = -2000000")


def _size(db: Path) -> int:
    return sum(p.stat().st_size for p in db.parent.glob(f"{db.name}*"))


def census(db: Path) -> dict[str, float]:
    """Return row counts of the tables the pages read (rollups per resolution)."""
    store = Store.open(str(db))
    try:
        with store.engine.connect() as connection:
            counts: dict[str, float] = {
                table: connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()
                for table in ("results", "check_state", "alerts", "alert_states")
            }
            for resolution, n in connection.exec_driver_sql(
                "SELECT resolution, count(*) FROM rollups GROUP BY resolution"
            ):
                counts[f"rollups_{resolution}"] = int(n)
            failing = connection.exec_driver_sql(
                "SELECT sum(failures) * 1.0 / sum(count) FROM rollups WHERE resolution = 'day'"
            ).scalar()
            counts["failing_percent"] = round((failing or 0) * 100, 2)
            counts["firing_alerts"] = connection.exec_driver_sql(
                "SELECT count(*) FROM alerts WHERE state = 'firing'"
            ).scalar_one()
    finally:
        store.close()
    return counts


# ---------------------------------------------------------------------------------------------
# The pages


@contextlib.contextmanager
def listener() -> Iterator[int]:
    """Accept and close TCP connections on 127.0.0.1 (the checks' target); yield its port."""
    server = socket.create_server(("127.0.0.1", 0), backlog=1024)
    server.settimeout(0.2)
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                connection, _ = server.accept()
                connection.close()

    thread = threading.Thread(target=accept, name="tcp-target", daemon=True)
    thread.start()
    try:
        yield int(server.getsockname()[1])
    finally:
        stop.set()
        thread.join()
        server.close()


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bench_token(db: Path) -> tuple[str, int]:
    """Return a new API token of an admin user "bench" (added if missing) and the token's id."""
    store = Store.open(str(db))
    try:
        now = datetime.now(UTC)
        with contextlib.suppress(accounts.AccountError):  # added by an earlier run
            accounts.add_user(store.engine, "bench", Role.ADMIN, "a long bench password", now)
        text, token = accounts.create_token(store.engine, "bench", "bench", now, expires_in=None)
        return text, token.id
    finally:
        store.close()


def revoke(db: Path, token_id: int) -> None:
    """Revoke the run's token, so the cached store does not collect live ones."""
    store = Store.open(str(db))
    try:
        accounts.revoke_token(store.engine, token_id, datetime.now(UTC))
    finally:
        store.close()


@contextlib.contextmanager
def serving(config: Path, port: int, log: Path) -> Iterator[None]:
    """Run ``watchkeeper serve -c config`` until the block ends; wait for its /api/health first."""
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "watchkeeper", "serve", "-c", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"watchkeeper serve exited with {proc.returncode}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/api/health")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("watchkeeper serve did not answer in 120 s")
            time.sleep(0.2)
        yield
    except Exception:
        say(f"the server's log ends:\n{_tail(log)}")
        raise
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _tail(log: Path) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-30:])


@dataclass
class Sample:
    """One request: the server's own time, the client's wall time, the body's size."""

    server_ms: float
    client_ms: float
    body_bytes: int
    wire_bytes: int


class Client:
    """Sequential GETs over one keep-alive connection, as a signed-in browser would send them."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "text/html",
            "Accept-Encoding": "gzip",
        }

    def reconnect(self) -> None:
        """Open a new connection, as a browser does after the server closed an idle one (5 s)."""
        self.connection.close()
        self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def get(self, path: str) -> Sample:
        """GET ``path``; return its timings; raise unless it answered 200 with a Server-Timing."""
        started = time.perf_counter()
        self.connection.request("GET", path, headers=self.headers)
        response = self.connection.getresponse()
        wire = response.read()
        client_ms = (time.perf_counter() - started) * 1000
        body = gzip.decompress(wire) if response.getheader("Content-Encoding") == "gzip" else wire
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status} {body[:300]!r}")
        timing = re.search(r"\bapp;dur=([0-9.]+)", response.getheader("Server-Timing") or "")
        if timing is None:
            raise RuntimeError(f"GET {path}: no Server-Timing app;dur= header")
        return Sample(float(timing.group(1)), client_ms, len(body), len(wire))


def percentile(values: list[float], p: float) -> float:
    """Return the p-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))]


def figures(samples: list[Sample]) -> dict[str, float]:
    """Return p50, p95 and max of server and client time."""
    found: dict[str, float] = {"n": len(samples)}
    for side in ("server", "client"):
        values = [getattr(s, f"{side}_ms") for s in samples]
        found |= {
            f"{side}_p50_ms": percentile(values, 50),
            f"{side}_p95_ms": percentile(values, 95),
            f"{side}_max_ms": max(values),
        }
    return found


def measure(cached: Cached, requests: int, cold: int, workdir: Path) -> dict[str, Any]:
    """Serve the store and time the three pages; return their figures."""
    names = [p.name for p in cached.checks]
    random.Random(VERSION).shuffle(names)
    paths: dict[str, Callable[[int], str]] = {
        "summary": lambda i: "/",
        "checks": lambda i: "/checks",
        "check": lambda i: f"/checks/{names[i % len(names)]}?range=30d",
    }
    token, token_id = bench_token(cached.db)
    port = free_port()
    loads = [os.getloadavg()[0]]
    try:
        with listener() as target:
            config = workdir / "watchkeeper.yaml"
            config.write_text(config_text(cached.checks, cached.db, port, target))
            say(f"serving {cached.db.name} on 127.0.0.1:{port} …")
            with serving(config, port, workdir / "serve.log"):
                client = Client(port, token)
                first: dict[str, Sample] = {}
                for i, page in enumerate(PAGES):
                    if i:
                        time.sleep(UPTIME_TTL + 0.5)  # each page's first request reads afresh
                        client.reconnect()
                    first[page] = client.get(paths[page](0))
                    say(f"  first {page}: {first[page].server_ms:.1f} ms")
                for page in PAGES:  # warm-up
                    for i in range(10):
                        client.get(paths[page](i + 1))
                steady: dict[str, list[Sample]] = {}
                for page in PAGES:
                    say(f"  {requests} x {page} back to back …")
                    steady[page] = [client.get(paths[page](i + 11)) for i in range(requests)]
                    loads.append(os.getloadavg()[0])
                say(f"  {cold} x each page after the {UPTIME_TTL:g} s uptime cache expired …")
                colds: dict[str, list[Sample]] = {page: [] for page in PAGES}
                for round_ in range(cold):
                    for page in PAGES:
                        time.sleep(UPTIME_TTL + 0.5)
                        client.reconnect()
                        colds[page].append(client.get(paths[page](requests + 11 + round_)))
                loads.append(os.getloadavg()[0])
    finally:
        revoke(cached.db, token_id)
    reads = uptime_reads(cached.db, [p.name for p in cached.checks], 5)
    pages = {}
    for page in PAGES:
        sizes = steady[page]
        pages[page] = {
            "path": paths[page](0),
            "first_server_ms": first[page].server_ms,
            "first_client_ms": first[page].client_ms,
            "steady": figures(steady[page]),
            "cold": figures(colds[page]),
            "body_bytes": round(sum(s.body_bytes for s in sizes) / len(sizes)),
            "wire_bytes": round(sum(s.wire_bytes for s in sizes) / len(sizes)),
        }
    return {
        "pages": pages,
        "uptime_read_p50_ms": percentile(reads, 50),
        "uptime_read_max_ms": max(reads),
        "load_average_1m": loads,
    }


def uptime_reads(db: Path, checks: list[str], times: int) -> list[float]:
    """Return how long reading every check's uptime takes, in ms, ``times`` times over."""
    store = Store.open(str(db))
    took = []
    try:
        for _ in range(times):
            started = time.perf_counter()
            with store.engine.connect() as connection:
                read_uptime(connection, datetime.now(UTC), checks)
            took.append((time.perf_counter() - started) * 1000)
    finally:
        store.close()
    return took


def main() -> None:
    """Prepare the store, measure the pages, print the figures as one line of JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=CHECKS)
    parser.add_argument("--days", type=int, default=DAYS)
    parser.add_argument("--cache", type=Path, default=HERE / ".cache")
    parser.add_argument("--requests", type=int, default=200, help="back-to-back requests per page")
    parser.add_argument(
        "--cold", type=int, default=8, help="requests per page after the cache expired"
    )
    parser.add_argument("--generate-only", action="store_true")
    opts = parser.parse_args()
    # So that `kill` cleans up like Ctrl-C: `serving` stops the server it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    cached = prepare(opts.cache, opts.checks, opts.days)
    got: dict[str, Any] = {
        "checks": opts.checks,
        "days": opts.days,
        "generated_seconds": cached.generated_seconds,
        "results_simulated": cached.topped_up,
        "db_bytes": cached.size_bytes,
        "rows": census(cached.db),
    }
    if not opts.generate_only:
        with tempfile.TemporaryDirectory(prefix="wk-bench-dashboard-") as workdir:
            got |= measure(cached, opts.requests, opts.cold, Path(workdir))
    print(json.dumps(got))


if __name__ == "__main__":
    main()
