"""Error events through a real ``watchkeeper serve``: ``POST /api/errors`` stores an app's errors
(secrets masked, limits kept, the token the only credential), ``GET /api/errors`` shows their
patterns, and an ``errors`` check turns critical after a posted burst."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.web.api_server import Api, running, wait_until
from watchkeeper.auth.model import Role
from watchkeeper.store.tables import error_events

TOKENS = {"APP_ERRORS_TOKEN": "app-errors-token-0123456", "QUIET_TOKEN": "quiet-errors-token-98765"}
DB_PASSWORD = "s3cret-db-password"
APP = TOKENS["APP_ERRORS_TOKEN"]

EXTRA = """
  - name: app-errors
    errors: {token: "${APP_ERRORS_TOKEN}"}
    interval: 1s
    alert: {enabled: false}
  - name: quiet-app
    errors: {token: "${QUIET_TOKEN}", window: 1h}
    interval: 1s
    alert: {enabled: false}
  - name: database
    enabled: false
    http: {url: "http://127.0.0.1:9/", headers: {Authorization: "Bearer ${DB_PASSWORD}"}}
"""


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with pytest.MonkeyPatch.context() as env:
        for name, value in {**TOKENS, "DB_PASSWORD": DB_PASSWORD}.items():
            env.setenv(name, value)
        with running(tmp_path_factory.mktemp("errors"), failing=False, extra=EXTRA) as started:
            yield started


def post(api: Api, body: Any) -> Any:
    return api.post("/api/errors", None, json=body)


def stored(api: Api) -> int:
    with api.store.engine.begin() as connection:
        return int(connection.execute(select(func.count()).select_from(error_events)).scalar_one())


def dump(api: Api) -> str:
    with sqlite3.connect(api.store.engine.url.database or "") as connection:
        return "\n".join(connection.iterdump())


def test_one_event_beside_the_token_is_accepted(api: Api) -> None:
    before = stored(api)
    resp = post(api, {"token": APP, "message": "checkout failed", "level": "warning"})
    assert (resp.status_code, resp.json()) == (202, {"accepted": 1})
    assert stored(api) == before + 1


def test_a_batch_is_accepted_whole(api: Api) -> None:
    before = stored(api)
    events = [
        {
            "message": f"render failed for page {n}",
            "level": "error",
            "stack": ['File "app.py", line 3, in main', 'File "pages.py", line 9, in render'],
            "tags": {"release": "1.4.2"},
            "timestamp": (datetime.now(UTC) - timedelta(minutes=n)).isoformat(),
        }
        for n in range(100)
    ]
    resp = post(api, {"token": APP, "events": events})
    assert (resp.status_code, resp.json()) == (202, {"accepted": 100})
    assert stored(api) == before + 100


def test_secrets_are_masked_before_they_are_stored(api: Api) -> None:
    body = {
        "token": APP,
        "message": f"login as app:{DB_PASSWORD} refused; retried postgres://app:hunter2@db",
        "stack": [f"connect(password=abc123xyz, token={APP})"],
        "tags": {"dsn": "postgres://app:tagsecret9@db"},
    }
    assert post(api, body).status_code == 202
    text = dump(api)
    for secret in (DB_PASSWORD, "hunter2", "abc123xyz", "tagsecret9", APP):
        assert secret not in text
    assert "login as app:*** refused" in text


def test_a_nul_byte_is_stored_as_a_replacement_character(api: Api) -> None:
    # PostgreSQL refuses NUL in text; kept, it would fail every resend of the batch.
    resp = post(api, {"token": APP, "message": "bad\x00byte", "tags": {"k\x00": "v\x00"}})
    assert resp.status_code == 202
    with api.store.engine.begin() as connection:
        message, tags = connection.execute(
            select(error_events.c.message, error_events.c.tags).order_by(error_events.c.id.desc())
        ).first() or ("", {})
    assert message == "bad\ufffdbyte"
    assert tags == {"k\ufffd": "v\ufffd"}


def test_an_unknown_token_is_a_404_that_names_nothing(api: Api) -> None:
    resp = post(api, {"token": "app-errors-token-0123457", "message": "x"})
    assert resp.status_code == 404
    assert "app-errors" not in resp.text and "quiet" not in resp.text


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'{"message": "no token"}',
        b'{"token": "app-errors-token-0123456"}',
        b'{"token": "app-errors-token-0123456", "events": []}',
        b'{"token": "app-errors-token-0123456", "events": [{"message": ""}]}',
        b'{"token": "app-errors-token-0123456", "message": "x", "level": "loud"}',
        b'{"token": "app-errors-token-0123456", "message": "x", "colour": "red"}',
        b'{"token": "app-errors-token-0123456", "message": "x", "tags": {"a": 1}}',
        b'{"token": "app-errors-token-0123456", "message": "x", "stack": 7}',
        b'{"token": "app-errors-token-0123456", "message": "x", "timestamp": "yesterday"}',
        b'{"token": "app-errors-token-0123456", "events": [{"message": "x"}], "extra": 1}',
    ],
)
def test_a_bad_body_is_a_400_that_does_not_echo_it(api: Api, body: bytes) -> None:
    before = stored(api)
    resp = api.post("/api/errors", None, content=body, headers={"Content-Type": "application/json"})
    assert resp.status_code == 400, resp.text
    assert APP not in resp.text and "colour" not in resp.text
    assert stored(api) == before


def test_more_than_twenty_tags_are_refused(api: Api) -> None:
    tags = {f"t{n}": "v" for n in range(21)}
    assert post(api, {"token": APP, "message": "x", "tags": tags}).status_code == 400


def test_a_time_more_than_five_minutes_ahead_is_refused(api: Api) -> None:
    ahead = datetime.now(UTC) + timedelta(minutes=10)
    resp = post(api, {"token": APP, "message": "from the future", "timestamp": ahead.isoformat()})
    assert resp.status_code == 400
    assert "future" in resp.json()["detail"]
    soon = (datetime.now(UTC) + timedelta(minutes=1)).timestamp()
    assert post(api, {"token": APP, "message": "clock drift", "timestamp": soon}).status_code == 202


def test_too_much_is_a_413(api: Api) -> None:
    before = stored(api)
    events = [{"message": "x"} for _ in range(101)]
    assert post(api, {"token": APP, "events": events}).status_code == 413
    huge = {"token": APP, "message": "x" * 300_000}
    assert post(api, huge).status_code == 413
    assert stored(api) == before


def test_long_messages_and_stacks_are_cut(api: Api) -> None:
    message = "overflow " + "m" * 5_000
    stack = [f'File "deep.py", line {n}, in level_{n}' for n in range(2_000)]
    assert post(api, {"token": APP, "message": message, "stack": stack}).status_code == 202
    with api.store.engine.begin() as connection:
        row = connection.execute(
            select(error_events.c.message, error_events.c.stack).where(
                error_events.c.message.like("overflow %")
            )
        ).one()
    assert len(row.message) == 2_000
    assert len(row.stack) <= 16_384
    # The innermost frame, where the error was raised, is what is kept.
    assert row.stack.endswith("in level_1999")


def test_a_posted_burst_turns_the_errors_check_critical(api: Api) -> None:
    quiet = TOKENS["QUIET_TOKEN"]
    assert post(api, {"token": quiet, "message": "first hiccup"}).status_code == 202
    calm = wait_until(
        lambda: (
            (r := api.check("quiet-app")["latest"])
            and r["measurements"].get("error_count") == 1
            and r
        ),
        "the first error to be counted",
    )
    assert calm["status"] == "warning"
    assert calm["measurements"]["verdict"] == "investigate"  # a new kind
    now = datetime.now(UTC)
    burst = [
        {
            "message": f"database connection refused (attempt {n})",
            "level": "error",
            "timestamp": (now - timedelta(seconds=20 * n)).timestamp(),
        }
        for n in range(25)
    ]
    assert post(api, {"token": quiet, "events": burst}).status_code == 202
    result = wait_until(
        lambda: (r := api.check("quiet-app")["latest"]) and r["status"] == "critical" and r,
        "the burst to turn the check critical",
    )
    measured = result["measurements"]
    assert measured["burst"] is True
    assert measured["burst_peak_per_hour"] == 26
    assert measured["verdict"] == "escalate"
    assert measured["top_errors"][0]["count"] == 25
    assert 'verdict != "escalate"' in result["message"]

    patterns = api.get("/api/errors?check=quiet-app", Role.VIEWER)
    assert patterns.status_code == 200, patterns.text
    shown = patterns.json()
    assert shown["count"] == 26 and shown["kinds"] == 2
    top = shown["patterns"][0]
    assert top["count"] == 25 and top["burst"] is True and top["verdict"] == "escalate"
    assert set(top["triggers"]) == {"recurring", "new", "repeated", "burst"}


def test_the_patterns_of_all_apps_need_a_login(api: Api) -> None:
    events = [
        {"message": "stock sync failed", "level": "fatal"},
        {"message": "stock sync slow", "level": "warning"},
    ]
    assert post(api, {"token": APP, "events": events}).status_code == 202
    assert api.get("/api/errors", None).status_code == 401
    resp = api.get("/api/errors?since=2020-01-01T00:00:00Z", Role.VIEWER)
    assert resp.status_code == 200
    shown = {p["example"]: p for p in resp.json()["patterns"]}
    assert shown["stock sync failed"]["level"] == "critical"
    # As a default errors check counts them: no warnings.
    assert "stock sync slow" not in shown
    assert api.get("/api/errors?check=database", Role.VIEWER).status_code == 404
    assert api.get("/api/errors?since=2999-01-01T00:00:00Z", Role.VIEWER).status_code == 422


def test_tokens_are_kept_nowhere(api: Api) -> None:
    assert post(api, {"token": APP, "message": "one more"}).status_code == 202
    server_log = (Path(api.store.engine.url.database or "").parent / "serve.log").read_text()
    for token in TOKENS.values():
        assert token not in dump(api)
        assert token not in server_log
