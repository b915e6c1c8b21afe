"""Alerting end to end: ``watchkeeper serve`` against a real target, webhook and SMTP receivers."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from aiohttp import web

from tests.alerting.receivers import SmtpReceiver, WebhookReceiver
from tests.cli_run import cli_env
from tests.web.test_serve import free_port


class Target:
    """An HTTP endpoint whose health the test switches."""

    def __init__(self) -> None:
        self.healthy = True
        app = web.Application()
        app.router.add_get("/health", self._health)
        self.runner = web.AppRunner(app)
        self.url = ""

    async def _health(self, request: web.Request) -> web.Response:
        if self.healthy:
            return web.json_response({"status": "healthy"})
        return web.json_response({"status": "down"}, status=503)

    async def start(self) -> None:
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}/health"


@pytest.fixture
async def target() -> AsyncIterator[Target]:
    t = Target()
    await t.start()
    yield t
    await t.runner.cleanup()


@pytest.fixture
async def hook() -> AsyncIterator[WebhookReceiver]:
    async with WebhookReceiver() as receiver:
        yield receiver


class Serve:
    """Start and stop ``watchkeeper serve`` processes on one config."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.proc: asyncio.subprocess.Process | None = None
        self.port = 0

    async def start(self) -> None:
        self.port = free_port()
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "watchkeeper",
            "serve",
            "-c",
            str(self.config),
            "--port",
            str(self.port),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            env=cli_env(),
        )

    async def stop(self, sig: int = signal.SIGTERM) -> str:
        assert self.proc is not None
        self.proc.send_signal(sig)
        _, err = await asyncio.wait_for(self.proc.communicate(), 20)
        return err.decode()


@pytest.fixture
async def serve(tmp_path: Path) -> AsyncIterator[Callable[[str], Serve]]:
    started: list[Serve] = []

    def make(text: str) -> Serve:
        config = tmp_path / "watchkeeper.yaml"
        config.write_text(text)
        started.append(Serve(config))
        return started[-1]

    yield make
    for s in started:
        if s.proc is not None and s.proc.returncode is None:
            s.proc.kill()
            await s.proc.wait()


async def until(condition: Callable[[], bool], timeout: float = 30) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.1)


def config(target: Target, channels: str, reminder: str = "1h") -> str:
    return f"""
alerting: {{defaults: {{after: 2 failures, reminder: {reminder}}}}}
notifications:
  channels:
{channels}
checks:
  - name: api
    service: backend
    http: {{url: "{target.url}"}}
    interval: 300ms
    expect: ['status == 200']
"""


async def test_one_firing_message_reminders_and_one_resolved_by_webhook_and_email(
    target: Target, hook: WebhookReceiver, serve: Callable[[str], Serve]
) -> None:
    async with SmtpReceiver() as smtp:
        channels = f'    hook: ["{hook.url()}"]\n    mail: ["{smtp.url()}"]'
        server = serve(config(target, channels, reminder="2s"))
        await server.start()
        await asyncio.sleep(1.0)
        target.healthy = False
        await until(lambda: "[CRITICAL] api is failing" in hook.titles)
        firing = next(m for m in hook.received if m["title"] == "[CRITICAL] api is failing")
        assert "expected status == 200 (status = 503)" in firing["message"]
        await until(lambda: any(t.startswith("[REMINDER]") for t in hook.titles))
        target.healthy = True
        await until(lambda: "[RESOLVED] api recovered" in hook.titles)
        await until(lambda: any("RESOLVED" in str(m["subject"]) for m in smtp.messages))
        await asyncio.sleep(1.5)
        assert (await server.stop()) is not None
    assert hook.titles.count("[CRITICAL] api is failing") == 1
    assert hook.titles.count("[RESOLVED] api recovered") == 1
    assert hook.titles.index("[RESOLVED] api recovered") == len(hook.titles) - 1
    subjects = [str(m["subject"]) for m in smtp.messages]
    assert subjects.count("[CRITICAL] api is failing") == 1


