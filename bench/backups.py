"""Backups benchmark (issue 6): taking and restore-testing big backups, and what backups cost ``serve``.

Everything lives in a temporary directory (removed at the end) and on 127.0.0.1:

1. **SQLite source**: a generated database of ~``--sqlite-mb`` MB (random blobs and text, one
   index). Timed: ``run_backup`` (online backup API, fsync, SHA-256, manifest, catalogue row) with
   the process's peak RSS sampled meanwhile, then ``verify_backup`` (checksum, restore into a
   temporary file, ``PRAGMA integrity_check``, one smoke query).
2. **PostgreSQL source**: a table of ~``--pg-mb`` MB in a throwaway PostgreSQL cluster (the tests'
   ``tests/pg_server.py``). Timed: ``run_backup`` (``pg_dump --format=custom``) and ``verify_backup``
   (``pg_restore`` into a scratch database, one smoke query, drop).
3. **Idle backup pass of serve**: ``BackupWorker.step`` with ``--backups`` backups of tiny SQLite
   databases scheduled ``daily at 02:00``: the first pass takes them all; then ``--passes`` passes
   with the clock 2 s further each (nothing due), on a SQLite store, on a PostgreSQL store, and on
   the SQLite store with a monthly restore test scheduled for each backup too.
4. **Status of every backup**: ``backup_status`` for ``--backups`` backups (what the API and the
   dashboard's page compute) with ``--entries`` catalogue entries each (daily for years: most
   pruned, some failed, a monthly restore test each), in one connection, on SQLite.

Usage: ``python bench/backups.py [--sqlite-mb N] [--pg-mb N] [--backups N] [--passes K]``. Prints
one line of JSON with the figures (seconds, MB of 2**20 bytes, milliseconds).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import psutil
import psycopg
import uvloop
from sqlalchemy import func, insert, select

from watchkeeper.backups.runner import run_backup
from watchkeeper.backups.status import backup_statuses
from watchkeeper.backups.verify import VerifyOutcome, verify_backup
from watchkeeper.backups.worker import BackupWorker
from watchkeeper.config.backups import Backup
from watchkeeper.config.schema import Config
from watchkeeper.config.secrets import Secrets
from watchkeeper.store.store import Store
from watchkeeper.store.tables import backup_catalogue, backup_verifications

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
MB = 2**20
T = TypeVar("T")


def ms(seconds: float) -> float:
    """Return seconds as milliseconds, rounded to 0.1."""
    return round(seconds * 1000, 1)


def percentiles(times: list[float]) -> dict[str, float]:
    """Return p50, p95 and max of pass times, in ms."""
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50": ms(statistics.median(ordered)), "p95": ms(p95), "max": ms(ordered[-1])}


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on uvloop, as ``serve`` and the CLI do."""
    return uvloop.run(coro)


@contextlib.contextmanager
def peak_rss(programs: tuple[str, ...] = ()) -> Iterator[dict[str, float]]:
    """Sample this process's RSS, plus that of its child processes named in ``programs``, every
    5 ms while the block runs; the dict yielded gets ``baseline_mb`` at once and ``peak_mb`` at
    the end."""
    me = psutil.Process()

    def rss() -> int:
        total = me.memory_info().rss
        # Not every child: the PostgreSQL server this script started is one too.
        for child in me.children(recursive=True) if programs else ():
            with contextlib.suppress(psutil.Error):
                if child.name() in programs:
                    total += child.memory_info().rss
        return total

    figures = {"baseline_mb": rss() / MB}
    peak = [rss()]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.005):
            peak[0] = max(peak[0], rss())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield figures
    finally:
        done.set()
        sampler.join()
        figures["peak_mb"] = max(peak[0], rss()) / MB


def timed(call: Callable[[], T]) -> tuple[T, float]:
    """Return what ``call`` returns and the seconds it took."""
    started = time.perf_counter()
    got = call()
    return got, time.perf_counter() - started


