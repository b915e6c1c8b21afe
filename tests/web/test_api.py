"""The REST API over real HTTP: checks, results, series, the summary, alerts, silences and errors."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.web.api_server import USERS, Api, Target, running, wait_until
from watchkeeper.auth.model import Role
from watchkeeper.results import Result, Status
from watchkeeper.store.rollups import Resolution
from watchkeeper.store.store import Retention


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """A server whose only enabled check watches the target, so the summary follows the target."""
    with running(tmp_path_factory.mktemp("api"), failing=False) as server:
        server.wait_for_state("target", "ok")
        yield server


@pytest.fixture
def failing_target(api: Api) -> Iterator[Target]:
    """The target answering 503 for the test; healthy again, and the summary with it, after."""
    api.target.healthy = False
    yield api.target
    api.target.healthy = True
    wait_until(lambda: overall(api) == "healthy", "the summary to be healthy again")


def overall(api: Api) -> str:
    """Return the summary's overall state."""
    resp = api.get("/api/summary")
    assert resp.status_code == 200, resp.text
    state: str = resp.json()["overall"]
    return state


def moment(text: str) -> datetime:
    """Parse a datetime as the API writes it."""
    return datetime.fromisoformat(text)


def results(api: Api, name: str, **params: Any) -> list[dict[str, Any]]:
    """Return ``GET /api/checks/{name}/results`` with ``params``."""
    resp = api.get(f"/api/checks/{name}/results", params=params)
    assert resp.status_code == 200, resp.text
    found: list[dict[str, Any]] = resp.json()
    return found


def test_health_answers_with_version_and_scheduled_checks(api: Api) -> None:
    resp = api.get("/api/health", None)
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "healthy"
    assert isinstance(body["version"], str) and body["version"]
    assert body["checks"] == 1  # the disabled check is not scheduled


def test_me_says_who_the_token_acts_as(api: Api) -> None:
    for role, name in USERS.items():
        assert api.get("/api/me", role).json() == {"user": name, "role": role, "via": "token"}


def test_checks_list_every_check_with_its_state_and_latest_result(api: Api) -> None:
    resp = api.get("/api/checks")
    assert resp.status_code == 200
    checks = {c["name"]: c for c in resp.json()}
    assert list(checks) == ["target", "archive"]  # config order

    target = checks["target"]
    assert target["state"] == "ok"
    assert (target["kind"], target["service"], target["tags"]) == ("http", "web", ["frontend"])
    assert target["description"] == "the target's health endpoint"
    assert target["schedule"] == "every 1s"
    assert target["latest"]["status"] == "ok"
    assert target["latest"]["measurements"]["status"] == 200
    assert target["latest"]["measurements"]["url"] == f"{api.target.url}/health"
    assert moment(target["latest"]["started_at"]) > datetime.now(UTC) - timedelta(seconds=30)

    assert checks["archive"]["state"] == "disabled"
    assert checks["archive"]["enabled"] is False


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"service": "web"}, ["target"]),
        ({"service": "legacy"}, ["archive"]),
        ({"tag": "frontend"}, ["target"]),
        ({"state": "disabled"}, ["archive"]),
        ({"state": "ok", "service": "web"}, ["target"]),
        ({"service": "nobody"}, []),
    ],
)
def test_checks_filter_by_service_tag_and_state(
    api: Api, params: dict[str, str], names: list[str]
) -> None:
    resp = api.get("/api/checks", params=params)
    assert resp.status_code == 200
    assert [c["name"] for c in resp.json()] == names


def test_one_check_by_name(api: Api) -> None:
    check = api.check("target")
    assert check["name"] == "target"
    assert check["latest"]["check"] == "target"


def test_series_for_30_days_comes_from_hourly_rollups(api: Api) -> None:
    now = datetime.now(UTC)
    hour = Resolution.HOUR.floor(now - timedelta(days=3))
    statuses = [Status.OK, Status.OK, Status.CRITICAL, Status.OK]
    api.store.insert_results(
        [
            Result("archive", hour + timedelta(minutes=10 + i), status, 10.0 * (i + 1))
            for i, status in enumerate(statuses)
        ]
    )
    api.store.rollup(now)
    # With the raw results gone, only the rollups can answer.
    api.store.prune(now, Retention(raw=2 * 86400.0))
    assert results(api, "archive") == []

    resp = api.get("/api/checks/archive/series", params={"range": "30d"})
    assert resp.status_code == 200
    series = resp.json()
    assert series["resolution"] == "hour"
    assert [
        (moment(p["start"]), p["count"], p["failures"], p["avg_ms"], p["max_ms"])
        for p in series["points"]
    ] == [(hour, 4, 1, 25.0, 40.0)]


def test_summary_is_healthy_while_every_enabled_check_is_ok(api: Api) -> None:
    resp = api.get("/api/summary")
    assert resp.status_code == 200
    summary = resp.json()
    assert summary["overall"] == "healthy"
    assert summary["reasons"] == ["every enabled check is ok"]
    assert summary["counts"]["ok"] == 1 and summary["counts"]["disabled"] == 1
    assert summary["rule"].startswith("critical:")


