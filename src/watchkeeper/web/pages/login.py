"""Signing in and out: the login form with its own CSRF token, the throttle, the session cookie."""

from __future__ import annotations

import hmac
import logging
import math
import secrets
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from watchkeeper.auth.accounts import check_password
from watchkeeper.auth.sessions import end_session, start_session
from watchkeeper.web.pages.render import Viewer, dashboard, local_path, page
from watchkeeper.web.security import (
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    client_address,
    secure_cookies,
)

log = logging.getLogger("watchkeeper.web")

router = APIRouter()


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    """Show the sign-in form, with a fresh CSRF token in a cookie and in the form."""
    return _form(request, next, status_code=200)


@router.post("/login")
async def login(request: Request) -> Response:
    """Check a name and password; on success start a session and go where the user was headed."""
    form = await request.form()
    name = str(form.get("name", "")).strip()
    password = str(form.get("password", ""))
    target = local_path(str(form.get("next", "/")))
    given = str(form.get(CSRF_FIELD, ""))
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not given or not expected or not hmac.compare_digest(given, expected):
        return _form(request, target, 403, "The form expired. Please try again.", name=name)
    gate = request.app.state.gate
    client = client_address(request)
    wait = gate.throttle.retry_after(name, client)
    if wait > 0:
        request.state.action = "login throttled"
        request.state.actor = name
        seconds = math.ceil(wait)
        return _form(
            request,
            target,
            429,
            f"Too many failed sign-ins. Try again in {seconds} seconds.",
            name=name,
            headers={"Retry-After": str(seconds)},
        )
    # Counted before the slow hash, so parallel attempts cannot all slip past the limit.
    gate.throttle.failed(name, client)
    store = dashboard(request).store
    user = await run_in_threadpool(check_password, store.engine, name, password)
    if user is None:
        log.warning("failed sign-in for %r from %s", name, client)
        request.state.action = "login failed"
        request.state.actor = name
        return _form(request, target, 401, "Wrong name or password.", name=name)
    gate.throttle.succeeded(name, client)
    lifetime = dashboard(request).config.server.session_lifetime
    cookie = await run_in_threadpool(
        start_session, store.engine, user, datetime.now(UTC), timedelta(seconds=lifetime)
    )
    request.state.action = "login"
    request.state.actor = user.name
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=int(lifetime),
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, who: Viewer) -> Response:
    """End the session and forget its cookie."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        end_session(dashboard(request).store.engine, cookie, datetime.now(UTC))
    request.state.action = "logout"
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=secure_cookies(request)
    )
    return response


def _form(
    request: Request,
    target: str,
    status_code: int,
    error: str = "",
    *,
    name: str = "",
    headers: dict[str, str] | None = None,
) -> Response:
    token = secrets.token_urlsafe(32)
    response = page(
        request,
        "login.html",
        None,
        {"login_csrf": token, "next": local_path(target), "error": error, "name": name},
        title="Sign in",
        status_code=status_code,
        headers=headers,
        live_updates=False,
    )
    # Strict: the token must come back from our own form, never from another site's.
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        path="/login",
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
    )
    return response
