"""Incidents over real HTTP: opening one, its lifecycle, notes, the post-mortem and the figures."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.web.api_server import Api, running
from watchkeeper.auth.model import Role
from watchkeeper.config.incidents import DEFAULT_PHASES, IncidentsConfig
from watchkeeper.incidents import lifecycle, records

INCIDENTS = """
incidents:
  severities:
    P1: {respond_within: 1h, postmortem: required}
    P2: {respond_within: 4h}
    P3: {respond_within: 48h}
"""


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the server's config, store and post-mortems live."""
    return tmp_path_factory.mktemp("incidents")


@pytest.fixture(scope="module")
def api(directory: Path) -> Iterator[Api]:
    """A server whose config defines P1 (post-mortem required), P2 and P3, with the default phases."""
    with running(directory, failing=False, extra=INCIDENTS) as server:
        yield server


def moment(text: str) -> datetime:
    """Parse a datetime as the API writes it."""
    return datetime.fromisoformat(text)


def open_incident(api: Api, severity: str = "P1", **extra: Any) -> dict[str, Any]:
    """Open an incident through the API as the operator; return it (asserting a 201)."""
    body = {"title": "Checkout returns 502", "severity": severity, **extra}
    resp = api.post("/api/incidents", Role.OPERATOR, json=body)
    assert resp.status_code == 201, resp.text
    found: dict[str, Any] = resp.json()
    return found


def incident(api: Api, incident_id: int) -> dict[str, Any]:
    """Return ``GET /api/incidents/{id}`` (asserting a 200)."""
    resp = api.get(f"/api/incidents/{incident_id}", Role.VIEWER)
    assert resp.status_code == 200, resp.text
    found: dict[str, Any] = resp.json()
    return found


def test_an_incident_opened_through_the_api_is_listed_with_its_sla_and_phase_checklists(
    api: Api,
) -> None:
    before = datetime.now(UTC)
    opened = open_incident(api, summary="payments fail for every card")
    assert opened["state"] == "open" and opened["active"] is True
    assert (opened["severity"], opened["opened_by"]) == ("P1", "otto")
    assert opened["summary"] == "payments fail for every card"
    opened_at = moment(opened["opened_at"])
    assert before <= opened_at <= datetime.now(UTC)
    assert moment(opened["respond_by"]) - opened_at == timedelta(hours=1)
    assert opened["response_breached_at"] is None
    assert opened["policy"]["respond_within"] == 3600
    assert opened["policy"]["postmortem_required"] is True

    assert [run["phase"] for run in opened["checklists"]] == list(DEFAULT_PHASES)
    immediate = opened["checklists"][0]
    assert [item["text"] for item in immediate["items"]] == list(DEFAULT_PHASES["immediate"])
    assert {item["state"] for item in immediate["items"]} == {"pending"}
    assert immediate["incident_id"] == opened["id"]
    assert [e["kind"] for e in opened["timeline"]] == ["opened"]

    listed = api.get("/api/incidents", Role.VIEWER)
    assert listed.status_code == 200
    assert listed.json()[0]["id"] == opened["id"]  # newest first
    with api.store.engine.connect() as connection:
        stored = records.get(connection, opened["id"])
    assert stored is not None and stored.opened_by == "otto"


def test_an_unknown_severity_is_refused_naming_the_defined_ones(api: Api) -> None:
    resp = api.post("/api/incidents", json={"title": "Odd", "severity": "SEV1"})
    assert resp.status_code == 422
    assert "P1, P2, P3" in resp.json()["detail"]


def test_the_list_filters_by_state_and_severity(api: Api) -> None:
    p3 = open_incident(api, "P3")
    resolved = open_incident(api, "P2")
    assert api.post(f"/api/incidents/{resolved['id']}/resolve").status_code == 200

    def ids(**params: str) -> list[int]:
        resp = api.get("/api/incidents", Role.VIEWER, params=params)
        assert resp.status_code == 200, resp.text
        return [i["id"] for i in resp.json()]

    assert p3["id"] in ids(severity="P3")
    assert p3["id"] not in ids(severity="P2")
    assert resolved["id"] not in ids()  # active only by default
    assert resolved["id"] in ids(state="all", severity="P2")
    assert p3["id"] not in ids(state="all", until=p3["opened_at"])


