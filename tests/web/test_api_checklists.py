"""Procedures, checklist runs and runbook logs over real HTTP, against a running service."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.web.api_server import Api, running, wait_until
from watchkeeper.auth.model import Role
from watchkeeper.checklists.model import RunState
from watchkeeper.checklists.runs import NewItem, create_run, get_run
from watchkeeper.config.loader import load_config
from watchkeeper.config.procedures import StepKind
from watchkeeper.config.secrets import Secrets
from watchkeeper.procedures.model import RunbookOutcome
from watchkeeper.procedures.runbooks import run_runbook

PROCEDURES = f"""
procedures:
  - name: daily-health
    title: Daily health check
    description: the guide's morning routine
    schedule: daily at 09:00
    owner: ops
    priority: high
    window: 2h
    steps:
      - check: target
      - run: ["{sys.executable}", "-c", "print('disk ok')"]
      - manual: Review the error logs
      - manual: Confirm last night's backup
  - name: by-hand
    steps:
      - manual: Look around
      - manual: Write down what you saw
    escalate_if: ["failed_steps > 0"]
runbooks:
  - name: restart
    title: Restart the service
    steps:
      - run: ["{sys.executable}", "-c", "print('restarted')"]
      - manual: Check the dashboard
"""


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the server's config and store live."""
    return tmp_path_factory.mktemp("checklists")


@pytest.fixture(scope="module")
def api(directory: Path) -> Iterator[Api]:
    """A server with a scheduled procedure of every step kind, one by hand, and a runbook."""
    with running(directory, failing=False, extra=PROCEDURES) as server:
        yield server


def moment(text: str) -> datetime:
    """Parse a datetime as the API writes it."""
    return datetime.fromisoformat(text)


def start(api: Api, procedure: str) -> dict[str, Any]:
    """Start a run of ``procedure`` through the API as the operator; return it (asserting a 201)."""
    resp = api.post(f"/api/procedures/{procedure}/runs", Role.OPERATOR)
    assert resp.status_code == 201, resp.text
    found: dict[str, Any] = resp.json()
    return found


def run(api: Api, run_id: int) -> dict[str, Any]:
    """Return ``GET /api/checklists/{id}`` (asserting a 200)."""
    resp = api.get(f"/api/checklists/{run_id}", Role.VIEWER)
    assert resp.status_code == 200, resp.text
    found: dict[str, Any] = resp.json()
    return found


def decide(api: Api, run_id: int, position: int, state: str, note: str = "") -> Any:
    """Decide an item as the operator; return the response."""
    return api.post(
        f"/api/checklists/{run_id}/items/{position}",
        Role.OPERATOR,
        json={"state": state, "note": note},
    )


def test_procedures_are_listed_with_schedule_steps_next_due_and_stats(api: Api) -> None:
    resp = api.get("/api/procedures", Role.VIEWER)
    assert resp.status_code == 200
    procedures = {p["name"]: p for p in resp.json()}
    assert list(procedures) == ["daily-health", "by-hand"]  # config order
    daily = procedures["daily-health"]
    assert (daily["title"], daily["schedule"], daily["owner"]) == (
        "Daily health check",
        "daily at 09:00",
        "ops",
    )
    assert (daily["priority"], daily["window"]) == ("high", 7200)
    assert [s["kind"] for s in daily["steps"]] == ["check", "run", "manual", "manual"]
    assert daily["steps"][0]["text"] == "Check target passes"
    assert daily["steps"][1]["run"] == [sys.executable, "-c", "print('disk ok')"]
    assert set(daily["stats"]) >= {"runs", "completion_rate", "on_time_rate", "overdue_open"}
    by_hand = procedures["by-hand"]
    assert (by_hand["title"], by_hand["schedule"], by_hand["next_due"]) == ("by-hand", None, None)

    # The service's procedure worker learns the schedule when it first sees the procedure.
    def next_due() -> str | None:
        listed = api.get("/api/procedures", Role.VIEWER).json()
        due: str | None = listed[0]["next_due"]
        return due

    now = datetime.now(UTC)
    nine = now.replace(hour=9, minute=0, second=0, microsecond=0)
    expected = nine if nine > now else nine + timedelta(days=1)
    assert moment(wait_until(next_due, "the next occurrence of daily-health")) == expected


