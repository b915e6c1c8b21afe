"""The procedure worker over a real store: overdue runs, messages, completion and escalation."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from tests.alerting.receivers import WebhookReceiver
from tests.procedures.checklist_support import PYTHON, config_of, messages, run, runs
from watchkeeper.alerting.outbox import Sender, pending
from watchkeeper.alerting.worker import channels_of
from watchkeeper.checklists.decisions import decide
from watchkeeper.checklists.model import Item, ItemState, Run, RunState
from watchkeeper.config.procedures import StepKind
from watchkeeper.config.secrets import Secrets
from watchkeeper.incidents import records
from watchkeeper.incidents.model import MACHINE
from watchkeeper.procedures.completion import complete_run, settled_conditions
from watchkeeper.procedures.schedule import start_run
from watchkeeper.procedures.worker import ProcedureWorker
from watchkeeper.results import Result, Status
from watchkeeper.store.store import Store

MONDAY = datetime(2026, 12, 7, tzinfo=UTC)

DAILY = """
server: {{base_url: "https://wk.example.com/"}}
notifications:
  channels: {{ops: ["{url}"], everyone: ["json://127.0.0.1:9/all"]}}
procedures:
  - name: daily-health
    title: System Health Checks
    schedule: daily at 09:00
    owner: DevOps
    window: 2h
    notify: ops
    steps:
      - manual: Check deployment status
      - manual: Verify key endpoints
"""


async def no_checks(name: str) -> Result | None:
    """These procedures have no ``check:`` items."""
    return None


def at(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return MONDAY.replace(hour=hour, minute=minute, second=second)


def about(moment: datetime | None, expected: datetime) -> bool:
    """Return True if ``moment`` is the pass's start moved on by the few seconds the pass took."""
    return moment is not None and expected <= moment < expected + timedelta(seconds=30)


async def test_an_incomplete_run_turns_overdue_at_its_due_time_and_is_announced_once(
    any_store: Store,
) -> None:
    worker = ProcedureWorker(
        any_store.engine,
        config_of(DAILY.format(url="json://127.0.0.1:9/ops")),
        no_checks,
        Secrets(),
    )
    for moment in (at(8), at(9), at(10, 59), at(11)):
        assert await worker.step(moment) == 0
    (created,) = runs(any_store.engine)
    assert created.due_at == at(11) and created.overdue_at is None
    assert pending(any_store.engine) == []

    with any_store.engine.begin() as connection:
        decide(connection, created.id, 1, ItemState.PASSED, "ana", at(10))
    assert await worker.step(at(11, 0, 1)) == 1
    assert await worker.step(at(11, 30)) == 0
    assert run(any_store.engine, created.id).overdue_at == at(11, 0, 1)
    (queued,) = pending(any_store.engine)
    assert (queued.channel, queued.title) == (
        "ops",
        "Overdue: System Health Checks (due 2026-12-07 11:00 UTC)",
    )
    ((_, _, body),) = messages(any_store.engine)
    assert body.splitlines() == [
        "Owner: DevOps",
        "Pending items (1 of 2):",
        "- 2. Verify key endpoints",
        f"https://wk.example.com/checklists/{created.id}",
    ]


async def test_the_overdue_message_reaches_a_real_webhook(any_store: Store) -> None:
    async with WebhookReceiver() as hook:
        config = config_of(DAILY.format(url=hook.url()))
        worker = ProcedureWorker(any_store.engine, config, no_checks, Secrets())
        for moment in (at(8), at(9), at(12)):
            await worker.step(moment)
        sender = Sender(any_store.engine, channels_of(config, Secrets()), clock=lambda: at(12))
        assert await sender.send_due() == 1
    assert hook.titles == ["Overdue: System Health Checks (due 2026-12-07 11:00 UTC)"]
    assert "Pending items (2 of 2):" in hook.received[0]["message"]
    assert pending(any_store.engine) == []


