"""``watchkeeper checklist list|show|start|tick|fail|skip|note|complete|stats``, run as a user would."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.cli_run import run_cli
from tests.web.api_server import running

CONFIG = f"""
checks:
  - {{name: git-clean, command: ["{sys.executable}", -c, "print('nothing to commit')"]}}
procedures:
  - name: daily-health
    title: System Health Checks
    owner: DevOps
    window: 2h
    steps:
      - check: git-clean
      - run: ["{sys.executable}", -c, "print('build ok')"]
      - manual: Verify key endpoints
  - name: audit
    steps:
      - run: ["{sys.executable}", -c, "pass"]
"""


def write_config(tmp_path: Path) -> Path:
    config = tmp_path / "watchkeeper.yaml"
    config.write_text(CONFIG)
    return config


async def test_a_person_works_through_a_run_started_by_hand(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    started = await run_cli("checklist", "start", "daily-health", "-c", config, "--by", "ana")
    assert started.code == 0, started.stderr
    assert "Run 1: System Health Checks" in started.stdout and "build ok" in started.stdout

    (listed,) = json.loads((await run_cli("checklist", "list", "-c", config, "--json")).stdout)
    assert (listed["id"], listed["state"], listed["overdue"]) == (1, "open", False)
    assert (listed["done"], listed["total"], listed["created_by"]) == (2, 3, "ana")

    early = await run_cli("checklist", "complete", "1", "-c", config, "--by", "ana")
    assert early.code == 1 and "3 (Verify key endpoints)" in early.stderr

    ticked = await run_cli(
        "checklist", "tick", "1", "3", "--note", "all 200", "-c", config, "--by", "bo"
    )
    assert ticked.code == 0 and "Verify key endpoints" in ticked.stdout
    noted = await run_cli(
        "checklist", "note", "1", "--issues-found", "disk at 85%", "-c", config, "--by", "bo"
    )
    assert noted.code == 0, noted.stderr
    done = await run_cli("checklist", "complete", "1", "-c", config, "--by", "bo")
    assert done.code == 0 and "run 1 completed: 3 passed, 0 failed, 0 skipped" in done.stdout

    shown = json.loads((await run_cli("checklist", "show", "1", "-c", config, "--json")).stdout)
    assert (shown["state"], shown["completed_by"], shown["issues_found"]) == (
        "completed",
        "bo",
        "disk at 85%",
    )
    check, command, manual = shown["items"]
    assert (check["state"], check["decided_by"]) == ("passed", "watchkeeper")
    assert (command["output"], command["exit_code"]) == ("build ok\n", 0)
    assert (manual["state"], manual["decided_by"], manual["note"]) == ("passed", "bo", "all 200")

    table = (await run_cli("checklist", "show", "1", "-c", config)).stdout
    assert "Verify key endpoints" in table and "disk at 85%" in table and "completed" in table

    late = await run_cli("checklist", "fail", "1", "3", "-c", config)
    assert late.code == 1 and "read-only" in late.stderr and "Traceback" not in late.stderr


async def test_a_run_the_machine_decides_alone_completes_on_start_and_shows_in_stats(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path)
    started = await run_cli("checklist", "start", "audit", "-c", config)
    assert started.code == 0, started.stderr
    assert "completed" in started.stdout
    rows = json.loads((await run_cli("checklist", "stats", "-c", config, "--json")).stdout)
    by_name = {row["procedure"]: row for row in rows}
    assert (by_name["audit"]["runs"], by_name["audit"]["completion_rate"]) == (1, 1.0)
    assert (by_name["daily-health"]["runs"], by_name["daily-health"]["completion_rate"]) == (
        0,
        None,
    )
    assert by_name[None]["title"] == "all procedures"
    table = await run_cli("checklist", "stats", "-c", config)
    assert table.code == 0 and "100.0%" in table.stdout


async def test_mistakes_are_explained_without_a_traceback(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    unknown = await run_cli("checklist", "start", "weekly", "-c", config)
    assert unknown.code == 1 and "no procedure weekly" in unknown.stderr
    assert "daily-health, audit" in unknown.stderr
    missing = await run_cli("checklist", "tick", "7", "1", "-c", config)
    assert missing.code == 1 and "no checklist run 7" in missing.stderr
    nothing = await run_cli("checklist", "note", "1", "-c", config)
    assert nothing.code == 3 and "--issues-found" in nothing.stderr
    assert "no checklist runs" in (await run_cli("checklist", "list", "-c", config)).stdout


async def test_list_shows_procedure_runs_and_incident_phases_only_when_asked(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path)
    assert (await run_cli("checklist", "start", "audit", "-c", config)).code == 0
    opened = await run_cli(
        "incident", "open", "--severity", "P2", "--title", "db down", "-c", config, "--by", "ana"
    )
    assert opened.code == 0, opened.stderr

    listed = json.loads((await run_cli("checklist", "list", "-c", config, "--json")).stdout)
    assert [(run["procedure"], run["incident_id"]) for run in listed] == [("audit", None)]
    table = (await run_cli("checklist", "list", "-c", config)).stdout
    assert "audit" in table and "triage" not in table.lower()

    everything = json.loads(
        (await run_cli("checklist", "list", "--incidents", "-c", config, "--json")).stdout
    )
    phases = [run["phase"] for run in everything if run["incident_id"] == 1]
    assert len(everything) == 1 + len(phases) and len(phases) == 4


TOKEN = "tok-5ee1c0de42aa"
APPEND = (
    "import os, sys; open(sys.argv[1], 'a').write(str(os.getpid()) + chr(10)); "
    "open(sys.argv[2], 'w').write(sys.argv[3]); print('deploying with', sys.argv[3])"
)


async def test_start_beside_the_running_service_runs_each_command_once_and_shows_no_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran, received = tmp_path / "ran", tmp_path / "received"
    monkeypatch.setenv("WK_DEPLOY_TOKEN", TOKEN)
    extra = f"""
