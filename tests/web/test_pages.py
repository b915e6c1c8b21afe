"""The dashboard's pages over real HTTP: sign-in, summary, checks, silences, live updates, status page.

Each server is a real ``watchkeeper serve`` process watching a real HTTP target on loopback whose
health the tests flip.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.cli_run import cli_env
from tests.web.test_serve import free_port
from watchkeeper.auth import access_log
from watchkeeper.auth.accounts import add_user
from watchkeeper.auth.model import Role
from watchkeeper.config.incidents import IncidentsConfig
from watchkeeper.incidents.lifecycle import add_note, open_incident
from watchkeeper.store.store import Store

PASSWORDS = {
    "olga": "operator-password",
    "vic": "viewer-password",
    "ada": "admin-password",
}
ROLES = {"olga": Role.OPERATOR, "vic": Role.VIEWER, "ada": Role.ADMIN}
FAILING_BODY = "database connection refused"

CONFIG = """
server: {{status_page: {{enabled: {status_page}, title: Acme status}}}}
checks:
  - name: api
    description: The API answers its health check
    service: backend
    tags: [user-facing]
    http: {{url: "http://127.0.0.1:{port}/health"}}
    interval: 1s
    expect: ['status == 200']
  - name: homepage
    service: web
    tags: [user-facing, marketing]
    http: {{url: "http://127.0.0.1:{port}/"}}
    interval: 1s
    expect: ['status == 200']
"""


class Target(BaseHTTPRequestHandler):
    """A site to watch: ``/`` always answers; ``/health`` answers 200 or 503 as the test says."""

    healthy = True

    def do_GET(self) -> None:
        failing = self.path == "/health" and not type(self).healthy
        body = (FAILING_BODY if failing else "ok").encode()
        self.send_response(503 if failing else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def target() -> Iterator[int]:
    """The port of a running target."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Target)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def api_health() -> Iterator[Callable[[bool], None]]:
    """A switch for the target's health; it is healthy again after the test."""

    def flip(healthy: bool) -> None:
        Target.healthy = healthy

    yield flip
    Target.healthy = True


class Site:
    """A running ``watchkeeper serve`` with users, and browsers (HTTP clients) to visit it."""

    def __init__(self, url: str, store: Path, log: Path) -> None:
        self.url = url
        self.store = store
        self.log = log

    def browser(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, follow_redirects=False, timeout=10)

    @contextlib.contextmanager
    def sign_in(self, name: str) -> Iterator[httpx.Client]:
        with self.browser() as browser:
            login = browser.post("/login", data=login_form(browser, name, PASSWORDS[name]))
            assert login.status_code == 303, login.text
            yield browser

    def access_log(self) -> list[access_log.Access]:
        store = Store.open(str(self.store))
        try:
            return access_log.recent(store.engine)
        finally:
            store.close()


@contextlib.contextmanager
def serving(
    directory: Path, port: int, status_page: bool = True, text: str | None = None
) -> Iterator[Site]:
    """Start ``watchkeeper serve`` on a config watching the target on ``port`` (or on ``text``),
    with one user per role."""
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "watchkeeper.yaml"
    config.write_text(text or CONFIG.format(port=port, status_page=str(status_page).lower()))
    store = Store.open(str(directory / "watchkeeper.db"))
    for name, password in PASSWORDS.items():
        add_user(store.engine, name, ROLES[name], password, datetime.now(UTC))
    store.close()
    web_port = free_port()
    log = directory / "serve.log"
    with log.open("w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "watchkeeper", "serve", "-c", config, "--port", str(web_port)],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env=cli_env(),
        )
    site = Site(f"http://127.0.0.1:{web_port}", directory / "watchkeeper.db", log)
    try:
        eventually(lambda: httpx.get(f"{site.url}/api/health").status_code == 200)
        yield site
    finally:
        proc.terminate()
        proc.wait(20)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, target: int) -> Iterator[Site]:
    """The server most tests share; they sign in, so none of them may trip the throttle."""
    with serving(tmp_path_factory.mktemp("site"), target) as running:
        yield running