ALL_MACHINE = f"""
notifications:
  channels: {{ops: ["json://127.0.0.1:9/ops"], dev: ["json://127.0.0.1:9/dev"]}}
procedures:
  - name: security-audit
    title: Security Audit
    schedule: weekly on monday at 10:00
    escalate_if: ["failed_steps > 0"]
    steps:
      - run: ["{PYTHON}", -c, "print('audit clean')"]
      - run: ["{PYTHON}", -c, "import sys; print('2 high'); sys.exit(1)"]
"""


async def test_a_run_the_machine_decides_alone_is_completed_and_escalated_by_alerting(
    any_store: Store,
) -> None:
    worker = ProcedureWorker(any_store.engine, config_of(ALL_MACHINE), no_checks, Secrets())
    await worker.step(at(9))
    assert await worker.step(at(10)) == 2  # the escalation, to both channels (notify is empty)
    (done,) = runs(any_store.engine)
    assert (done.state, done.completed_by, done.completed_at) == (
        RunState.COMPLETED,
        MACHINE,
        at(10),
    )
    assert [i.state for i in done.items] == [ItemState.PASSED, ItemState.FAILED]
    assert about(done.escalated_at, at(10)) and done.escalations_made == "Alerted ops, dev"
    queued = messages(any_store.engine)
    assert [(channel, title) for channel, title, _ in queued] == [
        ("ops", "Procedure Security Audit: 1 failed step"),
        ("dev", "Procedure Security Audit: 1 failed step"),
    ]
    assert "- 2. Run " in queued[0][2] and ": exit code 1" in queued[0][2]
    assert await worker.step(at(10, 5)) == 0  # escalated once


ESCALATING = """
procedures:
  - name: backup-verification
    title: Backup Verification
    escalate_if: ["failed_steps >= 2", "overdue"]
    escalate_to: P2
    window: 1h
    steps:
      - manual: Verify automated git backups
      - manual: Check deployment configuration backups
      - manual: Verify environment variable backups
"""


async def test_completing_with_failed_steps_opens_an_incident_when_escalate_to_is_set(
    any_store: Store,
) -> None:
    config = config_of(ESCALATING)
    (procedure,) = config.procedures
    with any_store.engine.begin() as connection:
        run_id = start_run(connection, procedure, "ana", at(15), secrets=Secrets())
        decide(connection, run_id, 1, ItemState.FAILED, "ana", at(15), "no backup since 3d")
        decide(connection, run_id, 2, ItemState.FAILED, "ana", at(15))
        decide(connection, run_id, 3, ItemState.PASSED, "ana", at(15))
        done = complete_run(connection, config, run_id, "ana", at(15, 20), None)
        incident = records.get(connection, 1)
    assert done.escalations_made == "Opened incident #1" and done.escalated_at == at(15, 20)
    assert incident is not None
    assert (incident.title, incident.severity, incident.source_key) == (
        "Procedure Backup Verification: 2 failed steps",
        "P2",
        f"procedure:backup-verification:{run_id}",
    )
    assert "1. Verify automated git backups: no backup since 3d" in incident.summary
    assert "2. Check deployment configuration backups" in incident.summary


async def test_an_overdue_run_escalates_when_its_conditions_say_so(any_store: Store) -> None:
    config = config_of(ESCALATING)
    (procedure,) = config.procedures
    with any_store.engine.begin() as connection:
        run_id = start_run(connection, procedure, "ana", at(15), secrets=Secrets())
    worker = ProcedureWorker(any_store.engine, config, no_checks, Secrets())
    assert await worker.step(at(16)) == 0
    await worker.step(at(16, 1))
    overdue = run(any_store.engine, run_id)
    assert overdue.overdue_at == at(16, 1) and overdue.escalations_made == "Opened incident #1"
    with any_store.engine.connect() as connection:
        incident = records.get(connection, 1)
    assert incident is not None and incident.title == "Procedure Backup Verification: overdue"


def test_a_run_that_is_not_escalated_stays_quiet(any_store: Store) -> None:
    config = config_of(ESCALATING)
    (procedure,) = config.procedures
    with any_store.engine.begin() as connection:
        run_id = start_run(connection, procedure, "ana", at(15), secrets=Secrets())
        for position in (1, 2, 3):
            decide(connection, run_id, position, ItemState.PASSED, "ana", at(15))
        done = complete_run(connection, config, run_id, "ana", at(15, 30), None)
    assert done.escalated_at is None and done.escalations_made == ""
    assert messages(any_store.engine) == []


