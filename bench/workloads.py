"""The measured workloads, each run by ``run.py`` in a fresh process so memory and the loop start clean.

    python bench/workloads.py pipeline URL --checks 8000 [--fresh] --warmup 5 --seconds 15
    python bench/workloads.py lag URL --checks 10000 --seconds 75
    python bench/workloads.py bare URL [--fresh] --warmup 2 --seconds 10

``pipeline`` and ``lag`` run the service ``watchkeeper serve`` runs (config → plan → scheduler → runner
→ http probe → evaluator → result writer → SQLite store), on uvloop, with its logging set up alike.
``bare`` is the reference: 100 aiohttp workers on one session, GET and read the body, nothing else.
Each prints one JSON object on stdout; logs go to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import psutil
import uvloop
import yaml
from sqlalchemy import func, select

from watchkeeper.config.loader import LoadedConfig, load_config
from watchkeeper.config.schema import Config
from watchkeeper.results import Result
from watchkeeper.service import Watchkeeper
from watchkeeper.store.store import Store
from watchkeeper.store.tables import results

EXPECT = ["status == 200", 'json.status == "ok"']
WARN = ["response_time > 500ms"]


def config_data(url: str, checks: int, interval: str, keepalive: bool) -> dict[str, Any]:
    """Given a target URL, return a config of ``checks`` HTTP checks on it, as the YAML would hold it."""
    return {
        "checks": [
            {
                "name": f"http-{i:05d}",
                "interval": interval,
                "http": {"url": url, "keepalive": keepalive},
                "expect": EXPECT,
                "warn": WARN,
            }
            for i in range(checks)
        ]
    }


def rss_mb() -> float:
    """Return this process's resident memory in MB (10^6 bytes)."""
    return psutil.Process().memory_info().rss / 1e6


async def count_results(store: Store) -> tuple[int, int]:
    """Return how many results the store holds and the highest result id (0 when none)."""

    def query() -> tuple[int, int]:
        with store.engine.connect() as connection:
            row = connection.execute(select(func.count(), func.max(results.c.id))).one()
        return row[0], row[1] or 0

    return await asyncio.to_thread(query)


async def statuses_between(store: Store, after_id: int, upto_id: int) -> dict[str, int]:
    """Return how many results of each status have ids in (after_id, upto_id]."""

    def query() -> dict[str, int]:
        statement = (
            select(results.c.status, func.count())
            .where(results.c.id > after_id, results.c.id <= upto_id)
            .group_by(results.c.status)
        )
        with store.engine.connect() as connection:
            return {status: n for status, n in connection.execute(statement)}

    return await asyncio.to_thread(query)