def make_sqlite(path: Path, megabytes: int) -> int:
    """Write a SQLite database of about ``megabytes`` MB of random rows; return its row count."""
    rows = megabytes * MB // 1100  # ~1 KB blob + 32 hex characters + index entry a row
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.executescript(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
            "CREATE TABLE blobs (id INTEGER PRIMARY KEY, created REAL NOT NULL,"
            " note TEXT NOT NULL, payload BLOB NOT NULL);"
        )
        db.execute(
            "INSERT INTO blobs (created, note, payload) "
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            "SELECT julianday('now') - i / 86400.0, hex(randomblob(16)), randomblob(960) FROM n",
            (rows,),
        )
        db.execute("CREATE INDEX ix_blobs_note ON blobs (note)")
        db.commit()
    return rows


def sqlite_source(directory: Path, megabytes: int) -> dict[str, Any]:
    """Generate a big SQLite database, then time its backup and its restore test."""
    source = directory / "big.sqlite"
    _, generated = timed(lambda: make_sqlite(source, megabytes))
    size = source.stat().st_size
    print(f"sqlite source: {size / MB:.0f} MB in {generated:.1f} s; backing up …", file=sys.stderr)
    store = Store.open(f"sqlite:///{directory / 'sqlite-source-store.db'}")
    backup = Backup.model_validate(
        {
            "name": "big-sqlite",
            "source": {"sqlite": str(source)},
            "to": str(directory / "out-sqlite"),
            "verify": {"smoke": ["SELECT count(*) FROM blobs"]},
        }
    )
    with peak_rss() as rss:
        entry, took = timed(
            lambda: run(run_backup(store.engine, backup, directory, Secrets(), NOW))
        )
    result, verified = timed(
        lambda: run(verify_backup(store.engine, backup, entry, directory, Secrets(), NOW))
    )
    store.close()
    if result.outcome is not VerifyOutcome.PASSED:
        raise RuntimeError(f"the SQLite backup did not verify: {result.detail}")
    assert entry.size is not None
    return {
        "source_mb": round(size / MB, 1),
        "generated_seconds": round(generated, 1),
        "backup_mb": round(entry.size / MB, 1),
        "take_seconds": round(took, 2),
        "take_mb_per_second": round(size / MB / took, 1),
        "take_rss_baseline_mb": round(rss["baseline_mb"]),
        "take_rss_peak_mb": round(rss["peak_mb"]),
        "verify_seconds": round(verified, 2),
        "restore_seconds": round(result.restore_seconds or 0.0, 2),
    }


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Start the tests' throwaway PostgreSQL cluster on loopback; yield its superuser URL."""
    sys.path.insert(0, str(ROOT))
    from tests.pg_server import temporary_cluster

    with temporary_cluster("shared_buffers = 256MB\nmax_wal_size = 2GB\n") as url:
        yield url


def create_database(server: str, name: str) -> str:
    """Create the database ``name`` on the server at ``server``; return its URL."""
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return server.rsplit("/", 1)[0] + f"/{name}"


def make_postgres_table(url: str, megabytes: int) -> tuple[int, int]:
    """Fill a table ``items`` of about ``megabytes`` MB of table data; return its rows and bytes."""
    rows = megabytes * MB // 200  # measured: ~200 bytes of heap a row
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            "CREATE TABLE items (id bigint PRIMARY KEY, created_at timestamptz NOT NULL,"
            " name text NOT NULL, body text NOT NULL, amount numeric(12, 2) NOT NULL)"
        )
        connection.execute(
            "INSERT INTO items SELECT g, now() - g * interval '1 minute', 'item ' || g,"
            " md5(random()::text) || md5(random()::text) || md5(random()::text)"
            " || md5(random()::text), round((random() * 10000)::numeric, 2)"
            " FROM generate_series(1, %s) AS g",
            (rows,),
        )
        # Set the hint bits now, or the dump's first read of every page would write it.
        connection.execute("VACUUM (ANALYZE) items")
        size = connection.execute("SELECT pg_table_size('items')").fetchone()
    assert size is not None
    return rows, int(size[0])