def test_summary_turns_critical_while_the_target_fails(api: Api, failing_target: Target) -> None:
    wait_until(lambda: overall(api) == "critical", "the summary to turn critical")
    summary = api.get("/api/summary").json()
    assert any("target" in reason for reason in summary["reasons"])
    web = next(s for s in summary["services"] if s["name"] == "web")
    assert web["overall"] == "critical"
    assert web["failing"] == ["target"]
    assert api.check("target")["latest"]["measurements"]["status"] == 503


def test_a_failing_target_fires_an_alert_that_resolves_when_it_recovers(
    api: Api, failing_target: Target
) -> None:
    def firing_alert() -> dict[str, Any] | None:
        resp = api.get("/api/alerts", params={"state": "firing"})
        assert resp.status_code == 200
        return next((a for a in resp.json() if a["check"] == "target"), None)

    firing = wait_until(firing_alert, "the target's alert to fire")
    assert (firing["state"], firing["severity"], firing["service"]) == ("firing", "critical", "web")
    assert firing["resolved_at"] is None

    failing_target.healthy = True
    wait_until(lambda: firing_alert() is None, "the alert to resolve")
    recent = api.get("/api/alerts", params={"state": "recent"}).json()
    resolved = next(a for a in recent if a["id"] == firing["id"])
    assert resolved["check"] == "target"
    assert resolved["state"] == "resolved"
    assert moment(resolved["resolved_at"]) > moment(resolved["fired_at"])


# The results tests come after the slow ones above, so the results they need are there.
def test_results_are_newest_first_and_limited(api: Api) -> None:
    wait_until(lambda: len(results(api, "target", limit=1000)) >= 4, "four results")
    three = results(api, "target", limit=3)
    assert len(three) == 3
    starts = [moment(r["started_at"]) for r in three]
    assert starts == sorted(starts, reverse=True) and len(set(starts)) == 3
    assert {r["check"] for r in three} == {"target"}


def test_results_since_and_until_bound_the_start_time(api: Api) -> None:
    wait_until(lambda: len(results(api, "target", limit=1000)) >= 4, "four results")
    every = results(api, "target", limit=1000)
    middle = every[2]["started_at"]
    later = results(api, "target", since=middle, limit=1000)
    earlier = results(api, "target", until=middle, limit=1000)
    assert middle in {r["started_at"] for r in later}
    assert all(moment(r["started_at"]) >= moment(middle) for r in later)
    assert earlier and all(moment(r["started_at"]) < moment(middle) for r in earlier)


def test_series_for_an_hour_is_the_raw_results(api: Api) -> None:
    # Every run that started this long ago has been written, so both reads see the same runs.
    until = datetime.now(UTC) - timedelta(seconds=5)
    wait_until(
        lambda: results(api, "target", until=until.isoformat()), "a run five seconds old", 10
    )
    resp = api.get("/api/checks/target/series", params={"range": "1h", "until": until.isoformat()})
    assert resp.status_code == 200
    series = resp.json()
    raw = results(
        api, "target", since=(until - timedelta(hours=1)).isoformat(), until=until.isoformat()
    )
    assert series["check"] == "target"
    assert series["resolution"] == "raw"
    assert moment(series["until"]) == until
    assert moment(series["since"]) == until - timedelta(hours=1)
    assert [
        (moment(p["start"]), p["count"], p["failures"], p["avg_ms"], p["max_ms"])
        for p in series["points"]
    ] == [
        (moment(r["started_at"]), 1, int(r["status"] != "ok"), r["duration_ms"], r["duration_ms"])
        for r in reversed(raw)
    ]


def test_run_now_returns_a_fresh_result_that_is_then_listed(api: Api) -> None:
    before = datetime.now(UTC)
    resp = api.post("/api/checks/target/run", Role.OPERATOR)
    assert resp.status_code == 200, resp.text
    ran = resp.json()
    assert ran["check"] == "target"
    assert ran["status"] == "ok"
    assert moment(ran["started_at"]) >= before
    assert ran["measurements"]["status"] == 200
    listed = results(api, "target", since=before.isoformat(), limit=1000)
    assert ran in listed


def test_running_a_disabled_check_is_a_conflict(api: Api) -> None:
    resp = api.post("/api/checks/archive/run")
    assert resp.status_code == 409
    assert resp.json() == {"detail": "archive is disabled"}