@contextlib.contextmanager
def scratch_dir() -> Iterator[Path]:
    """Yield a temp directory for the config and the SQLite store, removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix="wk-bench-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


async def pipeline(
    url: str, checks: int, keepalive: bool, warmup: float, seconds: float
) -> dict[str, Any]:
    """Offer ``checks`` checks every second; return the results written to the store per second."""
    with scratch_dir() as tmp:
        config = Config.model_validate(config_data(url, checks, "1s", keepalive))
        store = Store.open(f"sqlite:///{tmp / 'bench.db'}")
        try:
            wk = Watchkeeper(LoadedConfig(config=config, path=tmp / "watchkeeper.yaml"), store)
            # Counting what the scheduler hands to the writer tells running apart from writing.
            finished = 0

            def counted(result: Result) -> None:
                nonlocal finished
                finished += 1
                wk.writer.submit(result)

            wk.scheduler.sink = counted
            service = asyncio.create_task(wk.run())
            await asyncio.sleep(warmup)
            cpu0 = sum(psutil.Process().cpu_times()[:2])
            (n0, id0), t0, f0 = await count_results(store), time.perf_counter(), finished
            await asyncio.sleep(seconds)
            (n1, id1), t1, f1 = await count_results(store), time.perf_counter(), finished
            cpu1 = sum(psutil.Process().cpu_times()[:2])
            pending, skipped = wk.writer.pending, wk.scheduler.skipped
            wk.stop()
            await service
            statuses = await statuses_between(store, id0, id1)
        finally:
            store.close()
    return {
        "checks": checks,
        "keepalive": keepalive,
        "seconds": round(t1 - t0, 3),
        "written": n1 - n0,
        "per_second": round((n1 - n0) / (t1 - t0), 1),
        "finished_per_second": round((f1 - f0) / (t1 - t0), 1),
        "statuses": statuses,
        "cpu_percent": round(100 * (cpu1 - cpu0) / (t1 - t0), 1),
        "skipped": skipped,
        "pending_at_end": pending,
    }


async def lag(url: str, checks: int, seconds: float) -> dict[str, Any]:
    """Schedule ``checks`` checks every 60s from a YAML file; return start lag, runs and memory."""
    baseline = rss_mb()
    with scratch_dir() as tmp:
        path = tmp / "watchkeeper.yaml"
        data = config_data(url, checks, "60s", True)
        path.write_text(yaml.dump(data, Dumper=yaml.CSafeDumper, sort_keys=False))
        t0 = time.perf_counter()
        loaded = load_config(path)
        load_seconds = time.perf_counter() - t0
        store = Store.open(loaded.store_url)
        try:
            wk = Watchkeeper(loaded, store)
            service = asyncio.create_task(wk.run())
            worst_p99 = 0.0
            # LagStats keeps the last 5,000 starts, so sample it often enough to see the whole run.
            deadline = time.monotonic() + seconds
            while (left := deadline - time.monotonic()) > 0:
                await asyncio.sleep(min(10.0, left))
                worst_p99 = max(worst_p99, wk.scheduler.lag.percentile_ms(99))
            figures = {
                "lag_p50_ms": round(wk.scheduler.lag.percentile_ms(50), 3),
                "lag_p99_ms": round(wk.scheduler.lag.percentile_ms(99), 3),
                "lag_max_ms": round(wk.scheduler.lag.percentile_ms(100), 3),
                "lag_worst_sampled_p99_ms": round(worst_p99, 3),
                "skipped": wk.scheduler.skipped,
                "scheduled": len(wk.scheduler.plans),
                "rss_mb": round(rss_mb(), 1),
            }
            wk.stop()
            await service
            runs, _ = await count_results(store)
            statuses = await statuses_between(store, 0, sys.maxsize)
        finally:
            store.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6  # ru_maxrss is in KiB
    return {
        "checks": checks,
        "seconds": seconds,
        "config_load_seconds": round(load_seconds, 2),
        "runs": runs,
        "statuses": statuses,
        "baseline_rss_mb": round(baseline, 1),
        "peak_rss_mb": round(peak_mb, 1),
        **figures,
    }


async def bare(
    url: str, keepalive: bool, warmup: float, seconds: float, workers: int = 100
) -> dict[str, Any]:
    """Run ``workers`` aiohttp GET-and-read loops on one session; return responses per second."""
    done = failed = 0
    stopping = False
    connector = aiohttp.TCPConnector(limit=0, force_close=not keepalive)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal done, failed
            while not stopping:
                async with session.get(url) as response:
                    await response.read()
                if response.status == 200:
                    done += 1
                else:
                    failed += 1

        tasks = [asyncio.create_task(worker()) for _ in range(workers)]
        await asyncio.sleep(warmup)
        n0, t0 = done, time.perf_counter()
        await asyncio.sleep(seconds)
        n1, t1 = done, time.perf_counter()
        stopping = True
        await asyncio.gather(*tasks)
    return {
        "keepalive": keepalive,
        "workers": workers,
        "per_second": round((n1 - n0) / (t1 - t0), 1),
        "failed": failed,
    }


def _setup_logging() -> None:
    # As `watchkeeper serve` sets it up, so that what the service logs under load is paid for here too.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.WARNING)
    logging.getLogger("watchkeeper").setLevel(logging.INFO)


def _raise_fd_limit() -> None:
    # A thousand concurrent checks hold a thousand sockets; 1,024 descriptors is a common default.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main() -> None:
    """Run the workload named on the command line and print its figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=["pipeline", "lag", "bare"])
    parser.add_argument("url")
    parser.add_argument("--checks", type=int, default=8000)
    parser.add_argument("--fresh", action="store_true", help="a new connection per request")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    _setup_logging()
    _raise_fd_limit()
    work: Coroutine[Any, Any, dict[str, Any]]
    if args.workload == "pipeline":
        work = pipeline(args.url, args.checks, not args.fresh, args.warmup, args.seconds)
    elif args.workload == "lag":
        work = lag(args.url, args.checks, args.seconds)
    else:
        work = bare(args.url, not args.fresh, args.warmup, args.seconds)
    print(json.dumps(uvloop.run(work)))


if __name__ == "__main__":
    main()
