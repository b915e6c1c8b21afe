"""The machine's items: ``check:`` from stored or fresh results, ``run:`` from real commands."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web

from tests.procedures.checklist_support import PYTHON, checks_of, config_of, run
from watchkeeper.checklists.decisions import complete, decide
from watchkeeper.checklists.model import ItemState, RunState
from watchkeeper.config.secrets import Secrets
from watchkeeper.incidents.model import MACHINE
from watchkeeper.probes import ProbeContext
from watchkeeper.procedures.machine import (
    CHANGED,
    MAX_OUTPUT,
    Pass,
    RunCheck,
    decide_machine_items,
    run_command,
    since,
)
from watchkeeper.procedures.output import LEAD
from watchkeeper.procedures.schedule import start_run
from watchkeeper.results import Result, Status
from watchkeeper.store.store import Store

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.fixture
async def site() -> AsyncIterator[str]:
    """A real HTTP server on loopback: /up answers 200, /down answers 503."""

    async def up(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def down(_: web.Request) -> web.Response:
        return web.Response(status=503, text="maintenance")

    app = web.Application()
    app.router.add_get("/up", up)
    app.router.add_get("/down", down)
    runner = web.AppRunner(app)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


def started(store: Store, config_text: str) -> int:
    """Start a run of the config's only procedure at T0; return its id."""
    (procedure,) = config_of(config_text).procedures
    with store.engine.begin() as connection:
        return start_run(connection, procedure, "ana", T0, secrets=Secrets())


async def decided(store: Store, run_id: int, config_text: str, run_check: RunCheck) -> Pass:
    """Decide the run's machine items at T0 with the config of ``config_text``."""
    config = config_of(config_text)
    return await decide_machine_items(store.engine, run_id, config, run_check, Secrets(), since(T0))


def result_count(store: Store, check: str) -> int:
    return len(store.history(check, limit=100))


async def test_a_check_item_is_ticked_from_a_result_stored_since_the_run_began(
    any_store: Store, ctx: ProbeContext, closed_port: int
) -> None:
    text = f"""
checks:
  - {{name: api, http: {{url: "http://127.0.0.1:{closed_port}/"}}}}
procedures:
  - {{name: daily, steps: [{{check: api}}]}}
"""
    any_store.insert_results(
        [
            Result("api", T0 - timedelta(hours=1), Status.CRITICAL, 1.0, "status = 503"),
            Result("api", T0 + timedelta(minutes=1), Status.OK, 1.0, "status = 200"),
        ]
    )
    run_id = started(any_store, text)
    run_check = checks_of(config_of(text), ctx, any_store)
    assert (await decided(any_store, run_id, text, run_check)).decided == 1
    (item,) = run(any_store.engine, run_id).items
    assert (item.state, item.note, item.decided_by) == (
        ItemState.PASSED,
        "ok: status = 200",
        MACHINE,
    )
    # Probing the closed port would have stored a failing result: the stored one was used.
    assert result_count(any_store, "api") == 2


async def test_a_check_item_without_a_recent_result_runs_the_check_now(
    any_store: Store, ctx: ProbeContext, site: str
) -> None:
    text = f"""
checks:
  - {{name: home, http: {{url: "{site}/up"}}}}
  - {{name: admin, http: {{url: "{site}/down"}}}}
procedures:
  - {{name: daily, steps: [{{check: home}}, {{check: admin}}]}}
"""
    run_id = started(any_store, text)
    run_check = checks_of(config_of(text), ctx, any_store)
    await decided(any_store, run_id, text, run_check)
    home, admin = run(any_store.engine, run_id).items
    assert home.state is ItemState.PASSED
    assert admin.state is ItemState.FAILED
    assert admin.note == "critical: expected status < 400 (status = 503)"
    assert (result_count(any_store, "home"), result_count(any_store, "admin")) == (1, 1)


async def test_a_check_that_is_not_configured_waits_for_a_person(
    any_store: Store, ctx: ProbeContext
) -> None:
    # A disabled check (or one removed since the run was made) is not run by the machine.
    text = """
checks: [{name: billing, enabled: false, http: {url: "http://127.0.0.1:9/"}}]
procedures: [{name: daily, steps: [{check: billing}]}]
"""
    run_id = started(any_store, text)
    run_check = checks_of(config_of(text), ctx, any_store)
    assert (await decided(any_store, run_id, text, run_check)).decided == 0
    (item,) = run(any_store.engine, run_id).items
    assert item.state is ItemState.PENDING
    assert item.note == "check billing is not configured; decide it by hand"


async def test_run_items_keep_their_output_and_fail_on_a_nonzero_exit(any_store: Store) -> None:
    failing = (
        "import sys; print('3 vulnerabilities'); sys.stderr.write('audit failed'); sys.exit(2)"
    )
    text = f"""
procedures:
  - name: weekly-security
    steps:
      - run: ["{PYTHON}", -c, "print('build ok')"]
      - run: ["{PYTHON}", -c, "{failing}"]
"""
    run_id = started(any_store, text)
    await decided(any_store, run_id, text, _unused)
    build, audit = run(any_store.engine, run_id).items
    assert (build.state, build.exit_code, build.output) == (ItemState.PASSED, 0, "build ok\n")
    assert (audit.state, audit.exit_code, audit.note) == (ItemState.FAILED, 2, "exit code 2")
    assert audit.output == "3 vulnerabilities\naudit failed"


