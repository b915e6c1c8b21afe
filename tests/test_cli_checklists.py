"""``watchkeeper checklist list|show|start|tick|fail|skip|note|complete|stats``, run as a user would."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.cli_run import run_cli

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
