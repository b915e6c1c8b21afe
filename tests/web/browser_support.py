"""What the browser tests run: Debian's chromium, the demo target and a real ``watchkeeper serve``.

The target runs in the test's event loop, so the test can make it fail while the browser watches.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from playwright.async_api import Browser, Page, Playwright, async_playwright

from tests.cli_run import cli_env
from watchkeeper.auth.accounts import add_user
from watchkeeper.auth.model import Role
from watchkeeper.demo.target import create_target
from watchkeeper.results import Status
from watchkeeper.store.store import Store

CHROMIUM = Path("/usr/bin/chromium")
# No sandbox: CI runs as root in a container. The rest keeps chromium off the network and quiet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
PASSWORD = "a long password 1"
CHECK = "api-health"


async def launch_chromium(playwright: Playwright) -> Browser:
    """Launch Debian's chromium headless; fail (never skip) when it is not installed."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium "
            "(apt-get install chromium; .ci/run installs it)",
            pytrace=False,
        )
    return await playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=60_000
    )


@asynccontextmanager
async def browser_page(url: str, timeout_ms: float = 10_000) -> AsyncIterator[Page]:
    """A fresh page of Debian's chromium, headless, with ``url`` as its base; closed after."""
    async with async_playwright() as playwright:
        browser = await launch_chromium(playwright)
        try:
            context = await browser.new_context(base_url=url)
            context.set_default_timeout(timeout_ms)
            yield await context.new_page()
        finally:
            await browser.close()


@asynccontextmanager
async def demo_target(directory: Path) -> AsyncIterator[str]:
    """Serve the demo target on a free loopback port; yield its URL."""
    runner = web.AppRunner(create_target(directory), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


async def make_target_fail(target: str, part: str = "health") -> None:
    """Ask the demo target to fail ``part`` from now on."""
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session,
        session.get(f"{target}/_demo/fail/{part}") as resp,
    ):
        assert resp.status == 200, await resp.text()


def config_text(directory: Path, target: str, port: int) -> str:
    """Return a config with one check, ``api-health``, on the target's health endpoint every second."""
    return f"""
store: sqlite:///{directory}/wk.db
server: {{host: 127.0.0.1, port: {port}}}
checks:
  - name: {CHECK}
    service: backend
    http: {{url: "{target}/api/health"}}
    interval: 1s
    expect: ['status == 200']
    alert: {{after: 1 failures}}
"""


@dataclass
class Dashboard:
    """A running ``watchkeeper serve``: its URL and its store (to set up and look inside)."""

    url: str
    store: Store

    async def wait_for_first_ok(self, timeout: float = 20) -> None:
        """Wait until ``api-health`` has an ok result, so the pages start green, not pending."""
        async with asyncio.timeout(timeout):
            while (latest := self.store.latest().get(CHECK)) is None or latest.status != Status.OK:
                await asyncio.sleep(0.2)


@asynccontextmanager
async def serving(
    directory: Path,
    target: str,
    users: Mapping[str, Role],
    config_of: Callable[[Path, str, int], str] = config_text,
) -> AsyncIterator[Dashboard]:
    """Start ``watchkeeper serve`` on ``config_of(directory, target, port)`` (by default watching
    ``target``), with ``users``; stop it with SIGTERM after."""
    async with AsyncExitStack() as stack:
        port = _free_port()
        config = directory / "watchkeeper.yaml"
        config.write_text(config_of(directory, target, port))
        store = Store.open(f"sqlite:///{directory}/wk.db")
        stack.callback(store.close)
        for name, role in users.items():
            add_user(store.engine, name, role, PASSWORD, datetime.now(UTC))
        log_path = directory / "serve.log"
        log = stack.enter_context(log_path.open("wb"))
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "watchkeeper",
            "serve",
            "-c",
            str(config),
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
            env=cli_env(),
        )
        stack.push_async_callback(_stop, proc)
        dashboard = Dashboard(f"http://127.0.0.1:{port}", store)
        await _wait_until_up(dashboard.url, proc, log_path)
        yield dashboard


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _wait_until_up(url: str, proc: asyncio.subprocess.Process, log: Path) -> None:
    async with (
        asyncio.timeout(30),
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session,
    ):
        while True:
            if proc.returncode is not None:
                raise AssertionError(
                    f"watchkeeper serve exited with {proc.returncode}:\n{log.read_text()}"
                )
            try:
                async with session.get(f"{url}/api/health") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), 20)
    except TimeoutError:
        proc.kill()
        await proc.wait()
