"""A real ``watchkeeper serve`` for the API tests: the target it watches, its users and their tokens.

Each test module starts one server (module scope keeps the suite fast) with ``running``; the
tests reach it over HTTP and open its SQLite store themselves to set things up and look inside.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any, TypeVar

import httpx

from tests.cli_run import cli_env
from watchkeeper.auth import accounts
from watchkeeper.auth.model import Role, User
from watchkeeper.store.store import Store

PASSWORD = "a long enough password"
USERS = {Role.VIEWER: "vera", Role.OPERATOR: "otto", Role.ADMIN: "ada"}
"""One user per role, each with an API token of that role."""

T = TypeVar("T")


def free_port() -> int:
    """Return a loopback port nothing listens on (free at the time of asking)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(probe: Callable[[], T | None], what: str, timeout: float = 15.0) -> T:
    """Call ``probe`` until it returns something truthy, and return that; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


class Target:
    """A loopback HTTP server whose ``/health`` answers 200, or 503 while it is made to fail."""

    def __init__(self) -> None:
        self.healthy = True
        target = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                code = 200 if target.healthy or self.path != "/health" else 503
                body = b"ok" if code == 200 else b"down"
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # a request line per check run would bury the test output

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        """Stop serving and free the port."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@dataclass
class Api:
    """A running server: its URL, its store, the target it watches and a token per role."""

    url: str
    store: Store
    target: Target
    users: dict[Role, User]
    tokens: dict[Role, str]
    http: httpx.Client

    def request(
        self, method: str, path: str, role: Role | None = Role.ADMIN, **kwargs: Any
    ) -> httpx.Response:
        """Send a request with the token of ``role`` (None: without credentials)."""
        headers = dict(kwargs.pop("headers", None) or {})
        if role is not None:
            headers["Authorization"] = f"Bearer {self.tokens[role]}"
        return self.http.request(method, path, headers=headers, **kwargs)

    def get(self, path: str, role: Role | None = Role.ADMIN, **kwargs: Any) -> httpx.Response:
        """GET ``path`` as ``role``."""
        return self.request("GET", path, role, **kwargs)

    def post(self, path: str, role: Role | None = Role.ADMIN, **kwargs: Any) -> httpx.Response:
        """POST to ``path`` as ``role``."""
        return self.request("POST", path, role, **kwargs)

    def delete(self, path: str, role: Role | None = Role.ADMIN, **kwargs: Any) -> httpx.Response:
        """DELETE ``path`` as ``role``."""
        return self.request("DELETE", path, role, **kwargs)

    def check(self, name: str) -> dict[str, Any]:
        """Return ``GET /api/checks/{name}`` (asserting it answered 200)."""
        resp = self.get(f"/api/checks/{name}")
        assert resp.status_code == 200, resp.text
        found: dict[str, Any] = resp.json()
        return found

    def wait_for_state(self, name: str, state: str, timeout: float = 15.0) -> dict[str, Any]:
        """Wait until the check's state is ``state``; return the check."""
        return wait_until(
            lambda: (c := self.check(name))["state"] == state and c,
            f"{name} to be {state}",
            timeout,
        )


def config_text(
    directory: Path,
    target: Target,
    closed_port: int,
    *,
    failing: bool,
    public_metrics: bool,
    extra: str = "",
) -> str:
    """Return the config: the target's check, a disabled check and, if ``failing``, a refused one,
    then ``extra`` (more top-level sections: incidents, procedures, runbooks).

    Notifications go to a channel on the closed port, so every message stays in the outbox.
    """
    failing_check = f"""
  - name: closed
    service: db
    tcp: {{host: 127.0.0.1, port: {closed_port}}}
    interval: 1s
    alert: {{after: 1}}
"""
    return f"""
store: sqlite:///{directory}/wk.db
defaults: {{timeout: 2s}}
server: {{public_metrics: {str(public_metrics).lower()}}}
notifications:
  channels: {{pager: ["json://127.0.0.1:{closed_port}/hook"]}}
checks:
  - name: target
    description: the target's health endpoint
    service: web
    tags: [frontend]
    http: {{url: "{target.url}/health"}}
    interval: 1s
    alert: {{after: 2}}
  - name: archive
    service: legacy
    enabled: false
    tcp: {{host: 127.0.0.1, port: {closed_port}}}
    alert: {{enabled: false}}
{failing_check if failing else ""}{extra}"""


@contextmanager
def running(
    directory: Path, *, failing: bool = True, public_metrics: bool = False, extra: str = ""
) -> Iterator[Api]:
    """Start ``watchkeeper serve`` on a free port, with a user and a token per role; stop it after.

    ``failing`` adds the check ``closed``, a TCP connect to a port that refuses it; ``extra`` is
    appended to the config (top-level sections such as ``procedures:``).
    """
    with ExitStack() as stack:
        target = Target()
        stack.callback(target.close)
        # Bound but not listening: connects are refused for as long as the server runs.
        closed = stack.enter_context(socket.socket())
        closed.bind(("127.0.0.1", 0))
        config = directory / "watchkeeper.yaml"
        config.write_text(
            config_text(
                directory,
                target,
                closed.getsockname()[1],
                failing=failing,
                public_metrics=public_metrics,
                extra=extra,
            )
        )
        store = Store.open(f"sqlite:///{directory}/wk.db")
        stack.callback(store.close)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = stack.enter_context((directory / "serve.log").open("w+"))
        proc = subprocess.Popen(
            [sys.executable, "-m", "watchkeeper", "serve", "-c", str(config), "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=cli_env(),
        )
        stack.callback(_stop, proc)
        # Hashing passwords takes a while: do it as the server starts, before anyone signs in.
        now = datetime.now(UTC)
        users = {
            role: accounts.add_user(store.engine, name, role, PASSWORD, now)
            for role, name in USERS.items()
        }
        tokens = {
            role: accounts.create_token(
                store.engine, name, "tests", now, expires_in=timedelta(days=1)
            )[0]
            for role, name in USERS.items()
        }
        http = stack.enter_context(httpx.Client(base_url=url, trust_env=False, timeout=20))
        api = Api(url, store, target, users, tokens, http)
        wait_until(lambda: _healthy(api, proc, log), "the server to answer", timeout=30)
        yield api


def _healthy(api: Api, proc: subprocess.Popen[bytes], log: IO[str]) -> bool:
    if proc.poll() is not None:
        log.seek(0)
        raise AssertionError(f"watchkeeper serve exited with {proc.returncode}:\n{log.read()}")
    try:
        return api.get("/api/health", None).status_code == 200
    except httpx.TransportError:
        return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