TWO = f"""
checks: [{{name: api, command: ["{PYTHON}", -c, "pass"]}}]
procedures:
  - name: first
    steps: [{{check: api}}]
  - name: second
    steps: [{{run: ["{PYTHON}", -c, "pass"]}}]
"""


async def test_one_failing_run_does_not_stop_the_others(any_store: Store) -> None:
    async def broken(name: str) -> Result | None:
        raise RuntimeError("the service is shutting down")

    config = config_of(TWO)
    first, second = config.procedures
    with any_store.engine.begin() as connection:
        broken_run = start_run(connection, first, "ana", at(9), secrets=Secrets())
        fine_run = start_run(connection, second, "ana", at(9), secrets=Secrets())
    await ProcedureWorker(any_store.engine, config, broken, Secrets()).step(at(9, 1))
    assert run(any_store.engine, broken_run).items[0].state is ItemState.PENDING
    assert run(any_store.engine, fine_run).state is RunState.COMPLETED


FAILING_CHECK = """
notifications:
  channels: {ops: ["json://127.0.0.1:9/ops"]}
checks: [{name: backups, command: ["false"]}]
procedures:
  - name: daily-health
    title: System Health Checks
    schedule: daily at 09:00
    window: 8h
    escalate_if: ["failed_steps > 0"]
    steps:
      - check: backups
      - manual: Review the error logs
"""


async def test_a_failed_check_item_escalates_the_run_at_once_and_only_once(
    any_store: Store,
) -> None:
    any_store.insert_results([Result("backups", at(9), Status.CRITICAL, 1.0, "exit_code = 1")])
    worker = ProcedureWorker(any_store.engine, config_of(FAILING_CHECK), no_checks, Secrets())
    await worker.step(at(8))
    assert await worker.step(at(9)) == 1  # not 8 hours later, when the run turns overdue
    (escalated,) = runs(any_store.engine)
    assert escalated.state is RunState.OPEN and about(escalated.escalated_at, at(9))
    assert escalated.escalations_made == "Alerted ops"
    ((channel, title, body),) = messages(any_store.engine)
    assert (channel, title) == ("ops", "Procedure System Health Checks: 1 failed step")
    assert "Pending items:\n- 2. Review the error logs" in body

    assert await worker.step(at(17, 1)) == 1  # the overdue message; no second escalation
    with any_store.engine.begin() as connection:
        decide(connection, escalated.id, 2, ItemState.PASSED, "ana", at(17, 5))
        done = complete_run(
            connection, config_of(FAILING_CHECK), escalated.id, "ana", at(17, 6), None
        )
    assert about(done.escalated_at, at(9)) and len(messages(any_store.engine)) == 2


def test_only_conditions_no_decision_left_can_undo_escalate_an_open_run() -> None:
    (procedure,) = config_of(
        """
procedures:
  - name: audit
    escalate_if:
      - failed_steps > 0
      - passed_steps < total_steps
      - failed_steps >= 2
      - pending_steps > 0
      - overdue
    steps: [{manual: a}, {manual: b}, {manual: c}, {manual: d}]
"""
    ).procedures
    states = (ItemState.FAILED, ItemState.PASSED, ItemState.PENDING, ItemState.PENDING)
    items = tuple(
        Item(id=n, run_id=1, position=n, kind=StepKind.MANUAL, text=str(n), state=state)
        for n, state in enumerate(states, 1)
    )
    half_done = Run(1, "Audit", RunState.OPEN, at(9), at(9), MACHINE, items, procedure="audit")
    assert settled_conditions(procedure, half_done) == [
        "failed_steps > 0",
        "passed_steps < total_steps",
    ]
    passed = tuple(replace(item, state=ItemState.PASSED) for item in items[1:])
    assert settled_conditions(procedure, replace(half_done, items=passed)) == []