def test_ack_then_resolve_then_close_is_refused_until_the_postmortem_is_written(
    api: Api, directory: Path
) -> None:
    incident_id = open_incident(api)["id"]
    base = f"/api/incidents/{incident_id}"

    acked = api.post(f"{base}/acknowledge", Role.OPERATOR, json={"note": "looking at it"})
    assert acked.status_code == 200, acked.text
    assert (acked.json()["state"], acked.json()["acknowledged_by"]) == ("acknowledged", "otto")
    again = api.post(f"{base}/acknowledge", Role.OPERATOR)
    assert again.status_code == 409
    assert f"incident {incident_id} is already acknowledged" in again.json()["detail"]

    assert api.post(f"{base}/resolve", json={"note": "rolled back"}).json()["state"] == "resolved"
    refused = api.post(f"{base}/close")
    assert refused.status_code == 409
    assert f"watchkeeper incident postmortem {incident_id}" in refused.json()["detail"]

    written = api.post(f"{base}/postmortem", Role.OPERATOR)
    assert written.status_code == 201, written.text
    path = Path(written.json()["path"])
    assert path.parent == (directory / "postmortems").resolve()
    assert path.name.startswith(f"INC-{incident_id:04d}-")
    assert path.read_text() == written.json()["markdown"]
    assert "rolled back" in path.read_text()
    exists = api.post(f"{base}/postmortem")
    assert exists.status_code == 409  # people may have edited it
    assert exists.json()["detail"] == (
        f"{path} already exists and may hold people's edits: "
        'edit it, or send {"force": true} to write it again'
    )
    assert api.post(f"{base}/postmortem", json={"force": True}).status_code == 201

    closed = api.post(f"{base}/close", Role.OPERATOR)
    assert closed.status_code == 200, closed.text
    assert (closed.json()["state"], closed.json()["closed_by"]) == ("closed", "otto")
    assert closed.json()["postmortem_path"] == str(path)
    timeline = incident(api, incident_id)["timeline"]
    assert [e["kind"] for e in timeline] == [
        "opened",
        "acknowledged",
        "resolved",
        "postmortem",
        "postmortem",
        "closed",
    ]
    assert [e["actor"] for e in timeline] == ["otto", "otto", "ada", "otto", "ada", "otto"]
    assert timeline[1]["text"] == "looking at it"


def test_a_postmortem_that_cannot_be_written_is_refused_with_the_reason(
    api: Api, directory: Path
) -> None:
    incident_id = open_incident(api, "P3")["id"]
    # A directory where the file should go: it "exists", and even with force it cannot be written.
    taken = (directory / "postmortems" / f"INC-{incident_id:04d}-checkout-returns-502.md").resolve()
    taken.mkdir(parents=True)
    resp = api.post(f"/api/incidents/{incident_id}/postmortem", json={"force": True})
    assert resp.status_code == 409
    assert resp.json()["detail"].startswith(f"cannot write the post-mortem to {taken}: ")
    shown = incident(api, incident_id)
    assert shown["postmortem_path"] is None
    assert "postmortem" not in [e["kind"] for e in shown["timeline"]]


def test_closing_an_unresolved_incident_resolves_it(api: Api) -> None:
    incident_id = open_incident(api, "P3")["id"]
    closed = api.post(f"/api/incidents/{incident_id}/close", Role.OPERATOR).json()
    assert (closed["state"], closed["active"], closed["resolved_by"]) == ("closed", False, "otto")
    assert closed["resolved_at"] == closed["closed_at"]


def test_a_state_cannot_go_back(api: Api) -> None:
    incident_id = open_incident(api, "P3")["id"]
    assert api.post(f"/api/incidents/{incident_id}/mitigate").status_code == 200
    resp = api.post(f"/api/incidents/{incident_id}/acknowledge")
    assert resp.status_code == 409
    assert "cannot go back to acknowledged" in resp.json()["detail"]


def test_the_postmortem_can_be_read_before_it_is_written(api: Api) -> None:
    incident_id = open_incident(api, "P3", summary="slow search")["id"]
    resp = api.get(f"/api/incidents/{incident_id}/postmortem", Role.VIEWER)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/markdown")
    assert resp.text.startswith(f"# Post-mortem: INC-{incident_id:04d} Checkout returns 502")
    assert "slow search" in resp.text
    assert incident(api, incident_id)["postmortem_path"] is None


def test_notes_join_the_timeline_and_public_ones_are_marked(api: Api) -> None:
    incident_id = open_incident(api, "P3")["id"]
    resp = api.post(
        f"/api/incidents/{incident_id}/notes",
        Role.OPERATOR,
        json={"text": "We are investigating slow checkouts.", "public": True},
    )
    assert resp.status_code == 201, resp.text
    note = resp.json()
    assert (note["kind"], note["actor"], note["data"]) == ("note", "otto", {"public": True})
    private = api.post(f"/api/incidents/{incident_id}/notes", json={"text": "db at 95% CPU"})
    assert private.status_code == 201
    notes = [e for e in incident(api, incident_id)["timeline"] if e["kind"] == "note"]
    assert [(n["text"], n["data"]) for n in notes] == [
        ("We are investigating slow checkouts.", {"public": True}),
        ("db at 95% CPU", {}),
    ]
    blank = api.post(f"/api/incidents/{incident_id}/notes", json={"text": "   "})
    assert blank.status_code == 422


