"""Alert latency: from a failing result to the message at a receiver, through a real ``serve``.

A target on 127.0.0.1 is switched between healthy and failing; ``watchkeeper serve`` checks it every
200 ms with ``after: 1`` and sends to an Apprise ``json://`` receiver in this process. For each
trial, latency = the message's arrival - the start of the result that decided it (the alert's
``since`` for a firing, ``resolved_at`` for a recovery, read from the store). Prints JSON.

Usage: ``python bench/alerts.py [--trials N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import signal
import socket
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from aiohttp import web


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], p: float) -> float:
    """Return the p-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))]


def stored_time(db: Path, column: str) -> float:
    """Return the newest alert's ``column`` (since or resolved_at) as a Unix time."""
    with sqlite3.connect(db) as c:
        (text,) = c.execute(f"SELECT {column} FROM alerts ORDER BY id DESC LIMIT 1").fetchone()
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


async def main(trials: int) -> dict[str, object]:
    """Run the trials; return latencies in milliseconds."""
    arrivals: asyncio.Queue[tuple[float, str]] = asyncio.Queue()
    healthy = True

    async def hook(request: web.Request) -> web.Response:
        arrived = time.time()
        body = await request.json()
        arrivals.put_nowait((arrived, body["title"]))
        return web.Response(text="ok")

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"}, status=200 if healthy else 503)

    app = web.Application()
    app.router.add_post("/hook", hook)
    app.router.add_get("/health", health)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()

    workdir = Path(tempfile.mkdtemp(prefix="wk-bench-alerts-"))
    config = workdir / "watchkeeper.yaml"
    config.write_text(
        f"""
alerting: {{defaults: {{after: 1, reminder: 1h}}, flapping: {{transitions: 100000}}}}
notifications: {{channels: {{hook: ["json://127.0.0.1:{port}/hook"]}}}}
checks:
  - {{name: api, http: {{url: "http://127.0.0.1:{port}/health"}}, interval: 200ms}}
"""
    )
    serve_port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "watchkeeper",
        "serve",
        "-c",
        str(config),
        "--port",
        str(serve_port),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    firing: list[float] = []
    resolved: list[float] = []
    try:
        async with aiohttp.ClientSession() as session:
            async with asyncio.timeout(30):
                while True:
                    try:
                        async with session.get(f"http://127.0.0.1:{serve_port}/api/health") as r:
                            if r.status == 200:
                                break
                    except aiohttp.ClientError:
                        await asyncio.sleep(0.2)
        await asyncio.sleep(1.0)
        db = workdir / "watchkeeper.db"
        for _ in range(trials):
            healthy = False
            arrived, title = await asyncio.wait_for(arrivals.get(), 20)
            assert title.startswith("[CRITICAL]"), title
            firing.append((arrived - stored_time(db, "since")) * 1000)
            healthy = True
            arrived, title = await asyncio.wait_for(arrivals.get(), 20)
            assert title.startswith("[RESOLVED]"), title
            resolved.append((arrived - stored_time(db, "resolved_at")) * 1000)
    finally:
        proc.send_signal(signal.SIGTERM)
        await proc.wait()
        await runner.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)
    return {
        "trials": trials,
        "firing_p50_ms": percentile(firing, 50),
        "firing_p99_ms": percentile(firing, 99),
        "firing_max_ms": max(firing),
        "resolved_p50_ms": percentile(resolved, 50),
        "resolved_p99_ms": percentile(resolved, 99),
        "mean_ms": statistics.fmean(firing + resolved),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=40)
    print(json.dumps(asyncio.run(main(parser.parse_args().trials))))