async def test_secrets_are_redacted_from_the_output_kept() -> None:
    decision = await run_command(
        (PYTHON, "-c", "print('token=hunter2-token-xyz ok'); print('x' * 40000)"),
        30.0,
        Secrets(["hunter2-token-xyz"]),
    )
    assert decision.output is not None
    assert "hunter2" not in decision.output and decision.state is ItemState.PASSED
    assert len(decision.output) == MAX_OUTPUT + 1 and decision.output.startswith("…")
    short = await run_command(
        (PYTHON, "-c", "print('key hunter2-token-xyz')"), 30.0, Secrets(["hunter2-token-xyz"])
    )
    assert short.output == "key ***\n"


async def test_the_end_of_a_long_output_is_kept_where_the_error_is() -> None:
    chatty = "import sys; [print(f'step {i}: ok') for i in range(40000)]; print('ERROR: disk full')"
    failed = await run_command((PYTHON, "-c", f"{chatty}; sys.exit(1)"), 30.0, Secrets())
    assert failed.output is not None and failed.state is ItemState.FAILED
    assert failed.output.endswith("step 39999: ok\nERROR: disk full\n")
    assert failed.output.startswith("…") and len(failed.output) == MAX_OUTPUT + 1
    to_stderr = (
        "import sys; print('starting'); sys.stderr.write('w' * 500000 + '\\nERROR: no memory')"
    )
    crashed = await run_command((PYTHON, "-c", to_stderr), 30.0, Secrets())
    assert crashed.output is not None and crashed.output.endswith("w\nERROR: no memory")
    assert len(crashed.output) == MAX_OUTPUT + 1


async def test_a_secret_cut_in_half_where_the_kept_output_starts_is_not_shown() -> None:
    secret, end = "FIRSTHALF-SECONDHALF", "\nERROR: bad credentials\n"
    # The stream ends in the secret's second half and just enough two-byte characters that the
    # bytes read (MAX_OUTPUT + LEAD) start where that half does.
    filler = (MAX_OUTPUT + LEAD - len("SECONDHALF") - len(end)) // 2
    program = (
        "import sys; secret, n = sys.argv[1], int(sys.argv[2]); "
        "sys.stdout.buffer.write(('\\u00e9' * 300000 + secret + '\\u00e9' * n"
        " + '\\nERROR: bad credentials\\n').encode())"
    )
    decision = await run_command(
        (PYTHON, "-c", program, secret, str(filler)), 30.0, Secrets([secret])
    )
    assert decision.output is not None and decision.output.endswith(end)
    assert "HALF" not in decision.output and decision.output.startswith("…é")


async def test_a_secret_straddling_the_front_that_is_dropped_is_redacted_whole() -> None:
    secret, end = "S3CRET-TOKEN-0123456789abcdef", "\nERROR: bad credentials\n"
    # The secret starts 10 bytes before the LEAD bytes dropped from the front end.
    before = MAX_OUTPUT + LEAD - (LEAD - 10) - len(end)
    after = before - len(secret)
    program = (
        "import sys; secret, n = sys.argv[1], int(sys.argv[2]); "
        "sys.stdout.write('x' * 300000 + secret + 'y' * n + '\\nERROR: bad credentials\\n')"
    )
    decision = await run_command(
        (PYTHON, "-c", program, secret, str(after)), 30.0, Secrets([secret])
    )
    assert decision.output is not None and decision.output.endswith(end)
    assert "0123456789abcdef" not in decision.output and "EN-" not in decision.output


async def test_a_run_item_whose_step_changed_since_the_run_was_made_waits_for_a_person(
    any_store: Store, tmp_path: Path
) -> None:
    made = f"""
procedures:
  - name: deploy
    steps:
      - run: ["{PYTHON}", -c, "open('{tmp_path}/old', 'w')"]
"""
    run_id = started(any_store, made)
    for changed in (made.replace("/old", "/new"), made.replace("name: deploy", "name: ship")):
        assert await decided(any_store, run_id, changed, _unused) == Pass()
        (item,) = run(any_store.engine, run_id).items
        assert (item.state, item.note) == (ItemState.PENDING, CHANGED)
    assert not (tmp_path / "old").exists() and not (tmp_path / "new").exists()
    assert (await decided(any_store, run_id, made, _unused)).decided == 1
    assert (tmp_path / "old").exists()


async def test_a_command_that_times_out_or_is_missing_fails_with_the_reason() -> None:
    slow = await run_command((PYTHON, "-c", "import time; time.sleep(30)"), 0.5, Secrets())
    assert slow.state is ItemState.FAILED and slow.note.startswith("timed out after")
    missing = await run_command(("/nonexistent/wk-audit",), 5.0, Secrets())
    assert (missing.state, missing.note) == (
        ItemState.FAILED,
        "command not found: /nonexistent/wk-audit",
    )


async def test_a_manual_item_waits_for_a_person(any_store: Store) -> None:
    text = f"""
procedures:
  - name: llm-health
    steps:
      - run: ["{PYTHON}", -c, "pass"]
      - manual: All configured LLM providers show "Available"
"""
    run_id = started(any_store, text)
    await decided(any_store, run_id, text, _unused)
    command, person = run(any_store.engine, run_id).items
    assert (command.state, person.state) == (ItemState.PASSED, ItemState.PENDING)
    with any_store.engine.begin() as connection:
        decide(connection, run_id, 2, ItemState.PASSED, "ana", T0 + timedelta(minutes=9))
        done = complete(connection, run_id, "ana", T0 + timedelta(minutes=10))
    assert done.state is RunState.COMPLETED and done.items[1].decided_by == "ana"


async def _unused(name: str) -> Result | None:
    """``run_check`` for procedures without ``check:`` items: nothing asks it."""
    raise AssertionError(f"no check should run, but {name} was asked for")