def test_ticking_a_phase_item_puts_it_on_the_timeline(api: Api) -> None:
    opened = open_incident(api, "P3")
    investigation = opened["checklists"][1]
    resp = api.post(
        f"/api/checklists/{investigation['id']}/items/2",
        Role.OPERATOR,
        json={"state": "passed", "note": "no deploy since Friday"},
    )
    assert resp.status_code == 200, resp.text
    shown = incident(api, opened["id"])
    assert shown["checklists"][1]["items"][1]["state"] == "passed"
    ticked = shown["timeline"][-1]
    assert (ticked["kind"], ticked["actor"], ticked["id"]) == ("checklist", "otto", None)
    assert ticked["text"] == (
        "investigation: ✓ Check recent deployments and changes (no deploy since Friday)"
    )


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/incidents/999999", None),
        ("POST", "/api/incidents/999999/acknowledge", {"note": "x"}),
        ("POST", "/api/incidents/999999/mitigate", None),
        ("POST", "/api/incidents/999999/resolve", None),
        ("POST", "/api/incidents/999999/close", None),
        ("POST", "/api/incidents/999999/notes", {"text": "hello"}),
        ("POST", "/api/incidents/999999/postmortem", None),
        ("GET", "/api/incidents/999999/postmortem", None),
    ],
)
def test_an_unknown_incident_is_404(
    api: Api, method: str, path: str, body: dict[str, Any] | None
) -> None:
    resp = api.request(method, path, json=body)
    assert resp.status_code == 404
    assert resp.json() == {"detail": "no incident 999999"}


def test_stats_give_response_and_resolution_times_per_severity(api: Api) -> None:
    """A known history in 2020, far from the other tests' incidents, made with the core itself."""
    day = datetime(2020, 3, 2, tzinfo=UTC)
    config = IncidentsConfig.model_validate(
        {"severities": {"P1": {"respond_within": "1h"}, "P2": {"respond_within": "4h"}}}
    )

    def at(hour: int, minute: int = 0) -> datetime:
        return day.replace(hour=hour, minute=minute)

    with api.store.engine.begin() as connection:

        def opened(severity: str, when: datetime) -> int:
            return lifecycle.open_incident(
                connection, config, title="history", severity=severity, actor="ana", now=when
            )

        quick = opened("P1", at(10))
        lifecycle.acknowledge(connection, quick, "ana", at(10, 10))
        lifecycle.resolve(connection, quick, "ana", at(11))
        late = opened("P1", at(13))
        lifecycle.acknowledge(connection, late, "ana", at(14, 30))  # 30 minutes past its hour
        lifecycle.resolve(connection, late, "ana", at(15))
        pending = opened("P2", at(12))
        lifecycle.acknowledge(connection, pending, "ana", at(12, 30))

    resp = api.get(
        "/api/incidents/stats",
        Role.VIEWER,
        params={"since": day.isoformat(), "until": (day + timedelta(days=1)).isoformat()},
    )
    assert resp.status_code == 200, resp.text
    stats = resp.json()
    assert (moment(stats["since"]), moment(stats["until"])) == (day, day + timedelta(days=1))
    figures = ("opened", "open", "mtta_seconds", "mttr_seconds", "response_breaches")
    per_severity = {s["severity"]: tuple(s[f] for f in figures) for s in stats["severities"]}
    assert per_severity == {
        "P1": (2, 0, (600 + 5400) / 2, (3600 + 7200) / 2, 1),
        "P2": (1, 1, 1800, None, 0),
    }
    overall = stats["overall"]
    assert overall["severity"] is None
    assert tuple(overall[f] for f in figures) == (3, 1, 2600, 5400, 1)


def test_stats_default_to_the_last_30_days(api: Api) -> None:
    open_incident(api, "P3")
    resp = api.get("/api/incidents/stats", Role.VIEWER)
    assert resp.status_code == 200
    stats = resp.json()
    length = moment(stats["until"]) - moment(stats["since"])
    assert length == timedelta(days=30)
    assert moment(stats["until"]) > datetime.now(UTC) - timedelta(minutes=1)
    p3 = next(s for s in stats["severities"] if s["severity"] == "P3")
    assert p3["opened"] >= 1 and p3["open"] >= 1