@pytest.fixture(scope="module")
def private_site(tmp_path_factory: pytest.TempPathFactory, target: int) -> Iterator[Site]:
    """A server without a public status page, for the throttle test to lock out its client."""
    with serving(tmp_path_factory.mktemp("private"), target, status_page=False) as running:
        yield running


def eventually(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    """Wait until ``condition`` holds: checks run every second, so pages change within seconds."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(httpx.TransportError):
            if condition():
                return
        assert time.monotonic() < deadline, "the condition did not hold in time"
        time.sleep(0.2)


def login_form(browser: httpx.Client, name: str, password: str, next: str = "/") -> dict[str, str]:
    """Load the sign-in form (its token cookie goes into the browser) and fill it in."""
    page = browser.get("/login")
    return {"name": name, "password": password, "next": next, "csrf_token": field(page.text)}


def field(html: str, name: str = "csrf_token") -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no {name} field"
    return found.group(1)


def csrf(browser: httpx.Client) -> str:
    found = re.search(r'<meta name="csrf-token" content="([^"]+)"', browser.get("/").text)
    assert found
    return found.group(1)


def check_state(browser: httpx.Client, name: str) -> str:
    found = re.search(
        r'id="check-state"[^>]*data-state="(\w+)"', browser.get(f"/checks/{name}").text
    )
    assert found
    return found.group(1)


def table_rows(html: str) -> dict[str, str]:
    return dict(re.findall(r'<tr data-check="([^"]+)" data-state="(\w+)"', html))


def test_a_visitor_who_is_not_signed_in_is_sent_to_the_login_page(site: Site) -> None:
    with site.browser() as browser:
        for path, back in [("/", "/"), ("/checks?state=ok", "/checks%3Fstate%3Dok")]:
            answer = browser.get(path)
            assert answer.status_code == 303
            assert answer.headers["location"] == f"/login?next={back}"
        page = browser.get("/login")
        assert page.status_code == 200
        for hook in ('name="name"', 'name="password"', 'id="login-submit"'):
            assert hook in page.text


def test_a_wrong_password_is_refused_and_logged(site: Site) -> None:
    with site.browser() as browser:
        answer = browser.post("/login", data=login_form(browser, "vic", "not-the-password"))
    assert answer.status_code == 401
    assert 'id="login-error"' in answer.text
    assert "Wrong name or password" in answer.text
    assert "wk_session" not in answer.headers.get("set-cookie", "")
    failed = [a for a in site.access_log() if a.action == "login failed"]
    assert [(a.actor, a.status, a.path) for a in failed] == [("vic", 401, "/login")]
    assert "failed sign-in for 'vic'" in site.log.read_text()


@pytest.mark.parametrize("token", [None, "forged"])
def test_a_login_without_the_form_token_is_forbidden(site: Site, token: str | None) -> None:
    with site.browser() as browser:
        form = login_form(browser, "vic", PASSWORDS["vic"])
        if token is None:
            del form["csrf_token"]
        else:
            form["csrf_token"] = token
        answer = browser.post("/login", data=form)
    assert answer.status_code == 403
    assert "wk_session" not in answer.headers.get("set-cookie", "")


def test_login_sets_an_httponly_samesite_cookie_not_marked_secure_over_http(site: Site) -> None:
    with site.browser() as browser:
        form = login_form(browser, "vic", PASSWORDS["vic"], next="/checks?state=ok")
        answer = browser.post("/login", data=form)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/checks?state=ok"
        cookie = next(c for c in answer.headers.get_list("set-cookie") if "wk_session=" in c)
        attributes = {a.strip().lower() for a in cookie.split(";")}
        assert "httponly" in attributes
        assert "samesite=lax" in attributes
        assert "secure" not in attributes
        assert "path=/" in attributes
        home = browser.get("/")
    assert home.status_code == 200
    assert '<body data-user="vic" data-role="viewer">' in home.text
    assert any(a.action == "login" and a.actor == "vic" for a in site.access_log())


@pytest.mark.parametrize("next", ["//evil.example/", "https://evil.example/", "/\\evil.example"])
def test_login_only_returns_to_pages_of_this_site(site: Site, next: str) -> None:
    with site.browser() as browser:
        answer = browser.post("/login", data=login_form(browser, "vic", PASSWORDS["vic"], next))
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"


def test_the_summary_shows_the_overall_state(
    site: Site, api_health: Callable[[bool], None]
) -> None:
    def overall(browser: httpx.Client) -> str:
        found = re.search(r'id="overall"[^>]*data-overall="(\w+)"', browser.get("/").text)
        assert found
        return found.group(1)

    with site.sign_in("vic") as browser:
        eventually(lambda: overall(browser) == "healthy")
        api_health(False)
        eventually(lambda: overall(browser) == "critical")
        page = browser.get("/").text
    assert "critical or in error: api" in page  # the reason, in the title and the details
    assert 'href="/checks?service=backend"' in page
    assert 'href="/checks?service=web"' in page


def test_the_checks_table_filters_by_state(site: Site, api_health: Callable[[bool], None]) -> None:
    with site.sign_in("vic") as browser:
        api_health(False)
        eventually(lambda: table_rows(browser.get("/checks").text).get("api") == "critical")
        assert table_rows(browser.get("/checks?state=critical").text) == {"api": "critical"}
        assert table_rows(browser.get("/checks?state=ok").text) == {"homepage": "ok"}
        assert table_rows(browser.get("/checks?service=web").text) == {"homepage": "ok"}
        assert table_rows(browser.get("/checks?tag=marketing").text) == {"homepage": "ok"}
        both = table_rows(browser.get("/checks?tag=user-facing&state=critical,ok").text)
    assert both == {"api": "critical", "homepage": "ok"}


def test_the_check_page_draws_a_latency_chart_for_30_days(site: Site) -> None:
    with site.sign_in("vic") as browser:
        eventually(lambda: check_state(browser, "homepage") == "ok")
        page = browser.get("/checks/homepage?range=30d").text
    chart = re.search(r'<svg class="chart" id="latency-chart".*?</svg>', page, re.S)
    assert chart, "no chart"
    assert "<polyline" in chart.group(0)
    assert '<a href="/checks/homepage?range=30d" aria-current="true">30d</a>' in page
    assert '<svg class="strip"' in page


def test_a_live_request_gets_only_the_main_content(site: Site) -> None:
    with site.sign_in("vic") as browser:
        full = browser.get("/")
        live = browser.get("/", headers={"X-Live": "1"})
    assert '<main id="main" data-live>' in full.text
    assert live.status_code == 200
    assert 'id="overall"' in live.text
    for layout in ("<html", "<main", "<nav", 'id="logout"', "<head"):
        assert layout not in live.text
    assert "X-Live" in live.headers["vary"]


def test_a_viewer_sees_no_buttons_and_cannot_run_or_silence(site: Site) -> None:
    with site.sign_in("vic") as browser:
        token = csrf(browser)
        page = browser.get("/checks/api").text
        assert 'id="run-now"' not in page
        assert 'id="silence-form"' not in page
        run = browser.post("/checks/api/run", data={"csrf_token": token})
        silence = browser.post(
            "/silences", data={"csrf_token": token, "check": "api", "duration": "1h"}
        )
        silences = browser.get("/silences").text
    assert run.status_code == 403
    assert silence.status_code == 403
    assert 'data-silence="' not in silences


def test_an_operator_silences_a_check_from_its_page(site: Site) -> None:
    with site.sign_in("olga") as browser:
        page = browser.get("/checks/homepage").text
        assert 'id="silenced"' not in page
        form = {
            "csrf_token": field(page),
            "check": field(page, "check"),
            "next": field(page, "next"),
            "duration": "2h",
            "comment": "moving the homepage",
        }
        answer = browser.post("/silences", data=form)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/checks/homepage"
        page = browser.get("/checks/homepage").text
        silences = browser.get("/silences").text
    assert re.search(r'id="silenced"[^>]*>silenced by olga until', page)
    assert "check=homepage" in silences
    assert "moving the homepage" in silences
    assert any(a.action == "add silence" and a.actor == "olga" for a in site.access_log())


def test_a_silence_needs_a_matcher_and_a_duration(site: Site) -> None:
    with site.sign_in("olga") as browser:
        token = csrf(browser)
        nothing = browser.post("/silences", data={"csrf_token": token, "duration": "1h"})
        forever = browser.post(
            "/silences", data={"csrf_token": token, "check": "api", "duration": "forever"}
        )
        too_long = browser.post(
            "/silences", data={"csrf_token": token, "check": "api", "duration": "99999999999d"}
        )
    assert too_long.status_code == 400
    assert "between 1s and 366d" in too_long.text
    assert nothing.status_code == 400
    assert "at least one matcher" in nothing.text
    assert forever.status_code == 400
    assert "bad duration" in forever.text


def test_an_operator_removes_a_silence(site: Site) -> None:
    with site.sign_in("olga") as browser:
        token = csrf(browser)
        added = browser.post(
            "/silences", data={"csrf_token": token, "service": "backend", "duration": "1h"}
        )
        assert added.status_code == 303
        assert added.headers["location"] == "/silences"
        listed = re.search(
            r'data-silence="(\d+)">\s*<td>\d+</td>\s*<td><span class="tag">service=backend',
            browser.get("/silences").text,
        )
        assert listed, "the silence is not listed"
        assert 'id="silenced"' in browser.get("/checks/api").text
        removed = browser.post(f"/silences/{listed.group(1)}/remove", data={"csrf_token": token})
        again = browser.post(f"/silences/{listed.group(1)}/remove", data={"csrf_token": token})
        silences = browser.get("/silences").text
        check_page = browser.get("/checks/api").text
    assert removed.status_code == 303
    assert again.status_code == 404
    assert f'data-silence="{listed.group(1)}"' not in silences
    assert 'id="silenced"' not in check_page


def test_the_alerts_page_shows_firing_then_resolved_alerts(
    site: Site, api_health: Callable[[bool], None]
) -> None:
    def alert_state(browser: httpx.Client) -> str | None:
        found = re.search(r'<tr data-alert="api" data-state="(\w+)"', browser.get("/alerts").text)
        return found.group(1) if found else None

    with site.sign_in("vic") as browser:
        api_health(False)
        eventually(lambda: alert_state(browser) == "firing")
        api_health(True)
        eventually(lambda: alert_state(browser) == "resolved")


def test_an_operator_runs_a_check_now(site: Site) -> None:
    with site.sign_in("olga") as browser:
        page = browser.get("/checks/api").text
        assert 'id="run-now"' in page
        answer = browser.post("/checks/api/run", data={"csrf_token": field(page)})
        missing = browser.post("/checks/no-such-check/run", data={"csrf_token": field(page)})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/checks/api"
    assert missing.status_code == 404
    runs = [a for a in site.access_log() if a.action == "run check"]
    assert [(a.actor, a.path, a.status) for a in runs][:2] == [  # newest first
        ("olga", "/checks/no-such-check/run", 404),
        ("olga", "/checks/api/run", 303),
    ]


def test_a_change_without_the_csrf_token_is_refused(site: Site) -> None:
    with site.sign_in("olga") as browser:
        run = browser.post("/checks/api/run")
        forged = browser.post("/checks/api/run", data={"csrf_token": "forged"})
        silence = browser.post("/silences", data={"check": "api", "duration": "1h"})
    assert (run.status_code, forged.status_code, silence.status_code) == (403, 403, 403)


def test_logging_out_ends_the_session(site: Site) -> None:
    with site.sign_in("vic") as browser:
        cookie = browser.cookies["wk_session"]
        answer = browser.post("/logout", data={"csrf_token": csrf(browser)})
        assert answer.status_code == 303
        assert answer.headers["location"] == "/login"
    with httpx.Client(base_url=site.url, cookies={"wk_session": cookie}) as stale:
        home = stale.get("/")
    assert home.status_code == 303
    assert home.headers["location"].startswith("/login")
    assert any(a.action == "logout" and a.actor == "vic" for a in site.access_log())


def test_the_status_page_is_public_and_shows_no_messages(
    site: Site, api_health: Callable[[bool], None]
) -> None:
    api_health(False)
    with site.sign_in("vic") as browser:
        eventually(lambda: FAILING_BODY in browser.get("/checks/api").text)
    with site.browser() as anyone:
        status = anyone.get("/status")
        backend = anyone.get("/status/backend")
        unknown = anyone.get("/status/nothing-here")
    assert status.status_code == 200
    assert "Acme status" in status.text
    assert re.search(r'data-service="backend" data-state="critical"', status.text)
    assert re.search(r'data-service="web" data-state="healthy"', status.text)
    assert backend.status_code == 200
    assert re.search(r'data-check="api" data-state="critical"', backend.text)
    assert "% uptime</title>" in backend.text
    for page in (status.text, backend.text):
        assert FAILING_BODY not in page
        assert "127.0.0.1" not in page
        assert "status == 200" not in page
    assert unknown.status_code == 404


def test_the_status_page_shows_public_incident_updates_and_nothing_internal(site: Site) -> None:
    store = Store.open(str(site.store))
    try:
        with store.engine.begin() as connection:
            config = IncidentsConfig()
            now = datetime.now(UTC)
            incident = open_incident(
                connection, config, title="db-7 at 10.1.2.3", severity="P1", actor="ada", now=now
            )
            add_note(connection, incident, "ada", now, "internal: failover to db-8")
            add_note(connection, incident, "ada", now, "Payments are delayed.", public=True)
    finally:
        store.close()
    with site.browser() as anyone:
        status = anyone.get("/status")
    assert f'data-public-incident="{incident}" data-state="open"' in status.text
    assert "Payments are delayed." in status.text
    assert "Investigating" in status.text
    assert "db-7" not in status.text
    assert "failover" not in status.text


def test_an_unknown_check_has_a_not_found_page(site: Site) -> None:
    with site.sign_in("vic") as browser:
        answer = browser.get("/checks/no-such-check")
    assert answer.status_code == 404
    assert "There is no check called" in answer.text


def test_every_page_renders_for_every_role(site: Site) -> None:
    for name in PASSWORDS:
        with site.sign_in(name) as browser:
            for path in ("/", "/checks", "/checks/api?range=1h", "/alerts", "/silences"):
                answer = browser.get(path)
                assert answer.status_code == 200, (name, path)
                assert f'data-user="{name}" data-role="{ROLES[name].value}"' in answer.text
                assert 'id="logout"' in answer.text


def test_a_disabled_status_page_is_not_found(private_site: Site) -> None:
    with private_site.browser() as anyone:
        assert anyone.get("/status").status_code == 404
        assert anyone.get("/status/backend").status_code == 404


def test_the_sixth_wrong_password_in_a_row_is_throttled(private_site: Site) -> None:
    with private_site.browser() as browser:
        for _ in range(5):
            answer = browser.post("/login", data=login_form(browser, "ada", "wrong-password"))
            assert answer.status_code == 401
        sixth = browser.post("/login", data=login_form(browser, "ada", "wrong-password"))
        right = browser.post("/login", data=login_form(browser, "ada", PASSWORDS["ada"]))
    assert sixth.status_code == 429
    assert 0 < int(sixth.headers["retry-after"]) <= 900
    assert "Too many failed sign-ins" in sixth.text
    assert right.status_code == 429  # even the right password waits
    assert any(a.action == "login throttled" for a in private_site.access_log())
