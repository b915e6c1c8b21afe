"""A throwaway Redis server for the tests: a real ``redis-server`` on a free loopback port."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import redis


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def redis_server(
    directory: Path, *, password: str | None = None, maxmemory: str | None = None
) -> Iterator[str]:
    """Start ``redis-server`` in ``directory`` on a free loopback port; yield its URL (without the
    password); stop it after."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError(
            "redis-server was not found: install it (apt-get install redis-server; .ci/run does)"
        )
    port = _free_port()
    argv = [binary, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(directory)]
    argv += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
    if password is not None:
        argv += ["--requirepass", password]
    if maxmemory is not None:
        argv += ["--maxmemory", maxmemory, "--maxmemory-policy", "allkeys-lru"]
    log = directory / "redis.log"
    proc = subprocess.Popen([*argv, "--logfile", str(log)], stdin=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        _wait_until_up(url, password, proc, log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_until_up(
    url: str, password: str | None, proc: subprocess.Popen[bytes], log: Path
) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            with redis.Redis.from_url(url, password=password, socket_timeout=2) as client:
                client.ping()
            return
        except redis.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                text = log.read_text() if log.exists() else ""
                raise RuntimeError(f"redis-server did not start:\n{text}") from None
            time.sleep(0.05)
