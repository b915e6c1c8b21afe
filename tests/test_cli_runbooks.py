"""``watchkeeper runbook list|run|log``, run as a user would: a real process and a real store."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import subprocess
import sys
from pathlib import Path

from tests.cli_run import Ran, cli_env, run_cli

PY = sys.executable


def write_config(tmp_path: Path) -> Path:
    """Write a config with the guides' "Restart service" runbook; its last step leaves a file."""
    config = tmp_path / "watchkeeper.yaml"
    config.write_text(f"""
runbooks:
  - name: restart-service
    title: Restart service
    steps:
      - run: [{PY}, -c, "print('app is running')"]
        title: Check the service
      - run: [{PY}, -c, "print('restarted')"]
        title: Restart the app
        confirm: true
      - manual: The dashboard shows the app healthy
      - run: [{PY}, -c, "import sys; sys.exit('still unhealthy')"]
        title: Health check
      - run: [{PY}, -c, "open('cleared', 'w').close()"]
        title: Clear caches
  - name: clear-caches
    title: Clear caches
    steps:
      - run: [{PY}, -c, "print('cleared')"]
""")
    return config


async def run_cli_fed(*args: str | Path, stdin: int, cwd: Path) -> Ran:
    """Run the command like run_cli, but with the given stdin (a pipe, /dev/null or a terminal)."""
    proc = await asyncio.create_subprocess_exec(
        PY,
        "-m",
        "watchkeeper",
        *map(str, args),
        stdin=stdin,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=cli_env(),
        cwd=cwd,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return Ran(proc.returncode, out.decode(), err.decode())


async def test_runbook_run_with_yes_stops_at_the_failing_step_and_logs_every_step(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path)

    ran = await run_cli(
        "runbook", "run", "restart-service", "--yes", "--by", "ana", "-c", config, cwd=tmp_path
    )

    assert ran.code == 1, ran.stderr
    assert "[1/5] passed Check the service" in ran.stdout and "│ app is running" in ran.stdout
    assert "[2/5] passed Restart the app" in ran.stdout  # confirm: true, run unasked with --yes
    assert "[3/5] skipped The dashboard shows the app healthy" in ran.stdout
    assert "not checked by a person" in ran.stdout
    assert "[4/5] failed Health check (exit 1" in ran.stdout and "│ still unhealthy" in ran.stdout
    assert "[5/5] skipped Clear caches" in ran.stdout
    assert "Restart service: failed — run 1" in ran.stdout
    assert not (tmp_path / "cleared").exists()

    (listed,) = json.loads((await run_cli("runbook", "log", "-c", config, "--json")).stdout)
    assert (listed["id"], listed["runbook"], listed["started_by"], listed["outcome"]) == (
        1,
        "restart-service",
        "ana",
        "failed",
    )
    logged = json.loads((await run_cli("runbook", "log", "1", "-c", config, "--json")).stdout)
    assert [(s["text"], s["outcome"], s["exit_code"]) for s in logged["steps"]] == [
        ("Check the service", "passed", 0),
        ("Restart the app", "passed", 0),
        ("The dashboard shows the app healthy", "skipped", None),
        ("Health check", "failed", 1),
        ("Clear caches", "skipped", None),
    ]
    assert logged["steps"][3]["output"] == "still unhealthy\n"
    shown = await run_cli("runbook", "log", "1", "-c", config)
    assert shown.code == 0
    assert "run 1 of restart-service by ana" in shown.stdout
    assert "[2/5] passed Restart the app" in shown.stdout and "│ restarted" in shown.stdout

    runbooks = json.loads((await run_cli("runbook", "list", "-c", config, "--json")).stdout)
    assert [(r["name"], r["steps"]) for r in runbooks] == [
        ("restart-service", 5),
        ("clear-caches", 1),
    ]
    assert runbooks[0]["last_run"]["outcome"] == "failed" and runbooks[1]["last_run"] is None


async def test_keep_going_runs_the_rest_and_success_exits_0(tmp_path: Path) -> None:
    config = write_config(tmp_path)

    kept_going = await run_cli(
        "runbook", "run", "restart-service", "-y", "--keep-going", "-c", config, cwd=tmp_path
    )
    assert kept_going.code == 1, kept_going.stderr
    assert "[5/5] passed Clear caches" in kept_going.stdout
    assert (tmp_path / "cleared").exists()

    succeeded = await run_cli("runbook", "run", "clear-caches", "-c", config)
    assert succeeded.code == 0, succeeded.stderr
    assert "Clear caches: succeeded — run 2" in succeeded.stdout

    table = (await run_cli("runbook", "list", "-c", config)).stdout
    assert "clear-caches" in table and "succeeded" in table and "(run 2)" in table
    recent = (await run_cli("runbook", "log", "--runbook", "clear-caches", "-c", config)).stdout
    assert "succeeded" in recent and "restart-service" not in recent


async def test_without_a_terminal_or_yes_a_step_asking_a_person_is_refused(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path)

    refused = await run_cli_fed(
        "runbook", "run", "restart-service", "-c", config, stdin=subprocess.DEVNULL, cwd=tmp_path
    )

    assert refused.code == 3
    assert "asks a person at step 2, and stdin is not a terminal" in refused.stderr
    assert "--yes" in refused.stderr
    assert "no runbook runs yet" in (await run_cli("runbook", "log", "-c", config)).stdout


async def test_answering_no_at_a_terminal_aborts_the_run(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    terminal, stdin = pty.openpty()
    try:
        # Typed ahead: the terminal holds the answer until the prompt reads it.
        os.write(terminal, b"n\n")
        aborted = await run_cli_fed(
            "runbook", "run", "restart-service", "-c", config, stdin=stdin, cwd=tmp_path
        )
    finally:
        os.close(stdin)
        os.close(terminal)

    assert aborted.code == 2, aborted.stdout + aborted.stderr
    assert "[2/5] declined Restart the app" in aborted.stdout
    assert "Restart service: aborted — run 1" in aborted.stdout
    logged = json.loads((await run_cli("runbook", "log", "1", "-c", config, "--json")).stdout)
    assert [s["outcome"] for s in logged["steps"]] == [
        "passed",
        "declined",
        "skipped",
        "skipped",
        "skipped",
    ]


async def test_an_unknown_runbook_names_the_known_ones(tmp_path: Path) -> None:
    config = write_config(tmp_path)

    unknown = await run_cli("runbook", "run", "restart", "-c", config)

    assert unknown.code == 3
    assert "no runbook 'restart'; known runbooks: restart-service, clear-caches" in unknown.stderr
    missing = await run_cli("runbook", "log", "7", "-c", config)
    assert missing.code == 1 and "no runbook run 7" in missing.stderr
