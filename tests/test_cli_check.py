"""``watchkeeper check --json`` against real servers: HTTP, self-signed TLS, PostgreSQL, a hung command."""

from __future__ import annotations

import json
import sqlite3
import ssl
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import psutil
import pytest
from aiohttp import web

from tests.certs import make_certificate
from tests.cli_run import run_cli
from watchkeeper.results import Result, Status
from watchkeeper.store.store import Store

SECRET = "tok-5f2c9a8e77d1"


def _app() -> web.Application:
    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "healthy"})

    async def broken(request: web.Request) -> web.Response:
        return web.json_response({"status": "down"}, status=503)

    async def whoami(request: web.Request) -> web.Response:
        # Echo the credentials back, as a careless endpoint would: they must not leak from Watchkeeper.
        return web.Response(text=f"you sent {request.headers.get('Authorization')}")

    app = web.Application()
    app.router.add_get("/api/health", health)
    app.router.add_get("/broken", broken)
    app.router.add_get("/whoami", whoami)
    return app


@pytest.fixture
async def http_url() -> AsyncIterator[str]:
    runner = web.AppRunner(_app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


@pytest.fixture
async def tls_port(tmp_path: Path) -> AsyncIterator[int]:
    cert = make_certificate(tmp_path, hostname="localhost", days=10)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert.cert, cert.key)
    runner = web.AppRunner(_app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    yield runner.addresses[0][1]
    await runner.cleanup()


def by_name(stdout: str) -> dict[str, dict[str, object]]:
    return {row["name"]: row for row in json.loads(stdout)}


async def test_check_json_against_real_servers(
    tmp_path: Path, http_url: str, tls_port: int, postgres_url: str
) -> None:
    pidfile = tmp_path / "grandchild.pid"
    config = tmp_path / "watchkeeper.yaml"
    config.write_text(
        f"""
checks:
  - name: api
    http: {{url: "{http_url}/api/health"}}
    expect: ['status == 200', 'json.status == "healthy"']
    warn: ['response_time > 5s']
  - name: api-broken
    http: {{url: "{http_url}/broken"}}
    expect: ['status == 200']
  - name: self-signed-https
    http: {{url: "https://127.0.0.1:{tls_port}/api/health"}}
  - name: self-signed-tls
    tls: {{host: 127.0.0.1, port: {tls_port}, sni: localhost}}
    expect: ['hostname_matches == true']
    warn: ['cert_expires_in < 14d']
  - name: postgres
    database: {{url: "${{PG_URL}}", query: "SELECT 41 + 1"}}
    expect: ['value == 42', 'connections <= max_connections']
  - name: hung-command
    command: {{argv: [sh, -c, "sleep 300 & echo $$! > {pidfile}; wait"]}}
    timeout: 1s
"""
    )
    ran = await run_cli("check", "-c", config, "--json", env={"PG_URL": postgres_url})
    assert ran.code == 2, ran.stderr
    rows = by_name(ran.stdout)

    api = rows["api"]
    assert api["status"] == "ok"
    assert api["measurements"]["status"] == 200  # type: ignore[index]
    assert api["measurements"]["json"] == {"status": "healthy"}  # type: ignore[index]

    assert rows["api-broken"]["status"] == "critical"
    assert "status = 503" in str(rows["api-broken"]["message"])

    # TLS verification is on by default: a self-signed certificate is refused.
    assert rows["self-signed-https"]["status"] == "error"
    assert "certificate" in str(rows["self-signed-https"]["message"]).lower()

    tls = rows["self-signed-tls"]
    assert tls["status"] == "warning"
    assert tls["measurements"]["verified"] is False  # type: ignore[index]
    expires_in = tls["measurements"]["cert_expires_in"]  # type: ignore[index]
    assert 9 * 86400 < expires_in <= 10 * 86400

    pg = rows["postgres"]
    assert pg["status"] == "ok", pg
    assert pg["measurements"]["value"] == 42  # type: ignore[index]
    assert pg["measurements"]["max_connections"] == 100  # type: ignore[index]

    hung = rows["hung-command"]
    assert hung["status"] == "error"
    assert "timed out" in str(hung["message"])
    assert hung["duration_ms"] < 5000  # type: ignore[operator]
    grandchild = int(pidfile.read_text())
    assert not psutil.pid_exists(grandchild) or psutil.Process(grandchild).status() == "zombie"


async def test_check_exit_codes_follow_the_worst_status(tmp_path: Path, http_url: str) -> None:
    config = tmp_path / "watchkeeper.yaml"
    config.write_text(
        f"checks:\n  - name: api\n    http: {{url: '{http_url}/api/health'}}\n"
        "    warn: ['response_time > 500ms']\n"
    )
    assert (await run_cli("check", "-c", config)).code == 0
    config.write_text(
        f"checks:\n  - name: api\n    http: {{url: '{http_url}/api/health'}}\n"
        "    warn: ['response_time >= 0s']\n"
    )
    assert (await run_cli("check", "-c", config)).code == 1
    ran = await run_cli("check", "-c", config, "--only", "nope")
    assert ran.code == 3 and "no such check: nope" in ran.stderr


async def test_check_results_land_in_the_store_and_status_shows_them(
    tmp_path: Path, http_url: str
) -> None:
    config = tmp_path / "watchkeeper.yaml"
    config.write_text(f"checks:\n  - name: api\n    http: {{url: '{http_url}/api/health'}}\n")
    assert (await run_cli("check", "-c", config)).code == 0
    ran = await run_cli("status", "-c", config, "--json")
    assert ran.code == 0
    (row,) = json.loads(ran.stdout)
    assert row["name"] == "api" and row["status"] == "ok"
    history = await run_cli("history", "api", "-c", config, "--json")
    assert len(json.loads(history.stdout)) == 1


async def test_secret_never_appears_in_output_logs_or_store(tmp_path: Path, http_url: str) -> None:
    config = tmp_path / "watchkeeper.yaml"
    config.write_text(
        f"""
checks:
  - name: whoami
    http:
      url: "{http_url}/whoami?token=${{API_TOKEN}}"
      headers: {{Authorization: "Bearer ${{API_TOKEN}}"}}
    expect: ['status == 200', 'body contains "nothing"']
  - name: failing-command
    command: {{argv: [sh, -c, "echo token=$$0 >&2; exit 3", "${{API_TOKEN}}"]}}
"""
    )
    as_json = await run_cli("check", "-c", config, "--json", env={"API_TOKEN": SECRET})
    verbose_table = await run_cli("-v", "check", "-c", config, env={"API_TOKEN": SECRET})
    for ran in (as_json, verbose_table):
        assert ran.code == 2, ran.stderr
        assert SECRET not in ran.stdout and SECRET not in ran.stderr
    rows = by_name(as_json.stdout)
    assert rows["whoami"]["measurements"]["body"] == "you sent Bearer ***"  # type: ignore[index]
    assert "token=***" in rows["failing-command"]["measurements"]["stderr"]  # type: ignore[index]
    status = await run_cli("status", "-c", config, "--json", env={"API_TOKEN": SECRET})
    assert SECRET not in status.stdout
    db = tmp_path / "watchkeeper.db"
    with sqlite3.connect(db) as conn:
        dump = "\n".join(conn.iterdump())
    assert "***" in dump and SECRET not in dump
    assert SECRET.encode() not in b"".join(p.read_bytes() for p in tmp_path.glob("watchkeeper.db*"))


async def test_results_land_in_a_postgresql_store_named_by_a_secret_url(
    tmp_path: Path, http_url: str, postgres_url: str
) -> None:
    config = tmp_path / "watchkeeper.yaml"
    config.write_text(
        f"store: ${{STORE_URL}}\nchecks:\n  - name: api\n    http: {{url: '{http_url}/api/health'}}\n"
    )
    env = {"STORE_URL": postgres_url}
    assert (await run_cli("check", "-c", config, env=env)).code == 0
    ran = await run_cli("history", "api", "-c", config, "--json", env=env)
    (row,) = json.loads(ran.stdout)
    assert row["status"] == "ok" and row["measurements"]["status"] == 200
    assert not (tmp_path / "watchkeeper.db").exists()


async def test_status_summarises_passing_results_that_serve_stored_without_a_message(
    tmp_path: Path,
) -> None:
    config = tmp_path / "watchkeeper.yaml"
    config.write_text(
        "checks:\n  - name: api\n    http: {url: 'http://127.0.0.1:9/'}\n"
        "    warn: ['response_time > 500ms']\n"
    )
    store = Store.open(f"sqlite:///{tmp_path / 'watchkeeper.db'}")
    store.insert_results(
        [
            Result(
                "api",
                datetime.now(UTC),
                Status.OK,
                4.0,
                "",
                {"status": 200, "response_time": 0.042},
            )
        ]
    )
    store.close()
    (row,) = json.loads((await run_cli("status", "-c", config, "--json")).stdout)
    assert row["message"] == "status = 200, response_time = 42ms"


async def test_results_that_cannot_be_stored_are_printed_and_exit_3(
    tmp_path: Path, http_url: str
) -> None:
    config = tmp_path / "watchkeeper.yaml"
    config.write_text(
        f"store: 'sqlite:///{tmp_path / 'wk.db'}?timeout=0.2'\n"
        f"checks:\n  - name: api\n    http: {{url: '{http_url}/api/health'}}\n"
    )
    assert (await run_cli("check", "-c", config)).code == 0  # creates the store
    locker = sqlite3.connect(tmp_path / "wk.db", isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        ran = await run_cli("check", "-c", config, "--json")
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert ran.code == 3
    assert json.loads(ran.stdout)[0]["status"] == "ok"
    assert "the results were not stored" in ran.stderr and "locked" in ran.stderr
    assert "Traceback" not in ran.stderr


async def test_a_check_reading_the_store_is_judged_even_when_results_are_not_kept(
    tmp_path: Path,
) -> None:
    config = tmp_path / "watchkeeper.yaml"
    config.write_text(
        "checks:\n"
        "  - name: nightly\n"
        "    heartbeat: {token: 'a-token-of-twenty-chars', period: 1d}\n"
    )

    ran = await run_cli("check", "-c", config, "--no-store", "--json", cwd=tmp_path)

    [result] = json.loads(ran.stdout)
    assert result["status"] == "ok", result  # new: not pinged yet, and not an error