async def test_receiver_down_for_a_while_loses_nothing_and_repeats_nothing(
    target: Target, hook: WebhookReceiver, serve: Callable[[str], Serve]
) -> None:
    server = serve(config(target, f'    hook: ["{hook.url()}"]'))
    await server.start()
    await hook.down()
    await asyncio.sleep(1.0)
    target.healthy = False
    await asyncio.sleep(3)
    target.healthy = True
    await asyncio.sleep(2)
    assert hook.received == []
    await hook.up()
    # Retries back off 5, 10, 20, 40 s: on a loaded machine a third attempt can fall inside the
    # outage, and the next one is then 40 s away.
    await until(lambda: len(hook.titles) >= 2, timeout=90)
    await asyncio.sleep(1.5)
    await server.stop()
    assert hook.titles == ["[CRITICAL] api is failing", "[RESOLVED] api recovered"]


def outbox_rows(db: Path) -> list[tuple[str, int, object]]:
    try:
        with sqlite3.connect(db) as c:
            return c.execute("SELECT title, attempts, delivered_at FROM outbox").fetchall()
    except sqlite3.OperationalError:  # not created yet: serve is still starting
        return []


async def test_sigkill_before_delivery_delivers_after_restart_once(
    target: Target, hook: WebhookReceiver, serve: Callable[[str], Serve], tmp_path: Path
) -> None:
    server = serve(config(target, f'    hook: ["{hook.url()}"]'))
    await hook.down(refuse=True)
    await server.start()
    await asyncio.sleep(1.0)
    target.healthy = False
    db = tmp_path / "watchkeeper.db"
    await until(lambda: any(attempts >= 1 for _, attempts, _ in outbox_rows(db)))
    await server.stop(signal.SIGKILL)
    assert hook.received == []

    # While Watchkeeper is down the target recovers; after restart: the firing, then the resolved.
    target.healthy = True
    await hook.up()
    await server.start()
    await until(lambda: "[RESOLVED] api recovered" in hook.titles, timeout=40)
    await asyncio.sleep(1.5)
    await server.stop()
    assert hook.titles == ["[CRITICAL] api is failing", "[RESOLVED] api recovered"]
    assert [delivered is not None for *_, delivered in outbox_rows(db)] == [True, True]


async def test_maintenance_window_marks_results_and_sends_nothing(
    target: Target, hook: WebhookReceiver, serve: Callable[[str], Serve], tmp_path: Path
) -> None:
    # A window that opens every minute and lasts two: always open while the test runs.
    window = "maintenance: [{schedule: '* * * * *', duration: 2m, match: {service: backend}}]\n"
    server = serve(window + config(target, f'    hook: ["{hook.url()}"]'))
    target.healthy = False
    await server.start()
    db = tmp_path / "watchkeeper.db"

    def suppressed() -> list[str]:
        try:
            with sqlite3.connect(db) as c:
                return [r[0] for r in c.execute("SELECT suppressed FROM notifications")]
        except sqlite3.OperationalError:
            return []

    await until(lambda: "maintenance" in suppressed())
    await server.stop()
    with sqlite3.connect(db) as c:
        marks = {bool(m) for (m,) in c.execute("SELECT maintenance FROM results")}
    assert marks == {True}
    assert hook.received == []


async def test_a_dead_database_behind_three_endpoints_pages_once(
    target: Target, hook: WebhookReceiver, serve: Callable[[str], Serve], closed_port: int
) -> None:
    target.healthy = False  # the endpoints fail because their database is down
    endpoints = "".join(
        f"""
  - name: {name}
    http: {{url: "{target.url}"}}
    interval: 300ms
    depends_on: [database]
"""
        for name in ("orders", "users", "search")
    )
    server = serve(
        f"""
alerting: {{defaults: {{after: 2 failures}}}}
notifications: {{channels: {{hook: ["{hook.url()}"]}}}}
checks:
  - name: database
    tcp: {{host: 127.0.0.1, port: {closed_port}}}
    interval: 300ms
{endpoints}"""
    )
    await server.start()
    await until(lambda: len(hook.titles) >= 1)
    await asyncio.sleep(3)  # plenty of further failing results for all four
    await server.stop()
    assert hook.titles == ["[CRITICAL] database is failing"]