def postgres_source(directory: Path, server: str, megabytes: int) -> dict[str, Any]:
    """Generate a big PostgreSQL table, then time its dump and its restore test."""
    source = create_database(server, "bench_source")
    (rows, size), generated = timed(lambda: make_postgres_table(source, megabytes))
    print(f"postgres table: {size / MB:.0f} MB in {generated:.1f} s; dumping …", file=sys.stderr)
    store = Store.open(f"sqlite:///{directory / 'postgres-source-store.db'}")
    backup = Backup.model_validate(
        {
            "name": "big-postgres",
            "source": {"postgres": source},
            "to": str(directory / "out-postgres"),
            "verify": {"smoke": ["SELECT count(*) FROM items"]},
        }
    )
    with peak_rss(("pg_dump",)) as rss:
        entry, took = timed(
            lambda: run(run_backup(store.engine, backup, directory, Secrets(), NOW))
        )
    print("restore test …", file=sys.stderr)
    result, verified = timed(
        lambda: run(verify_backup(store.engine, backup, entry, directory, Secrets(), NOW))
    )
    store.close()
    if result.outcome is not VerifyOutcome.PASSED:
        raise RuntimeError(f"the PostgreSQL backup did not verify: {result.detail}")
    assert entry.size is not None
    return {
        "rows": rows,
        "table_mb": round(size / MB, 1),
        "generated_seconds": round(generated, 1),
        "backup_mb": round(entry.size / MB, 1),
        "take_seconds": round(took, 2),
        "take_mb_per_second": round(size / MB / took, 1),
        "take_rss_peak_mb": round(rss["peak_mb"]),
        "verify_seconds": round(verified, 2),
        "restore_seconds": round(result.restore_seconds or 0.0, 2),
    }


def scheduled_config(directory: Path, count: int, restore_tests: bool, out: str) -> Config:
    """Return a config of ``count`` backups of tiny SQLite databases (made here if missing), each
    ``daily at 02:00`` into ``out`` under ``directory``, with a monthly restore test if asked."""
    sources = directory / "tiny"
    sources.mkdir(exist_ok=True)
    backups = []
    for i in range(count):
        path = sources / f"db-{i:03d}.sqlite"
        if not path.exists():
            with contextlib.closing(sqlite3.connect(path)) as db:
                db.executescript("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);")
        backup: dict[str, Any] = {
            "name": f"db-{i:03d}",
            "source": {"sqlite": str(path)},
            "to": f"{out}/db-{i:03d}",
            "schedule": "daily at 02:00",
        }
        if restore_tests:
            backup["verify"] = {
                "schedule": "monthly on the first sunday at 03:00",
                "smoke": ["SELECT count(*) FROM t"],
            }
        backups.append(backup)
    return Config.model_validate({"backups": backups})


async def idle_passes(store: Store, cfg: Config, directory: Path, passes: int) -> dict[str, Any]:
    """Time the worker's first pass (every backup taken) and ``passes`` passes 2 s apart after it."""
    worker = BackupWorker(store.engine, cfg, directory, Secrets())
    started = time.perf_counter()
    ran = await worker.step(NOW)
    first = time.perf_counter() - started
    with store.engine.connect() as connection:
        good = connection.scalar(
            select(func.count())
            .where(backup_catalogue.c.state == "ok")
            .select_from(backup_catalogue)
        )
    if good != len(cfg.backups):
        raise RuntimeError(f"the first pass took {good} good backups of {len(cfg.backups)}")
    times = []
    for k in range(1, passes + 1):
        started = time.perf_counter()
        ran_now = await worker.step(NOW + timedelta(seconds=2 * k))
        times.append(time.perf_counter() - started)
        if ran_now:
            raise RuntimeError(f"pass {k} ran {ran_now} jobs: nothing should have been due")
    return {"first_pass_ms": ms(first), "first_pass_jobs": ran, "idle": percentiles(times)}


