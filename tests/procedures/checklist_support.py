"""What the checklist tests share: a config from YAML text, real checks to run, and reading runs
and messages back."""

from __future__ import annotations

import sys

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
from watchkeeper.store.tables import outbox

PYTHON = sys.executable


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
