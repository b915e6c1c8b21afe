"""Who sent a request (a bearer token or a session cookie) and whether they may do what it asks.

Requests signed by a cookie must also carry the session's CSRF token when they change anything;
bearer tokens cannot be sent by another site's page, so they need none.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool

from watchkeeper.auth.accounts import token_principal
from watchkeeper.auth.model import Principal, Role
from watchkeeper.auth.sessions import session_principal
from watchkeeper.auth.throttle import LoginThrottle

SESSION_COOKIE = "wk_session"
LOGIN_CSRF_COOKIE = "wk_login_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SignInRequired(Exception):
    """A page was asked for by someone not signed in: they are sent to the sign-in page."""


class Gate:
    """Resolves principals for one app; the login throttle lives here, per process."""

    def __init__(self, throttle: LoginThrottle | None = None) -> None:
        self.throttle = throttle or LoginThrottle()


def principal(request: Request) -> Principal | None:
    """Return who sent the request, looked up once per request; None for nobody (or a bad credential)."""
    state = request.scope.setdefault("state", {})
    if "principal" in state:
        found: Principal | None = state["principal"]
        return found
    engine = request.app.state.dashboard.store.engine
    now = datetime.now(UTC)
    header = request.headers.get("authorization", "")
    scheme, _, credential = header.partition(" ")
    if scheme.lower() == "bearer" and credential.strip():
        found = token_principal(engine, credential.strip(), now)
        state["credential"] = "token"
    elif cookie := request.cookies.get(SESSION_COOKIE):
        found = session_principal(engine, cookie, now)
        state["credential"] = "session"
    else:
        found = None
    state["principal"] = found
    return found


def require(role: Role, *, page: bool = False) -> Callable[[Request], Awaitable[Principal]]:
    """Return a dependency that admits principals with at least ``role`` (and a CSRF token when due).

    For pages, nobody signed in is sent to the sign-in page instead of getting a 401.
    """

    async def dependency(request: Request) -> Principal:
        who = await run_in_threadpool(principal, request)
        if who is None:
            if page and request.method in SAFE_METHODS:
                raise SignInRequired
            raise HTTPException(
                401,
                "sign in, or send an API token as 'Authorization: Bearer wk_…'",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not who.role.allows(role):
            raise HTTPException(403, f"{who.user} is a {who.role}; this needs the {role} role")
        if request.method not in SAFE_METHODS and who.csrf_token is not None:
            await check_csrf(request, who.csrf_token)
        return who

    return dependency


async def check_csrf(request: Request, expected: str) -> None:
    """Refuse a cookie-signed change that does not carry ``expected`` in a header or form field."""
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not given or not hmac.compare_digest(given, expected):
        raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")


def secure_cookies(request: Request) -> bool:
    """Return True when the browser reached us over TLS (directly or through a proxy uvicorn trusts)."""
    base_url = request.app.state.dashboard.config.server.base_url or ""
    return request.url.scheme == "https" or base_url.startswith("https://")


def client_address(request: Request) -> str:
    """Return the client's address, for the throttle and the access log."""
    return request.client.host if request.client else "unknown"


REPORT_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
"""A kept report is one self-contained page (inline CSS and SVG): it needs nothing else, and
runs no script whatever its text holds."""
