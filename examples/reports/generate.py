"""Regenerate the sample reports beside this file: run ``watchkeeper demo`` for an hour, with the
things an hour of operations brings (an outage that opens an incident, acknowledged and resolved;
a slow spell; a burst of errors; a checklist done; a restore test), then write the weekly report
in Markdown and HTML.

    python examples/reports/generate.py               # an hour, as checked in (make sample-report)
    python examples/reports/generate.py --minutes 5   # a quick look, same events, compressed

Everything runs on loopback, in a fresh directory; the demo is stopped at the end.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent


def free_port() -> int:
    """Return a port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> int:
    """GET ``url`` and return its status (0: no answer)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310 (loopback http only)
            return int(resp.status)
    except OSError:
        return 0


def main() -> int:
    """Run the demo, play the hour's events, write the reports; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="how long to run the demo")
    parser.add_argument("--out", type=Path, default=HERE, help="where to write weekly.md/.html")
    args = parser.parse_args()
    length = args.minutes * 60.0
    port, target_port = free_port(), free_port()
    target = f"http://127.0.0.1:{target_port}"
    directory = Path(tempfile.mkdtemp(prefix="watchkeeper-sample-"))
    config = directory / "watchkeeper.yaml"
    # Fixed here rather than made up by the demo, so this script's commands read the same config.
    env = {**os.environ, "APP_ERRORS_TOKEN": secrets.token_urlsafe(24)}

    def watchkeeper(*argv: str) -> int:
        command = [sys.executable, "-m", "watchkeeper", *argv, "-c", str(config)]
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        print(f"  $ watchkeeper {' '.join(argv)} -> exit {done.returncode}", flush=True)
        if done.returncode not in (0, 1, 2):
            print(done.stdout + done.stderr, file=sys.stderr)
        return done.returncode

    def fail(part: str) -> Callable[[], int]:
        return lambda: get(f"{target}/_demo/fail/{part}")

    def recover() -> int:
        return get(f"{target}/_demo/recover")

    events: list[tuple[float, str, Callable[[], object]]] = [
        (0.05, "start the daily checklist", lambda: watchkeeper(
            "checklist", "start", "daily-health", "--by", "dana")),
        (0.08, "tick its manual item", lambda: watchkeeper(
            "checklist", "tick", "1", "5", "--by", "dana", "--note", "all providers available")),
        (0.15, "the database goes away", fail("health")),
        (0.19, "on-call acknowledges", lambda: watchkeeper(
            "incident", "ack", "1", "--by", "sam", "--note", "database unreachable, looking")),
        (0.23, "the database is back", recover),
        (0.26, "on-call resolves", lambda: watchkeeper(
            "incident", "resolve", "1", "--by", "sam", "--note", "connection pool restarted")),
        (0.45, "the homepage slows down", lambda: get(f"{target}/_demo/slow/home?ms=800")),
        (0.55, "the homepage is fast again", recover),
        (0.65, "agents start failing", fail("agents")),
        (0.68, "agents recover", recover),
        (0.75, "restore-test the backup", lambda: watchkeeper("backup", "verify", "app-db")),
    ]  # fmt: skip
    demo = subprocess.Popen(
        [sys.executable, "-m", "watchkeeper", "demo", "--dir", str(directory),
         "--port", str(port), "--target-port", str(target_port)],
        env=env, stdout=subprocess.DEVNULL, stderr=(directory / "demo.log").open("w"),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while get(f"http://127.0.0.1:{port}/api/health") != 200:
            if demo.poll() is not None or time.monotonic() > deadline:
                print(f"the demo did not start; see {directory / 'demo.log'}", file=sys.stderr)
                return 1
            time.sleep(0.5)
        started = time.monotonic()
        print(f"demo running in {directory} for {args.minutes:g} minutes", flush=True)
        for at, what, do in events:
            time.sleep(max(0.0, started + at * length - time.monotonic()))
            print(f"{time.monotonic() - started:7.0f}s  {what}", flush=True)
            do()
        time.sleep(max(0.0, started + length - time.monotonic()))
        args.out.mkdir(parents=True, exist_ok=True)
        for form in ("md", "html"):
            out = args.out / f"weekly.{form}"
            if watchkeeper("report", "weekly", "--format", form, "--out", str(out)) != 0:
                return 1
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            demo.wait(30)
        except subprocess.TimeoutExpired:
            demo.kill()
    print(f"written: {args.out / 'weekly.md'}, {args.out / 'weekly.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
