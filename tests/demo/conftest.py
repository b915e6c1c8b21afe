"""The demo target on a loopback port, for the tests of its parts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from watchkeeper.demo.target import create_target


@dataclass(frozen=True)
class Served:
    """The running target: its base URL, a client session and its directory (app.log, app.db)."""

    url: str
    http: aiohttp.ClientSession
    directory: Path

    async def switch(self, action: str, part: str, query: str = "") -> None:
        """Call a control: ``fail``, ``slow`` or ``quota`` a part, or ``recover``."""
        path = "/_demo/recover" if action == "recover" else f"/_demo/{action}/{part}"
        async with self.http.post(f"{self.url}{path}{query}") as resp:
            assert resp.status == 200, await resp.text()


@pytest.fixture
async def target(tmp_path: Path) -> AsyncIterator[Served]:
    """The demo target (seeded log) on a free loopback port."""
    directory = tmp_path / "target"
    runner = web.AppRunner(create_target(directory, seed=7), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        async with aiohttp.ClientSession() as http:
            yield Served(f"http://{host}:{port}", http, directory)
    finally:
        await runner.cleanup()
