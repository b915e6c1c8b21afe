"""A secret in a ``run:`` step reaches the command, and nothing else: not the store, not the
messages, not what a run shows."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.procedures.checklist_support import PYTHON, messages, run, runs, stored_text
from watchkeeper.checklists.model import ItemState
from watchkeeper.config.loader import parse_config_text
from watchkeeper.config.schema import Config
from watchkeeper.config.secrets import Secrets
from watchkeeper.procedures.machine import decide_machine_items, since
from watchkeeper.procedures.schedule import start_run
from watchkeeper.procedures.worker import ProcedureWorker
from watchkeeper.results import Result
from watchkeeper.store.store import Store

MONDAY = datetime(2026, 12, 7, tzinfo=UTC)
TOKEN = "tok-7f3a9c1e55d2"
ROTATED = "tok-0b81c4aa93f7"

WRITE = "import sys; open(sys.argv[1], 'w').write(sys.argv[2]); print('using', sys.argv[2]); sys.exit(1)"
"""Writes its second argument to the file named by its first, says it, and fails."""

DEPLOY = """
notifications:
  channels: {{ops: ["json://127.0.0.1:9/ops"]}}
procedures:
  - name: deploy-audit
    title: Deploy audit
    schedule: daily at 09:00
    window: 1h
    escalate_if: ["failed_steps > 0"]
    steps:
      - run: ["{python}", -c, "{write}", "{received}", "token=${{DEPLOY_TOKEN}}"]
      - manual: "Revoke ${{DEPLOY_TOKEN}} if the audit found it in a log"
"""


def deploy(received: Path, token: str) -> tuple[Config, Secrets]:
    """Return the config with DEPLOY_TOKEN set to ``token``, and its secrets."""
    text = DEPLOY.format(python=PYTHON, write=WRITE, received=received)
    return parse_config_text(text, "watchkeeper.yaml", {"DEPLOY_TOKEN": token})


def at(hour: int, minute: int = 0) -> datetime:
    return MONDAY.replace(hour=hour, minute=minute)


async def no_checks(name: str) -> Result | None:
    return None


async def test_a_secret_in_a_run_step_reaches_the_command_and_is_stored_and_sent_nowhere(
    any_store: Store, tmp_path: Path
) -> None:
    received = tmp_path / "received"
    config, secrets = deploy(received, TOKEN)
    worker = ProcedureWorker(any_store.engine, config, no_checks, secrets)
    await worker.step(at(8))
    assert await worker.step(at(9)) == 1  # the failed command escalates at once
    assert await worker.step(at(10, 1)) == 1  # the pending manual item makes it overdue

    assert received.read_text() == f"token={TOKEN}"
    (made,) = runs(any_store.engine)
    command, manual = made.items
    assert command.argv is not None and command.argv[-1] == "token=***"
    assert command.text.endswith("token=***") and command.output == "using token=***\n"
    assert manual.text == "Revoke *** if the audit found it in a log"
    (_, escalation, failed), (_, overdue, pending) = messages(any_store.engine)
    assert escalation == "Procedure Deploy audit: 1 failed step"
    assert overdue == "Overdue: Deploy audit (due 2026-12-07 10:00 UTC)"
    assert "- 1. Run " in failed and "token=***: exit code 1" in failed
    assert "- 2. Revoke *** if the audit found it in a log" in pending
    assert TOKEN not in stored_text(any_store.engine)  # the outbox's messages included


async def test_a_rotated_secret_is_used_for_a_run_made_before_the_rotation(
    any_store: Store, tmp_path: Path
) -> None:
    received = tmp_path / "received"
    config, secrets = deploy(received, TOKEN)
    (procedure,) = config.procedures
    with any_store.engine.begin() as connection:
        run_id = start_run(connection, procedure, "ana", at(9), secrets=secrets)
    # The service keeps every secret it was ever given, and runs the step as configured now.
    rotated, more = deploy(received, ROTATED)
    secrets.add(more.values)
    await decide_machine_items(
        any_store.engine, run_id, rotated, no_checks, secrets, since(at(9, 5))
    )
    assert received.read_text() == f"token={ROTATED}"
    assert run(any_store.engine, run_id).items[0].state is ItemState.FAILED
    assert TOKEN not in stored_text(any_store.engine)
    assert ROTATED not in stored_text(any_store.engine)