def seed_catalogue(store: Store, names: list[str], per_backup: int) -> int:
    """Write ``per_backup`` daily entries for each backup straight into the catalogue: 4% failed,
    all but the last 30 days and one a month pruned, a restore test a month (one in ten failed);
    return how many verifications were written."""
    entries, verifications = [], []
    for i, name in enumerate(names):
        for j in range(per_backup):
            row_id = i * per_backup + j + 1
            started = NOW - timedelta(days=per_backup - j, hours=-2)
            # Every tenth backup's newest attempt failed, as a dashboard would show it.
            failed = j % 25 == 7 or (j == per_backup - 1 and i % 10 == 0)
            monthly = j % 30 == 0
            entries.append(
                {
                    "id": row_id,
                    "backup": name,
                    "kind": "sqlite",
                    "path": None if failed else f"/var/backups/{name}/{name}-{j}.sqlite",
                    "size": None if failed else 50_000_000 + j,
                    "sha256": None if failed else f"{row_id:064x}",
                    "started_at": started,
                    "finished_at": started + timedelta(seconds=60),
                    "state": "failed" if failed else "ok",
                    "error": "SQLite backup failed: disk I/O error" if failed else None,
                    "pruned_at": (
                        started + timedelta(days=8)
                        if not failed and not monthly and j < per_backup - 30
                        else None
                    ),
                }
            )
            if monthly and not failed:
                verifications.append(
                    {
                        "catalogue_id": row_id,
                        "at": started + timedelta(days=1),
                        "outcome": "failed" if j % 300 == 0 else "passed",
                        "restore_seconds": 12.5,
                        "detail": "smoke query failed" if j % 300 == 0 else None,
                    }
                )
    with store.engine.begin() as connection:
        connection.execute(insert(backup_catalogue), entries)
        connection.execute(insert(backup_verifications), verifications)
    return len(verifications)


def status_reads(store: Store, names: list[str], repeat: int) -> dict[str, float]:
    """Time ``backup_status`` of every backup in one connection, ``repeat`` times; p50 and max."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        with store.engine.connect() as connection:
            statuses = list(backup_statuses(connection, names).values())
        times.append(time.perf_counter() - started)
        assert all(s.newest is not None for s in statuses)
    return {"first": ms(times[0]), **percentiles(times)}


def main() -> None:
    """Build the sources and stores, time the backups, passes and reads, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sqlite-mb", type=int, default=200)
    parser.add_argument("--pg-mb", type=int, default=200)
    parser.add_argument("--backups", type=int, default=100)
    parser.add_argument("--passes", type=int, default=50)
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--status-runs", type=int, default=7)
    opts = parser.parse_args()
    # A backup taken logs a line each: hundreds here, none of them news.
    logging.basicConfig(level=logging.WARNING)
    figures: dict[str, Any] = {"backups": opts.backups, "passes": opts.passes}
    with tempfile.TemporaryDirectory(prefix="wk-bench-backups-") as name:
        directory = Path(name)
        figures["sqlite"] = sqlite_source(directory, opts.sqlite_mb)
        with postgres_server() as server:
            figures["postgres"] = postgres_source(directory, server, opts.pg_mb)
            print(f"idle passes, {opts.backups} backups …", file=sys.stderr)
            passes = {}
            for store_kind, restore_tests in (
                ("sqlite", False),
                ("postgresql", False),
                ("sqlite", True),
            ):
                key = f"{store_kind}_store" + ("_with_restore_tests" if restore_tests else "")
                url = (
                    f"sqlite:///{directory / (key + '.db')}"
                    if store_kind == "sqlite"
                    else create_database(server, "bench_store")
                )
                store = Store.open(url)
                cfg = scheduled_config(directory, opts.backups, restore_tests, f"out-{key}")
                passes[key] = run(idle_passes(store, cfg, directory, opts.passes))
                store.close()
            figures["worker"] = passes
        print(f"status of {opts.backups} backups x {opts.entries} entries …", file=sys.stderr)
        store = Store.open(f"sqlite:///{directory / 'status-store.db'}")
        names = [f"db-{i:03d}" for i in range(opts.backups)]
        figures["entries"] = opts.entries
        figures["verifications"] = seed_catalogue(store, names, opts.entries)
        figures["status"] = status_reads(store, names, opts.status_runs)
        store.close()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
