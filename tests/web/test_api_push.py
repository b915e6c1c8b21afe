"""Push checks through a real ``watchkeeper serve``: a job's pings and an app's posted values
reach the store and the checks, tokens are the only credential and are never kept or shown."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.api_server import Api, running, wait_until
from watchkeeper.auth import access_log

TOKENS = {
    "HB_OK": "hb-ok-token-0123456789",
    "HB_RUN": "hb-run-token-0123456789",
    "HB_FAIL": "hb-fail-token-0123456789",
    "AGENT_TOKEN": "agent-token-0123456789",
}
DB_PASSWORD = "s3cret-db-password"

EXTRA = """
  - name: nightly-backup
    heartbeat: {token: "${HB_OK}", period: 1d, grace: 1h}
    interval: 1s
  - name: etl-run
    heartbeat: {token: "${HB_RUN}", period: 1h, grace: 10m}
    interval: 1s
  - name: report-job
    heartbeat: {token: "${HB_FAIL}", period: 1d}
    interval: 1s
    alert: {enabled: false}
  - name: agent-execution-time
    metric: {token: "${AGENT_TOKEN}", name: agent_execution_time, window: 1h}
    critical: ["agent_execution_time > 300"]
    interval: 1s
    alert: {enabled: false}
  - name: agent-memory
    metric: {token: "${AGENT_TOKEN}", name: agent_memory_mb, window: 1h}
    critical: ["agent_memory_mb > 500"]
    interval: 1s
  - name: database
    enabled: false
    http: {url: "http://127.0.0.1:9/", headers: {Authorization: "Bearer ${DB_PASSWORD}"}}
"""


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with pytest.MonkeyPatch.context() as env:
        for name, value in {**TOKENS, "DB_PASSWORD": DB_PASSWORD}.items():
            env.setenv(name, value)
        with running(tmp_path_factory.mktemp("push"), failing=False, extra=EXTRA) as started:
            yield started


def latest(api: Api, name: str, until: Any) -> dict[str, Any]:
    """Wait until the check's latest result satisfies ``until``; return that result."""
    return wait_until(
        lambda: (r := api.check(name)["latest"]) is not None and until(r) and r,
        f"a result of {name}",
    )


def test_a_ping_by_get_or_post_is_acknowledged_and_stored(api: Api) -> None:
    token = TOKENS["HB_OK"]
    assert api.get(f"/api/ping/{token}", None).text == "OK"
    resp = api.post(f"/api/ping/{token}", None, content=b"12 files copied")
    assert (resp.status_code, resp.text) == (200, "OK")
    result = latest(api, "nightly-backup", lambda r: r["measurements"].get("pings_24h") == 2)
    assert result["status"] == "ok"
    assert result["measurements"]["last_ping_kind"] == "success"
    assert result["measurements"]["last_message"] == "12 files copied"
    assert result["measurements"]["down"] is False


def test_a_start_then_a_success_times_the_run(api: Api) -> None:
    token = TOKENS["HB_RUN"]
    assert api.post(f"/api/ping/{token}/start", None).status_code == 200
    running_ = latest(api, "etl-run", lambda r: r["measurements"].get("running"))
    assert running_["status"] == "ok"
    assert api.post(f"/api/ping/{token}", None).status_code == 200
    done = latest(api, "etl-run", lambda r: "last_duration" in r["measurements"])
    assert done["measurements"]["running"] is False
    assert 0 < done["measurements"]["last_duration"] < 30


def test_a_failed_job_is_critical_and_its_message_redacted(api: Api) -> None:
    token = TOKENS["HB_FAIL"]
    body = (
        f"report failed: login as app:{DB_PASSWORD} refused (pinged with {token}); "
        "retried postgres://app:hunter2@db with password=abc123"
    )
    resp = api.post(f"/api/ping/{token}/fail", None, content=body.encode())
    assert resp.status_code == 200
    result = latest(api, "report-job", lambda r: r["status"] == "critical")
    assert result["message"] == "expected down == false (down = true)"
    assert result["measurements"]["last_message"] == (
        "report failed: login as app:*** refused (pinged with ***); "
        "retried postgres://app:***@db with password=***"
    )
    # Short passwords the config does not know are masked before the ping is stored.
    with sqlite3.connect(api.store.engine.url.database or "") as connection:
        dump = "\n".join(connection.iterdump())
    assert "hunter2" not in dump
    assert "abc123" not in dump


