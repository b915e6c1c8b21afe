"""What the checklist tests share: a config from YAML text, real checks to run, reading runs and
messages back, and a gate that holds a command until the test lets it go on."""

from __future__ import annotations

import asyncio
import sys
from types import TracebackType

from sqlalchemy import Engine, select

from watchkeeper.checklists.model import Run
from watchkeeper.checklists.runs import get_run, list_runs
from watchkeeper.config.loader import parse_config_text
from watchkeeper.config.schema import Config
from watchkeeper.config.secrets import Secrets
from watchkeeper.engine.plan import plan_checks
from watchkeeper.engine.runner import Runner
from watchkeeper.probes import ProbeContext
from watchkeeper.procedures.machine import RunCheck
from watchkeeper.results import Result
from watchkeeper.store.store import Store
from watchkeeper.store.tables import metadata, outbox

PYTHON = sys.executable

GATED = "import socket, sys; socket.create_connection(('127.0.0.1', int(sys.argv[-1]))).recv(2)"
"""A ``python -c`` program that waits at the gate on port ``argv[-1]`` until it opens."""


def config_of(text: str) -> Config:
    """Given YAML text, return the validated config."""
    config, _ = parse_config_text(text, "watchkeeper.yaml", {})
    return config


def runs(engine: Engine, procedure: str | None = None) -> list[Run]:
    """Return the runs (of one procedure), oldest scheduled first."""
    with engine.connect() as connection:
        return list(reversed(list_runs(connection, procedure=procedure)))


def run(engine: Engine, run_id: int) -> Run:
    """Return the run, which must exist."""
    with engine.connect() as connection:
        found = get_run(connection, run_id)
    assert found is not None
    return found


def messages(engine: Engine) -> list[tuple[str, str, str]]:
    """Return every queued message as (channel, title, body), oldest first."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(outbox.c.channel, outbox.c.title, outbox.c.body).order_by(outbox.c.id)
        )
        return [(row.channel, row.title, row.body) for row in rows]


def checks_of(config: Config, ctx: ProbeContext, store: Store) -> RunCheck:
    """Return what the service passes as ``run_check``: run a configured check now and store it."""
    plans = {plan.name: plan for plan in plan_checks(config)}
    runner = Runner(ctx, Secrets())

    async def run_check(name: str) -> Result | None:
        plan = plans.get(name)
        if plan is None:
            return None
        result = await runner.run(plan)
        store.insert_results([result])
        return result

    return run_check


def stored_text(engine: Engine) -> str:
    """Return every row of every table as text, to search for what must never be stored."""
    with engine.connect() as connection:
        return "\n".join(
            repr(row)
            for table in metadata.sorted_tables
            for row in connection.execute(table.select())
        )


class Gate:
    """A loopback server that holds each command connecting to it (see GATED) until it opens."""

    def __init__(self) -> None:
        self.arrivals = 0
        self._arrived = asyncio.Event()
        self._waiting: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> Gate:
        self._server = await asyncio.start_server(self._arrive, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.open()
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _arrive(self, _: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.arrivals += 1
        self._waiting.append(writer)
        self._arrived.set()

    async def reached(self, timeout: float = 30.0) -> None:
        """Return once a command is waiting at the gate (fail after ``timeout`` seconds)."""
        await asyncio.wait_for(self._arrived.wait(), timeout)

    def open(self) -> None:
        """Let every waiting command go on."""
        for writer in self._waiting:
            writer.write(b"go")
            writer.close()
        self._waiting.clear()
