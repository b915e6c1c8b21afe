"""Access control over real HTTP: who may call what, bad credentials, CSRF, the access log, tokens."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from tests.web.api_server import PASSWORD, Api, running
from watchkeeper.auth import accounts, sessions
from watchkeeper.auth.model import Role
from watchkeeper.store.tables import sessions as sessions_table


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """A running server with a viewer, an operator and an admin, each with a token."""
    with running(tmp_path_factory.mktemp("auth")) as server:
        yield server


@dataclass(frozen=True)
class Call:
    """One endpoint, the least role it needs, and what it answers someone allowed to call it."""

    method: str
    path: str
    needs: Role
    allowed: int
    body: dict[str, Any] | None = None

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


SILENCE = {"matchers": {"check": ["closed"]}, "duration": "1m"}
CALLS = [
    Call("GET", "/api/me", Role.VIEWER, 200),
    Call("GET", "/api/summary", Role.VIEWER, 200),
    Call("GET", "/api/checks", Role.VIEWER, 200),
    Call("GET", "/api/checks/target", Role.VIEWER, 200),
    Call("GET", "/api/errors", Role.VIEWER, 200),
    Call("GET", "/api/checks/target/results", Role.VIEWER, 200),
    Call("GET", "/api/checks/target/series", Role.VIEWER, 200),
    Call("GET", "/api/alerts", Role.VIEWER, 200),
    Call("GET", "/api/silences", Role.VIEWER, 200),
    Call("GET", "/metrics", Role.VIEWER, 200),
    Call("POST", "/api/checks/target/run", Role.OPERATOR, 200),
    Call("POST", "/api/silences", Role.OPERATOR, 201, SILENCE),
    Call("DELETE", "/api/silences/999999", Role.OPERATOR, 404),
    Call("GET", "/api/incidents", Role.VIEWER, 200),
    Call("GET", "/api/incidents/stats", Role.VIEWER, 200),
    Call("GET", "/api/incidents/999999", Role.VIEWER, 404),
    Call("GET", "/api/incidents/999999/postmortem", Role.VIEWER, 404),
    Call("POST", "/api/incidents", Role.OPERATOR, 201, {"title": "Matrix", "severity": "P3"}),
    Call("POST", "/api/incidents/999999/acknowledge", Role.OPERATOR, 404, {"note": "on it"}),
    Call("POST", "/api/incidents/999999/mitigate", Role.OPERATOR, 404, {}),
    Call("POST", "/api/incidents/999999/resolve", Role.OPERATOR, 404, {}),
    Call("POST", "/api/incidents/999999/close", Role.OPERATOR, 404, {}),
    Call("POST", "/api/incidents/999999/notes", Role.OPERATOR, 404, {"text": "hello"}),
    Call("POST", "/api/incidents/999999/postmortem", Role.OPERATOR, 404, {"force": False}),
    Call("GET", "/api/procedures", Role.VIEWER, 200),
    Call("POST", "/api/procedures/nothing/runs", Role.OPERATOR, 404),
    Call("GET", "/api/checklists", Role.VIEWER, 200),
    Call("GET", "/api/checklists/999999", Role.VIEWER, 404),
    Call("POST", "/api/checklists/999999/items/1", Role.OPERATOR, 404, {"state": "passed"}),
    Call(
        "POST",
        "/api/checklists/999999/notes",
        Role.OPERATOR,
        404,
        {"field": "issues_found", "text": "x"},
    ),
    Call("POST", "/api/checklists/999999/complete", Role.OPERATOR, 404),
    Call("GET", "/api/runbooks", Role.VIEWER, 200),
    Call("GET", "/api/runbooks/runs", Role.VIEWER, 200),
    Call("GET", "/api/runbooks/runs/999999", Role.VIEWER, 404),
    Call("GET", "/api/backups", Role.VIEWER, 200),
    Call("GET", "/api/backups/nothing", Role.VIEWER, 404),
    Call("GET", "/api/reports", Role.VIEWER, 200),
    Call("GET", "/api/reports/999999", Role.VIEWER, 404),
    Call("GET", "/api/reports/999999/md", Role.VIEWER, 404),
    Call("POST", "/api/reports", Role.OPERATOR, 201, {"period": "daily"}),
    Call("GET", "/api/users", Role.ADMIN, 200),
    Call("POST", "/api/users", Role.ADMIN, 201, {"name": "newcomer", "password": PASSWORD}),
    Call("DELETE", "/api/users/nobody", Role.ADMIN, 404),
    Call("GET", "/api/tokens", Role.ADMIN, 200),
    Call("POST", "/api/tokens", Role.ADMIN, 201, {"user": "vera", "name": "matrix"}),
    Call("DELETE", "/api/tokens/999999", Role.ADMIN, 404),
    Call("GET", "/api/access-log", Role.ADMIN, 200),
]


@pytest.mark.parametrize("call", CALLS, ids=str)
@pytest.mark.parametrize("role", list(Role), ids=str)
def test_each_role_may_do_exactly_what_it_allows(api: Api, role: Role, call: Call) -> None:
    resp = api.request(call.method, call.path, role, json=call.body)
    if role.allows(call.needs):
        assert resp.status_code == call.allowed, resp.text
    else:
        assert resp.status_code == 403, resp.text
        assert resp.json() == {
            "detail": f"{api.users[role].name} is a {role}; this needs the {call.needs} role"
        }


@pytest.mark.parametrize("call", CALLS, ids=str)
def test_no_credentials_is_401_with_a_bearer_challenge(api: Api, call: Call) -> None:
    resp = api.request(call.method, call.path, None, json=call.body)
    assert resp.status_code == 401
    assert resp.headers["www-authenticate"] == "Bearer"
    assert "Bearer" in resp.json()["detail"]


@pytest.mark.parametrize("path", ["/api/health", "/status", "/api/openapi.json"])
def test_health_status_page_and_schema_answer_anyone(api: Api, path: str) -> None:
    assert api.get(path, None).status_code == 200


def test_a_revoked_token_stops_working_at_once(api: Api) -> None:
    text, token = accounts.create_token(
        api.store.engine, "vera", "to revoke", datetime.now(UTC), expires_in=None
    )
    bearer = {"Authorization": f"Bearer {text}"}
    assert api.get("/api/me", None, headers=bearer).status_code == 200
    assert api.delete(f"/api/tokens/{token.id}").status_code == 204
    assert api.get("/api/me", None, headers=bearer).status_code == 401
    assert api.delete(f"/api/tokens/{token.id}").status_code == 404
    listed = next(t for t in api.get("/api/tokens").json() if t["id"] == token.id)
    assert listed["active"] is False and listed["revoked_at"] is not None


def test_an_expired_token_is_refused(api: Api) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=100)
    text, _ = accounts.create_token(
        api.store.engine, "ada", "old", long_ago, expires_in=timedelta(days=1)
    )
    resp = api.get("/api/me", None, headers={"Authorization": f"Bearer {text}"})
    assert resp.status_code == 401
    assert resp.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer not-a-token",
        "Bearer wk_" + "A" * 43,
        "Bearer wk_",
        "Basic YWRhOnBhc3N3b3Jk",
        "Bearer",
    ],
)
def test_a_malformed_or_unknown_token_is_refused(api: Api, authorization: str) -> None:
    resp = api.get("/api/me", None, headers={"Authorization": authorization})
    assert resp.status_code == 401


@pytest.mark.parametrize("cookie", ["forged", "x" * 43, "y" * 500])
def test_a_forged_session_cookie_is_refused(api: Api, cookie: str) -> None:
    resp = api.get("/api/me", None, headers={"Cookie": f"wk_session={cookie}"})
    assert resp.status_code == 401


def test_a_token_narrower_than_its_user_acts_with_the_tokens_role(api: Api) -> None:
    text, _ = accounts.create_token(
        api.store.engine, "ada", "read only", datetime.now(UTC), expires_in=None, role=Role.VIEWER
    )
    bearer = {"Authorization": f"Bearer {text}"}
    assert api.get("/api/me", None, headers=bearer).json()["role"] == "viewer"
    assert api.get("/api/users", None, headers=bearer).status_code == 403


@dataclass(frozen=True)
class Session:
    """A signed-in browser: its cookie and the CSRF token its pages carry."""

    cookie: str
    csrf: str

    def headers(self, csrf: str | None = None) -> dict[str, str]:
        """Return the cookie header, with ``csrf`` as the CSRF header if given."""
        found = {"Cookie": f"wk_session={self.cookie}"}
        if csrf is not None:
            found["X-CSRF-Token"] = csrf
        return found


@pytest.fixture(scope="module")
def otto_session(api: Api) -> Session:
    """A browser session of otto, the operator."""
    otto = api.users[Role.OPERATOR]
    cookie = sessions.start_session(api.store.engine, otto, datetime.now(UTC), timedelta(hours=1))
    with api.store.engine.connect() as connection:
        csrf = connection.scalar(
            select(sessions_table.c.csrf_token).where(sessions_table.c.user_id == otto.id)
        )
    assert csrf
    return Session(cookie, csrf)


def test_a_session_reads_without_a_csrf_token(api: Api, otto_session: Session) -> None:
    resp = api.get("/api/me", None, headers=otto_session.headers())
    assert resp.status_code == 200
    assert resp.json() == {"user": "otto", "role": "operator", "via": "session"}


@pytest.mark.parametrize("csrf", [None, "", "wrong"])
def test_a_session_change_without_its_csrf_token_is_refused(
    api: Api, otto_session: Session, csrf: str | None
) -> None:
    resp = api.post("/api/silences", None, headers=otto_session.headers(csrf), json=SILENCE)
    assert resp.status_code == 403
    assert "CSRF" in resp.json()["detail"]


def test_a_session_change_with_its_csrf_token_is_made(api: Api, otto_session: Session) -> None:
    headers = otto_session.headers(otto_session.csrf)
    resp = api.post("/api/silences", None, headers=headers, json=SILENCE)
    assert resp.status_code == 201
    assert resp.json()["created_by"] == "otto"
    removed = api.delete(f"/api/silences/{resp.json()['id']}", None, headers=headers)
    assert removed.status_code == 204


def test_a_bearer_token_needs_no_csrf_token(api: Api) -> None:
    resp = api.post("/api/silences", Role.OPERATOR, json=SILENCE)
    assert resp.status_code == 201


def test_the_access_log_records_refused_and_accepted_changes(
    api: Api, otto_session: Session
) -> None:
    since = datetime.now(UTC)
    refused = api.post("/api/silences", None, headers=otto_session.headers(), json=SILENCE)
    made = api.post(
        "/api/silences", None, headers=otto_session.headers(otto_session.csrf), json=SILENCE
    )
    forbidden = api.post("/api/silences", Role.VIEWER, json=SILENCE)
    anonymous = api.post("/api/silences", None, json=SILENCE)
    assert [r.status_code for r in (refused, made, forbidden, anonymous)] == [403, 201, 403, 401]

    resp = api.get("/api/access-log", params={"since": since.isoformat()})
    assert resp.status_code == 200
    logged = [
        (e["actor"], e["via"], e["method"], e["path"], e["action"], e["status"])
        for e in reversed(resp.json())
        if e["path"] == "/api/silences"
    ]
    assert logged == [
        ("otto", "session", "POST", "/api/silences", "POST /api/silences", 403),
        ("otto", "session", "POST", "/api/silences", "add silence", 201),
        ("vera", "token", "POST", "/api/silences", "POST /api/silences", 403),
        (None, "anonymous", "POST", "/api/silences", "POST /api/silences", 401),
    ]
    assert all(e["client"] == "127.0.0.1" for e in resp.json())


def test_reads_are_not_logged_but_refused_reads_are(api: Api) -> None:
    since = datetime.now(UTC)
    assert api.get("/api/checks", Role.VIEWER).status_code == 200
    assert api.get("/api/users", Role.VIEWER).status_code == 403
    entries = api.get("/api/access-log", params={"since": since.isoformat()}).json()
    assert [(e["actor"], e["path"], e["status"]) for e in entries] == [("vera", "/api/users", 403)]


def test_anonymous_refused_reads_are_logged_at_most_once_a_minute_per_client(api: Api) -> None:
    since = datetime.now(UTC)
    for _ in range(3):
        assert api.get("/api/checks", None).status_code == 401
    entries = api.get("/api/access-log", params={"since": since.isoformat()}).json()
    assert len([e for e in entries if e["actor"] is None and e["method"] == "GET"]) <= 1


def test_using_a_token_sets_its_last_used_time(api: Api) -> None:
    text, token = accounts.create_token(
        api.store.engine, "vera", "fresh", datetime.now(UTC), expires_in=None
    )

    def listed() -> dict[str, Any]:
        found: dict[str, Any] = next(
            t for t in api.get("/api/tokens").json() if t["id"] == token.id
        )
        return found

    assert listed()["last_used_at"] is None
    before = datetime.now(UTC)
    assert api.get("/api/me", None, headers={"Authorization": f"Bearer {text}"}).status_code == 200
    used = datetime.fromisoformat(listed()["last_used_at"])
    assert before <= used <= datetime.now(UTC)


def test_a_token_made_through_the_api_is_shown_once_and_works(api: Api) -> None:
    resp = api.post(
        "/api/tokens",
        json={"user": "otto", "name": "deploy", "role": "viewer", "expires_in_days": 7},
    )
    assert resp.status_code == 201
    created = resp.json()
    text, details = created["token"], created["details"]
    assert text.startswith("wk_") and len(text) > 40
    assert details["prefix"] == text[:10]
    assert (details["user"], details["name"], details["role"]) == ("otto", "deploy", "viewer")
    assert details["active"] is True and details["last_used_at"] is None
    created_at = datetime.fromisoformat(details["created_at"])
    assert datetime.fromisoformat(details["expires_at"]) - created_at == timedelta(days=7)

    listing = api.get("/api/tokens")
    assert details["id"] in {t["id"] for t in listing.json()}
    assert text not in listing.text
    assert text[10:] not in listing.text

    bearer = {"Authorization": f"Bearer {text}"}
    assert api.get("/api/me", None, headers=bearer).json() == {
        "user": "otto",
        "role": "viewer",
        "via": "token",
    }
    assert api.post("/api/silences", None, headers=bearer, json=SILENCE).status_code == 403


def test_a_token_cannot_be_broader_than_its_user(api: Api) -> None:
    resp = api.post("/api/tokens", json={"user": "vera", "name": "sneaky", "role": "admin"})
    assert resp.status_code == 422
    assert "cannot be admin" in resp.json()["detail"]


def test_an_admin_adds_and_removes_users(api: Api) -> None:
    resp = api.post("/api/users", json={"name": "olga", "role": "operator", "password": PASSWORD})
    assert resp.status_code == 201
    assert set(resp.json()) == {"name", "role", "created_at"}
    assert ("olga", "operator") in {(u["name"], u["role"]) for u in api.get("/api/users").json()}

    taken = api.post("/api/users", json={"name": "olga", "password": PASSWORD})
    assert taken.status_code == 409
    weak = api.post("/api/users", json={"name": "weak", "password": "short"})
    assert weak.status_code == 422
    assert "at least 10 characters" in weak.json()["detail"]

    text, _ = accounts.create_token(
        api.store.engine, "olga", "t", datetime.now(UTC), expires_in=None
    )
    assert api.delete("/api/users/olga").status_code == 204
    assert "olga" not in {u["name"] for u in api.get("/api/users").json()}
    # Removing a user takes their tokens with them.
    assert api.get("/api/me", None, headers={"Authorization": f"Bearer {text}"}).status_code == 401


def test_metrics_need_a_viewer_unless_public(api: Api) -> None:
    # public_metrics: true is covered by tests/web/test_metrics.py, whose server sets it.
    assert api.get("/metrics", None).status_code == 401
    assert api.get("/metrics", Role.VIEWER).status_code == 200