def test_a_run_started_by_hand_gets_its_machine_items_decided_by_the_service(api: Api) -> None:
    started = start(api, "daily-health")
    assert (started["procedure"], started["created_by"], started["state"]) == (
        "daily-health",
        "otto",
        "open",
    )
    assert started["owner"] == "ops"
    assert moment(started["due_at"]) - moment(started["scheduled_for"]) == timedelta(hours=2)
    assert started["overdue"] is False
    assert [i["state"] for i in started["items"]] == ["pending"] * 4

    def machine_done() -> dict[str, Any] | None:
        found = run(api, started["id"])
        return found if all(i["state"] != "pending" for i in found["items"][:2]) else None

    decided = wait_until(machine_done, "the service to decide the check and the command")
    check, command, review, backup = decided["items"]
    assert (check["state"], check["decided_by"], check["check_name"]) == (
        "passed",
        "watchkeeper",
        "target",
    )
    assert (command["state"], command["exit_code"]) == ("passed", 0)
    assert "disk ok" in command["output"]
    assert (review["state"], backup["state"]) == ("pending", "pending")
    assert decided["state"] == "open"  # a person still has to look


def test_a_person_ticks_items_adds_notes_and_completes_the_run(api: Api) -> None:
    run_id = start(api, "by-hand")["id"]

    ticked = decide(api, run_id, 1, "passed", "all quiet")
    assert ticked.status_code == 200, ticked.text
    assert ticked.json() == ticked.json() | {
        "position": 1,
        "state": "passed",
        "decided_by": "otto",
        "note": "all quiet",
        "kind": "manual",
    }
    for text in ("disk at 80%", "one slow query"):
        resp = api.post(
            f"/api/checklists/{run_id}/notes",
            Role.OPERATOR,
            json={"field": "issues_found", "text": text},
        )
        assert resp.status_code == 200, resp.text
    assert resp.json()["issues_found"] == "disk at 80%\none slow query"
    assert decide(api, run_id, 2, "skipped").status_code == 200

    completed = api.post(f"/api/checklists/{run_id}/complete", Role.OPERATOR)
    assert completed.status_code == 200, completed.text
    body = completed.json()
    assert (body["state"], body["completed_by"]) == ("completed", "otto")
    assert body["counts"] == {"pending": 0, "passed": 1, "failed": 0, "skipped": 1}
    assert body["escalated_at"] is None

    with api.store.engine.connect() as connection:
        stored = get_run(connection, run_id)
    assert stored is not None and stored.state is RunState.COMPLETED
    refused = decide(api, run_id, 1, "failed")
    assert refused.status_code == 409
    assert "read-only" in refused.json()["detail"]
    again = api.post(f"/api/checklists/{run_id}/complete")
    assert again.status_code == 409


def test_completing_with_pending_items_is_refused_naming_them(api: Api) -> None:
    run_id = start(api, "by-hand")["id"]
    assert decide(api, run_id, 1, "passed").status_code == 200
    resp = api.post(f"/api/checklists/{run_id}/complete", Role.OPERATOR)
    assert resp.status_code == 409
    assert "2 (Write down what you saw)" in resp.json()["detail"]
    assert "1 (Look around)" not in resp.json()["detail"]
    assert run(api, run_id)["state"] == "open"


def test_completing_a_run_with_a_failed_item_escalates_as_the_procedure_says(api: Api) -> None:
    run_id = start(api, "by-hand")["id"]
    assert decide(api, run_id, 1, "failed", "a disk is dying").status_code == 200
    assert decide(api, run_id, 2, "passed").status_code == 200
    resp = api.post(f"/api/checklists/{run_id}/complete", Role.OPERATOR)
    assert resp.status_code == 200, resp.text
    assert resp.json()["escalated_at"] is not None
    assert resp.json()["escalations_made"] == "Alerted pager"


def test_the_list_filters_and_flags_overdue_runs(api: Api) -> None:
    scheduled = datetime(2021, 5, 3, 9, tzinfo=UTC)
    with api.store.engine.begin() as connection:
        late = create_run(
            connection,
            title="by-hand",
            items=[NewItem(StepKind.MANUAL, "Look around")],
            scheduled_for=scheduled,
            created_by="ana",
            now=scheduled,
            procedure="by-hand",
            due_at=scheduled + timedelta(hours=1),
        )
    assert late is not None
    completed = start(api, "by-hand")["id"]
    for position in (1, 2):
        assert decide(api, completed, position, "passed").status_code == 200
    assert api.post(f"/api/checklists/{completed}/complete").status_code == 200

    def listed(**params: str) -> dict[int, dict[str, Any]]:
        resp = api.get("/api/checklists", Role.VIEWER, params=params)
        assert resp.status_code == 200, resp.text
        return {r["id"]: r for r in resp.json()}

    in_2021 = listed(since="2021-01-01T00:00:00Z", until="2022-01-01T00:00:00Z")
    assert list(in_2021) == [late]
    assert in_2021[late]["overdue"] is True
    assert in_2021[late]["counts"]["pending"] == 1
    assert completed in listed(procedure="by-hand", state="completed")
    assert late not in listed(procedure="by-hand", state="completed")
    assert late in listed(procedure="by-hand", state="open")
    assert not listed(procedure="daily-health", state="completed").keys() & {late, completed}


