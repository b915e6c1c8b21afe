"""``watchkeeper incident open|ack|note|mitigate|resolve|close|show|list|postmortem|stats``."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_run import Ran, run_cli

CONFIG = """
notifications:
  channels: {oncall: ["json://127.0.0.1:9/hook"], lead: ["json://127.0.0.1:9/lead"]}
incidents:
  escalation:
    - {level: 1, notify: oncall}
    - {level: 2, after: 30m, notify: lead}
  phases:
    triage: [Assess impact, Tell the team]
"""


async def incident(config: Path, *args: str) -> Ran:
    return await run_cli("incident", *args, "-c", config)


async def test_an_incident_from_opening_to_closing(tmp_path: Path) -> None:
    config = tmp_path / "watchkeeper.yaml"
    config.write_text(CONFIG)

    opened = await incident(
        config,
        "open",
        "--severity",
        "P1",
        "--title",
        "api down",
        "--summary",
        "503s",
        "--by",
        "ana",
    )
    assert opened.code == 0, opened.stderr
    assert opened.stdout.startswith("incident 1 opened (P1): respond by ")
    (listed,) = json.loads((await incident(config, "list", "--json")).stdout)
    assert (listed["id"], listed["state"], listed["level"]) == (1, "open", 1)
    assert listed["policy"]["levels"][1] == {"level": 2, "after": 1800.0, "notify": ["lead"]}

    acked = await incident(config, "ack", "1", "--note", "on it", "--by", "ana")
    assert (acked.code, acked.stdout.strip()) == (0, "incident 1 is acknowledged")
    again = await incident(config, "ack", "1", "--by", "bob")
    assert again.code == 1
    assert "incident 1 is already acknowledged (by ana at " in again.stderr

    noted = await incident(config, "note", "1", "We are rolling back", "--public", "--by", "ana")
    assert noted.code == 0
    assert (await incident(config, "mitigate", "1", "--by", "bob")).code == 0
    assert (await incident(config, "resolve", "1", "--note", "fixed", "--by", "bob")).code == 0

    shown = json.loads((await incident(config, "show", "1", "--json")).stdout)
    assert shown["state"] == "resolved" and shown["acknowledged_by"] == "ana"
    assert [e["kind"] for e in shown["timeline"]] == [
        "opened",
        "escalated",
        "notified",
        "acknowledged",
        "note",
        "mitigated",
        "resolved",
    ]
    assert shown["timeline"][4]["data"] == {"public": True}
    (triage,) = shown["checklists"]
    assert triage["phase"] == "triage"
    assert [(i["text"], i["state"]) for i in triage["items"]] == [
        ("Assess impact", "pending"),
        ("Tell the team", "pending"),
    ]
    text = (await incident(config, "show", "1")).stdout
    for expected in ("Incident #1", "api down", "respond by", "met", "Timeline", "triage"):
        assert expected in text

    refused = await incident(config, "close", "1")
    assert refused.code == 1
    assert "run `watchkeeper incident postmortem 1`" in refused.stderr

    written = await incident(config, "postmortem", "1", "--by", "ana")
    assert written.code == 0, written.stderr
    path = Path(written.stdout.strip())
    assert path == tmp_path / "postmortems" / "INC-0001-api-down.md"
    assert "We are rolling back" in path.read_text(encoding="utf-8")
    exists = await incident(config, "postmortem", "1")
    assert exists.code == 1
    assert f"{path} already exists" in exists.stderr and "pass --force" in exists.stderr
    elsewhere = await incident(config, "postmortem", "1", "--output", str(tmp_path / "x"))
    assert Path(elsewhere.stdout.strip()).parent == tmp_path / "x"

    assert (await incident(config, "close", "1", "--by", "ana")).code == 0
    assert "no active incidents" in (await incident(config, "list")).stdout
    assert "api down" in (await incident(config, "list", "--all")).stdout

    p1, overall = json.loads((await incident(config, "stats", "--json")).stdout)
    assert (p1["severity"], p1["opened"], p1["still_open"]) == ("P1", 1, 0)
    assert overall["severity"] is None and overall["mttr"] is not None
    assert "MTTA" in (await incident(config, "stats", "--since", "7d")).stdout


async def test_mistakes_are_reported_in_red_with_exit_code_1(tmp_path: Path) -> None:
    config = tmp_path / "watchkeeper.yaml"
    config.write_text(CONFIG)
    unknown = await incident(config, "show", "4")
    assert (unknown.code, unknown.stderr.startswith("no incident 4")) == (1, True)
    severity = await incident(config, "open", "--severity", "SEV1", "--title", "x")
    assert severity.code == 1
    assert "unknown severity 'SEV1': the config defines P0, P1, P2, P3" in severity.stderr
    assert (await incident(config, "list", "--json")).stdout.strip() == "[]"


async def test_show_tells_whether_a_p0_public_update_came_in_time(tmp_path: Path) -> None:
    config = tmp_path / "watchkeeper.yaml"
    config.write_text(CONFIG)
    await incident(config, "open", "-s", "P0", "-t", "everything is down")
    due = (await incident(config, "show", "1")).stdout
    assert "public update by" in due and "left" in due
    await incident(config, "note", "1", "We are on it", "--public")
    shown = (await incident(config, "show", "1")).stdout
    assert "public update by" in shown and ": met" in shown


async def test_a_postmortem_directory_that_cannot_be_written_is_a_clear_error(
    tmp_path: Path,
) -> None:
    config = tmp_path / "watchkeeper.yaml"
    config.write_text(CONFIG)
    await incident(config, "open", "-s", "P3", "-t", "slow search")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    refused = await incident(config, "postmortem", "1", "-o", str(blocker / "postmortems"))
    assert refused.code == 1
    assert refused.stderr.startswith(f"cannot write the post-mortem to {blocker}/postmortems/")
    assert "Traceback" not in refused.stderr
    shown = json.loads((await incident(config, "show", "1", "--json")).stdout)
    assert shown["postmortem_path"] is None


async def test_closing_an_open_incident_resolves_it_so_no_deadline_is_left(
    tmp_path: Path,
) -> None:
    config = tmp_path / "watchkeeper.yaml"
    config.write_text(CONFIG)
    await incident(config, "open", "-s", "P3", "-t", "false alarm", "--by", "ana")
    assert (await incident(config, "close", "1", "--by", "bob")).code == 0
    (closed,) = json.loads((await incident(config, "list", "--all", "--json")).stdout)
    assert (closed["state"], closed["resolved_by"], closed["closed_by"]) == ("closed", "bob", "bob")
    listed = (await incident(config, "list", "--all")).stdout
    assert "met" in listed and "left" not in listed