def test_a_body_over_10_kb_is_refused(api: Api) -> None:
    resp = api.post(f"/api/ping/{TOKENS['HB_FAIL']}/fail", None, content=b"x" * 10_001)
    assert resp.status_code == 413


def test_posted_values_reach_their_checks_and_thresholds(api: Api) -> None:
    values = {"agent_execution_time": 351.5, "agent_memory_mb": 240, "tokens_used": 1200}
    resp = api.post("/api/metrics", None, json={"token": TOKENS["AGENT_TOKEN"], "values": values})
    assert resp.status_code == 200, resp.text
    assert resp.json() == {
        "stored": ["agent_execution_time", "agent_memory_mb"],
        "ignored": ["tokens_used"],
    }
    slow = latest(api, "agent-execution-time", lambda r: r["status"] == "critical")
    assert slow["message"] == "agent_execution_time > 300 (agent_execution_time = 5m52s)"
    assert slow["measurements"]["count"] == 1
    memory = latest(api, "agent-memory", lambda r: r["measurements"].get("count") == 1)
    assert (memory["status"], memory["measurements"]["agent_memory_mb"]) == ("ok", 240.0)


@pytest.mark.parametrize(
    "path", ["/api/ping/{t}", "/api/ping/{t}/start", "/api/ping/{t}/fail", "metrics"]
)
def test_an_unknown_token_is_a_404_that_names_nothing(api: Api, path: str) -> None:
    guess = "hb-ok-token-0123456788"
    if path == "metrics":
        resp = api.post("/api/metrics", None, json={"token": guess, "values": {"x": 1}})
    else:
        resp = api.post(path.format(t=guess), None)
    assert resp.status_code == 404
    assert "nightly" not in resp.text and "agent" not in resp.text
    # The heartbeat token does not open the metrics, nor the other way round.
    assert api.get(f"/api/ping/{TOKENS['AGENT_TOKEN']}", None).status_code == 404
    metrics = {"token": TOKENS["HB_OK"], "values": {"agent_execution_time": 1}}
    assert api.post("/api/metrics", None, json=metrics).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'{"token": "agent-token-0123456789"}',
        b'{"token": "agent-token-0123456789", "values": {"agent_memory_mb": "lots"}}',
        b'{"token": "agent-token-0123456789", "values": {}, "extra": 1}',
        b'{"token": "agent-token-0123456789", "values": {"agent_memory_mb": 1%s}}' % (b"0" * 400),
    ],
)
def test_a_bad_metrics_body_is_a_400_that_does_not_echo_the_token(api: Api, body: bytes) -> None:
    resp = api.post(
        "/api/metrics", None, content=body, headers={"Content-Type": "application/json"}
    )
    assert resp.status_code == 400
    assert TOKENS["AGENT_TOKEN"] not in resp.text


def test_tokens_are_kept_nowhere(api: Api) -> None:
    assert api.get(f"/api/ping/{TOKENS['HB_OK']}", None).status_code == 200
    assert api.post("/api/ping/not-a-known-token-at-all", None).status_code == 404
    logged = access_log.recent(api.store.engine)
    assert not [e for e in logged if "/api/ping" in e.path or "/api/metrics" in e.path]
    # Every row of every table, as SQL text, and everything the server wrote to its log.
    with sqlite3.connect(api.store.engine.url.database or "") as connection:
        dump = "\n".join(connection.iterdump())
    server_log = (Path(api.store.engine.url.database or "").parent / "serve.log").read_text()
    for token in TOKENS.values():
        assert token not in dump
        assert token not in server_log
    assert "heartbeat/" in dump  # the pings are there, under the tokens' hashes