procedures:
  - name: deploy
    steps:
      - run: ["{sys.executable}", -c, "{APPEND}", "{ran}", "{received}", "token=${{WK_DEPLOY_TOKEN}}"]
runbooks:
  - name: redeploy
    steps: [{{run: [curl, -H, "Authorization: ${{WK_DEPLOY_TOKEN}}", "http://127.0.0.1:9/"]}}]
"""
    with running(tmp_path, failing=False, extra=extra) as api:
        config = tmp_path / "watchkeeper.yaml"
        started = await run_cli("checklist", "start", "deploy", "-c", config, "--by", "ana")
        assert started.code == 0, started.stderr
        assert "completed" in started.stdout and TOKEN not in started.stdout
        assert "token=***" in started.stdout
        (listed,) = json.loads((await run_cli("checklist", "list", "-c", config, "--json")).stdout)
        shown = await run_cli("checklist", "show", str(listed["id"]), "-c", config, "--json")
        answered = api.get(f"/api/checklists/{listed['id']}")
        configured = api.get("/api/procedures")
        runbooks = api.get("/api/runbooks")
    assert answered.status_code == 200 and TOKEN not in answered.text
    assert configured.status_code == 200 and TOKEN not in configured.text
    assert runbooks.status_code == 200 and TOKEN not in runbooks.text
    assert runbooks.json()[0]["steps"][0]["run"][2] == "Authorization: ***"
    (deploy,) = configured.json()
    assert deploy["steps"][0]["run"][-1] == "token=***"
    (item,) = answered.json()["items"]
    assert item["argv"][-1] == "token=***" and item["output"] == "deploying with token=***\n"
    assert TOKEN not in shown.stdout and json.loads(shown.stdout)["state"] == "completed"
    assert received.read_text() == f"token={TOKEN}"
    assert len(ran.read_text().splitlines()) == 1
