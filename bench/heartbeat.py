"""Heartbeat ingest benchmark (issue 7): pings per second accepted AND stored by a real
``watchkeeper serve`` on loopback, on SQLite and on PostgreSQL.

For each store: a config of ``--checks`` heartbeat checks (their tokens from the environment, as a
user would write them), ``watchkeeper serve`` on a free port, then wrk (Debian's package; one
thread, so the server has the other core of a 2-core machine) POSTing ``/api/ping/<token>`` over
``--connections`` keep-alive connections for ``--seconds``, cycling through the tokens. The server
is then stopped with SIGTERM (a clean stop) and the rows of ``push_pings`` counted: ``accepted`` is
the 2xx answers wrk got, ``stored`` the rows. A ping is answered only once committed, so stored is
at least accepted (pings in flight when wrk stops are stored but not counted by it); any shortfall
is reported as ``lost``. The target is 2,500 stored pings/s on each store: ten times the ~250/s
Healthchecks.io's author measured for its open-source Django ping handler with wrk on PostgreSQL
(blog.healthchecks.io, "Throughput Upgrade", 2025-07).

Usage: ``python bench/heartbeat.py [--seconds S] [--connections C] [--checks N]
[--only sqlite,postgresql]``. Installs wrk with apt-get if missing (as root). Prints progress on
stderr and, last, one line of JSON with the figures.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import create_engine, func, select

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import servers  # noqa: E402

from watchkeeper.store.tables import push_pings  # noqa: E402

TARGET = 2500.0
"""Stored pings per second the issue asks for, on each store."""

LUA = """\
local tokens = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("POST", "/api/ping/" .. tokens[(i %% #tokens) + 1])
end
"""


def say(text: str) -> None:
    """Print a progress line on stderr at once."""
    print(text, file=sys.stderr, flush=True)


def ensure_wrk() -> None:
    """Install wrk with apt-get when it is missing (needs root)."""
    if shutil.which("wrk") is None:
        say("installing wrk with apt-get …")
        subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", "wrk"], check=True)


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """Start the tests' throwaway PostgreSQL cluster; yield the URL of a fresh database on it."""
    from tests.pg_server import temporary_cluster

    with temporary_cluster("shared_buffers = 256MB\nmax_wal_size = 2GB\n") as server:
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute('CREATE DATABASE "pings"')
        yield server.rsplit("/", 1)[0] + "/pings"


@contextlib.contextmanager
def serving(store: str, directory: Path, tokens: list[str]) -> Iterator[tuple[str, Path]]:
    """Run ``watchkeeper serve`` with a heartbeat check per token; yield its URL and log file.

    The server is stopped with SIGTERM on the way out (and killed only if that fails).
    """
    checks = "".join(
        f"  - name: job-{i}\n"
        f'    heartbeat: {{token: "${{JOB_TOKEN_{i}}}", period: 1d, grace: 1h}}\n'
        "    interval: 1h\n"
        for i in range(len(tokens))
    )
    config = directory / "watchkeeper.yaml"
    config.write_text(f"store: {store}\nchecks:\n{checks}")
    env = {**os.environ, **{f"JOB_TOKEN_{i}": t for i, t in enumerate(tokens)}}
    env.pop("WATCHKEEPER_CONFIG", None)
    port = servers.free_port()
    log = directory / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "watchkeeper", "serve", "-c", str(config), "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        servers.wait_for_port(port, process, timeout=60)
        yield f"http://127.0.0.1:{port}", log
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def load(url: str, script: Path, connections: int, seconds: int) -> dict[str, Any]:
    """Given the server's URL, POST pings with wrk; return its counts, rate and latencies."""
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script)]
    out = subprocess.run(
        [*argv, url], capture_output=True, text=True, timeout=seconds + 60, check=True
    ).stdout
    total = re.search(r"(\d+) requests in", out)
    if total is None:
        raise RuntimeError(f"cannot read wrk's output:\n{out}")
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    latency = dict(re.findall(r"\s(50|99)%\s+([\d.]+\w+)", out))
    return {
        "requests": int(total.group(1)),
        "non_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors,
        "latency_p50": latency.get("50"),
        "latency_p99": latency.get("99"),
    }


def rows(store: str) -> int:
    """Return how many pings the store holds."""
    url = store.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(select(func.count()).select_from(push_pings)).scalar_one()
            )
    finally:
        engine.dispose()


def measure(kind: str, store: str, directory: Path, opts: argparse.Namespace) -> dict[str, Any]:
    """Load one store's server for the configured time; return what was accepted and stored."""
    tokens = [f"bench-job-token-{i:04d}-{os.urandom(8).hex()}" for i in range(opts.checks)]
    script = directory / "ping.lua"
    script.write_text(LUA % ", ".join(f'"{t}"' for t in tokens))
    with serving(store, directory, tokens) as (url, log):
        say(f"{kind}: warming up …")
        load(url, script, opts.connections, 2)
        before = rows(store)
        say(f"{kind}: wrk -t1 -c{opts.connections} -d{opts.seconds}s POST /api/ping/<token> …")
        started = time.monotonic()
        got = load(url, script, opts.connections, opts.seconds)
        elapsed = time.monotonic() - started
    stored = rows(store) - before
    accepted = got["requests"] - got["non_2xx"]
    text = log.read_text(errors="replace")
    leaked = any(t in text for t in tokens)
    figures = {
        "store": kind,
        "seconds": round(elapsed, 2),
        "accepted": accepted,
        "stored": stored,
        "lost": max(0, accepted - stored),
        "accepted_per_second": round(accepted / elapsed),
        "stored_per_second": round(stored / elapsed),
        "non_2xx": got["non_2xx"],
        "socket_errors": got["socket_errors"],
        "latency_p50": got["latency_p50"],
        "latency_p99": got["latency_p99"],
        "token_in_server_log": leaked,
        "target_per_second": TARGET,
        "pass": stored / elapsed >= TARGET and accepted <= stored and not leaked,
    }
    say(json.dumps(figures))
    return figures


def main() -> None:
    """Measure each store in turn; print the figures as one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--checks", type=int, default=100)
    parser.add_argument("--only", default="sqlite,postgresql")
    opts = parser.parse_args()
    ensure_wrk()
    results = []
    for kind in opts.only.split(","):
        with tempfile.TemporaryDirectory(prefix=f"wk-bench-pings-{kind}-") as tmp:
            directory = Path(tmp)
            if kind == "sqlite":
                results.append(measure(kind, f"sqlite:///{directory}/wk.db", directory, opts))
            elif kind == "postgresql":
                with postgres_database() as url:
                    results.append(measure(kind, url, directory, opts))
            else:
                raise SystemExit(f"unknown store {kind!r}: sqlite or postgresql")
    print(json.dumps({"heartbeat_ingest": results, "cpus": os.cpu_count()}))


if __name__ == "__main__":
    main()