def test_a_silence_is_created_listed_shown_on_its_check_and_removed(api: Api) -> None:
    resp = api.post(
        "/api/silences",
        Role.OPERATOR,
        json={"matchers": {"check": ["target"]}, "duration": "2h", "comment": "deploying"},
    )
    assert resp.status_code == 201, resp.text
    silence = resp.json()
    assert silence["matchers"] == {"check": ["target"]}
    assert silence["created_by"] == "otto"
    assert silence["comment"] == "deploying"
    assert moment(silence["ends_at"]) - moment(silence["starts_at"]) == timedelta(hours=2)

    assert silence in api.get("/api/silences", Role.VIEWER).json()
    assert api.check("target")["silenced_by"] == silence["id"]

    assert api.delete(f"/api/silences/{silence['id']}", Role.OPERATOR).status_code == 204
    assert silence["id"] not in {s["id"] for s in api.get("/api/silences").json()}
    assert api.check("target")["silenced_by"] is None
    again = api.delete(f"/api/silences/{silence['id']}", Role.OPERATOR)
    assert again.status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "body", "detail"),
    [
        ("GET", "/api/checks/nope", None, "no check called 'nope'"),
        ("GET", "/api/checks/nope/results", None, "no check called 'nope'"),
        ("GET", "/api/checks/nope/series", None, "no check called 'nope'"),
        ("POST", "/api/checks/nope/run", None, "no check called 'nope'"),
        ("DELETE", "/api/silences/999999", None, "no active silence 999999"),
        ("DELETE", "/api/tokens/999999", None, "no active token 999999"),
        ("DELETE", "/api/users/nobody", None, "no user called 'nobody'"),
        (
            "POST",
            "/api/tokens",
            {"user": "nobody", "name": "ci"},
            "there is no user called 'nobody'",
        ),
    ],
)
def test_unknown_things_are_404_with_a_message(
    api: Api, method: str, path: str, body: dict[str, Any] | None, detail: str
) -> None:
    resp = api.request(method, path, json=body)
    assert resp.status_code == 404
    assert resp.headers["content-type"] == "application/json"
    assert resp.json() == {"detail": detail}


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"matchers": {"check": ["target"]}, "duration": "60x"}, "bad duration '60x'"),
        ({"matchers": {"check": ["target"]}, "duration": "400d"}, "between 1s and 366d"),
        ({"matchers": {"check": ["target"]}, "duration": "99999999999d"}, "between 1s and 366d"),
        ({"matchers": {"check": [" "]}}, "at least one non-empty matcher"),
        ({"matchers": {"check": []}}, "at least one non-empty matcher"),
    ],
)
def test_a_bad_silence_is_422_with_the_reason(api: Api, body: dict[str, Any], says: str) -> None:
    resp = api.post("/api/silences", json=body)
    assert resp.status_code == 422
    assert says in resp.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path", "params", "body"),
    [
        ("POST", "/api/silences", {}, {"matchers": {"host": ["db1"]}}),
        ("POST", "/api/silences", {}, {"matchers": {}}),
        ("POST", "/api/silences", {}, {"matchers": {"check": ["x"]}, "colour": "red"}),
        ("GET", "/api/checks/target/results", {"limit": "0"}, None),
        ("GET", "/api/checks/target/results", {"limit": "1001"}, None),
        ("GET", "/api/checks/target/results", {"since": "garbage"}, None),
        ("GET", "/api/checks/target/results", {"since": "8401"}, None),
        ("GET", "/api/checks/target/results", {"since": "2.2250738585072014e-308"}, None),
        ("GET", "/api/incidents/stats", {"since": "1e3"}, None),
        ("GET", "/api/checks/target/results", {"since": "0081-02-21T23:26:55Z"}, None),
        ("GET", "/api/checks/target/results", {"until": "2500-01-01T00:00:00"}, None),
        ("GET", "/api/checks/target/series", {"range": "2h"}, None),
        ("GET", "/api/checks", {"state": "sleepy"}, None),
        ("GET", "/api/alerts", {"state": "all"}, None),
        ("GET", "/api/alerts", {"since": "yesterday"}, None),
        ("GET", "/api/access-log", {"limit": "0"}, None),
        # Ids too large to store: refused, not looked up (that was a 500).
        ("DELETE", "/api/silences/13142371572146493194240", {}, None),
        ("DELETE", "/api/tokens/13142371572146493194240", {}, None),
    ],
)
def test_invalid_input_is_422_with_a_detail(
    api: Api, method: str, path: str, params: dict[str, str], body: dict[str, Any] | None
) -> None:
    resp = api.request(method, path, params=params, json=body)
    assert resp.status_code == 422, resp.text
    assert resp.headers["content-type"] == "application/json"
    assert resp.json()["detail"]


@pytest.mark.parametrize(
    ("path", "role", "status"),
    [
        ("/api/checks", Role.VIEWER, 200),
        ("/api/checks/nope", Role.VIEWER, 404),
        ("/api/users", Role.VIEWER, 403),
        ("/api/checks", None, 401),
        ("/api/health", None, 200),
    ],
)
def test_every_answer_says_how_long_it_took(
    api: Api, path: str, role: Role | None, status: int
) -> None:
    resp = api.get(path, role)
    assert resp.status_code == status
    assert re.fullmatch(r"app;dur=\d+\.\d\d", resp.headers["server-timing"])
