"""``watchkeeper serve``: health endpoint, clean stop on SIGTERM/SIGINT, reload on SIGHUP and on edit."""

from __future__ import annotations

import asyncio
import signal
import socket
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.cli_run import cli_env

CHECKS = """
checks:
  - name: disk
    system: {disk: /}
    interval: 1s
  - name: memory
    system: {disk: /}
    interval: 1s
"""
EXTRA_CHECK = """
  - name: root-dir
    command: {argv: [ls, /]}
    interval: 1s
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    """A running ``watchkeeper serve`` process and how to reach it."""

    def __init__(self, proc: asyncio.subprocess.Process, port: int, config: Path) -> None:
        self.proc = proc
        self.url = f"http://127.0.0.1:{port}"
        self.config = config

    async def health(self) -> dict[str, object]:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{self.url}/api/health") as resp,
        ):
            assert resp.status == 200
            body: dict[str, object] = await resp.json()
            return body

    async def wait_for(self, checks: int, timeout: float = 15) -> dict[str, object]:
        async with asyncio.timeout(timeout):
            while True:
                try:
                    health = await self.health()
                    if health["checks"] == checks:
                        return health
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.1)

    async def stop(self, sig: int = signal.SIGTERM) -> tuple[int, str]:
        self.proc.send_signal(sig)
        _, err = await asyncio.wait_for(self.proc.communicate(), 20)
        assert self.proc.returncode is not None
        return self.proc.returncode, err.decode()


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    config = tmp_path / "watchkeeper.yaml"
    config.write_text(CHECKS)
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "watchkeeper",
        "serve",
        "-c",
        str(config),
        "--port",
        str(port),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=cli_env(),
    )
    server = Served(proc, port, config)
    yield server
    if proc.returncode is None:
        proc.kill()
        await proc.wait()


def stored_results(tmp_path: Path) -> dict[str, int]:
    with sqlite3.connect(tmp_path / "watchkeeper.db") as db:
        return dict(db.execute("SELECT check_name, count(*) FROM results GROUP BY check_name"))


async def test_health_reports_version_checks_and_lag(served: Served) -> None:
    health = await served.wait_for(checks=2)
    assert health["status"] == "healthy"
    assert isinstance(health["version"], str) and health["version"]
    assert isinstance(health["scheduler_lag_ms"], int | float)
    code, _ = await served.stop()
    assert code == 0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_stop_signal_flushes_every_result(served: Served, tmp_path: Path, sig: int) -> None:
    await served.wait_for(checks=2)
    await asyncio.sleep(2.5)
    code, err = await served.stop(sig)
    assert code == 0, err
    counts = stored_results(tmp_path)
    assert counts.get("disk", 0) >= 2 and counts.get("memory", 0) >= 2, counts
    assert "every result was written" in err


async def test_sighup_applies_a_valid_config_and_refuses_an_invalid_one(served: Served) -> None:
    await served.wait_for(checks=2)
    served.config.write_text(CHECKS + EXTRA_CHECK)
    served.proc.send_signal(signal.SIGHUP)
    await served.wait_for(checks=3)

    served.config.write_text(CHECKS + "  - name: broken\n    htp: {url: 'http://x'}\n")
    served.proc.send_signal(signal.SIGHUP)
    await asyncio.sleep(1.0)
    assert (await served.health())["checks"] == 3

    # A refused reload does not stop later ones.
    served.config.write_text(CHECKS)
    served.proc.send_signal(signal.SIGHUP)
    await served.wait_for(checks=2)
    code, err = await served.stop()
    assert code == 0
    assert "config reload refused" in err
    assert f"{served.config}:10:5: unknown key 'htp' (did you mean 'http'?)" in err


async def test_editing_the_file_reloads_without_a_signal(served: Served) -> None:
    await served.wait_for(checks=2)
    await asyncio.sleep(1.1)  # let the file's mtime move on coarse-grained filesystems
    served.config.write_text(CHECKS + EXTRA_CHECK)
    await served.wait_for(checks=3, timeout=10)
    code, _ = await served.stop()
    assert code == 0