def test_a_decision_must_be_passed_failed_or_skipped(api: Api) -> None:
    run_id = start(api, "by-hand")["id"]
    resp = decide(api, run_id, 1, "pending")
    assert resp.status_code == 422
    blank = api.post(
        f"/api/checklists/{run_id}/notes", json={"field": "actions_taken", "text": "  "}
    )
    assert blank.status_code == 422


@pytest.mark.parametrize(
    ("method", "path", "body", "detail"),
    [
        ("POST", "/api/procedures/nothing/runs", None, "no procedure called 'nothing'"),
        ("GET", "/api/checklists/999999", None, "no checklist run 999999"),
        (
            "POST",
            "/api/checklists/999999/items/1",
            {"state": "passed"},
            "no checklist run 999999",
        ),
        (
            "POST",
            "/api/checklists/999999/notes",
            {"field": "issues_found", "text": "x"},
            "no checklist run 999999",
        ),
        ("POST", "/api/checklists/999999/complete", None, "no checklist run 999999"),
        ("GET", "/api/runbooks/runs/999999", None, "no runbook run 999999"),
    ],
)
def test_unknown_things_are_404(
    api: Api, method: str, path: str, body: dict[str, Any] | None, detail: str
) -> None:
    resp = api.request(method, path, json=body)
    assert resp.status_code == 404
    assert resp.json() == {"detail": detail}


def test_an_item_the_run_does_not_have_is_404(api: Api) -> None:
    run_id = start(api, "by-hand")["id"]
    resp = decide(api, run_id, 3, "passed")
    assert resp.status_code == 404
    assert resp.json() == {"detail": f"run {run_id} has no item 3"}


async def test_runbooks_are_listed_with_their_last_run_and_its_log(
    api: Api, directory: Path
) -> None:
    # What `watchkeeper runbook run restart --yes` does, against the server's store.
    loaded = load_config(directory / "watchkeeper.yaml")
    restart_runbook = loaded.config.runbook("restart")
    assert restart_runbook is not None
    ran = await run_runbook(
        api.store.engine, restart_runbook, actor="ana", ask=lambda _: True, secrets=Secrets()
    )
    assert ran.outcome is RunbookOutcome.SUCCEEDED

    resp = api.get("/api/runbooks", Role.VIEWER)
    assert resp.status_code == 200
    (restart,) = resp.json()
    assert (restart["name"], restart["title"]) == ("restart", "Restart the service")
    assert [s["kind"] for s in restart["steps"]] == ["run", "manual"]
    last = restart["last_run"]
    assert (last["runbook"], last["started_by"], last["outcome"]) == ("restart", "ana", "succeeded")

    runs = api.get("/api/runbooks/runs", Role.VIEWER, params={"runbook": "restart"}).json()
    assert runs[0]["id"] == last["id"]
    assert api.get("/api/runbooks/runs", params={"runbook": "other"}).json() == []

    log = api.get(f"/api/runbooks/runs/{last['id']}", Role.VIEWER)
    assert log.status_code == 200
    command, manual = log.json()["steps"]
    assert (command["outcome"], command["exit_code"]) == ("passed", 0)
    assert command["output"].strip() == "restarted"
    assert command["argv"] == [sys.executable, "-c", "print('restarted')"]
    assert (manual["kind"], manual["outcome"]) == ("manual", "passed")


def test_the_schema_says_runbooks_are_run_from_the_command_line(api: Api) -> None:
    schema = api.get("/api/openapi.json", None).json()
    description = schema["paths"]["/api/runbooks"]["get"]["description"]
    assert "watchkeeper runbook run" in description
    methods = {m for path, ops in schema["paths"].items() if "runbook" in path for m in ops}
    assert methods == {"get"}
