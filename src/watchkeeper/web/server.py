"""Run Watchkeeper and its web server in one asyncio loop, with signals for stop and reload."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator

import uvicorn

from watchkeeper.service import Watchkeeper
from watchkeeper.web.app import create_app

log = logging.getLogger("watchkeeper.server")


class _Server(uvicorn.Server):
    # We own SIGINT/SIGTERM/SIGHUP: uvicorn's own handlers would re-raise the signal on exit
    # and end the process before the last results are written.
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(wk: Watchkeeper, host: str, port: int) -> None:
    """Run checks and serve HTTP on host:port until SIGINT or SIGTERM; SIGHUP reloads the config."""
    config = uvicorn.Config(
        create_app(wk), host=host, port=port, log_level="warning", lifespan="off", access_log=False
    )
    server = _Server(config)
    loop = asyncio.get_running_loop()

    def stop(signame: str) -> None:
        log.info("%s received: stopping", signame)
        wk.stop()
        server.should_exit = True

    loop.add_signal_handler(signal.SIGINT, stop, "SIGINT")
    loop.add_signal_handler(signal.SIGTERM, stop, "SIGTERM")
    loop.add_signal_handler(signal.SIGHUP, wk.request_reload)
    web = asyncio.create_task(server.serve(), name="web")
    try:
        await wk.run()
    finally:
        server.should_exit = True
        await web
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.remove_signal_handler(sig)
