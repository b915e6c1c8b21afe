"""Rendering pages: one Jinja environment, the layout's common context, and live fragments.

A request with ``X-Live: 1`` (sent by static/live.js) gets only what goes inside ``<main>``:
base.html leaves out the layout when ``live`` is set, so every page updates the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import jinja2
from fastapi import Depends, Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from watchkeeper import __version__
from watchkeeper.auth.model import Principal, Role
from watchkeeper.views.dashboard import Dashboard
from watchkeeper.web.pages.formats import Clock, zone
from watchkeeper.web.security import require

TEMPLATES = Path(__file__).parent.parent / "templates"

templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
)

Viewer = Annotated[Principal, Depends(require(Role.VIEWER, page=True))]
"""Anyone signed in; nobody signed in is sent to /login."""
Operator = Annotated[Principal, Depends(require(Role.OPERATOR, page=True))]
"""Operators and admins, with the session's CSRF token on every change."""

NAV = (
    ("/", "Summary"),
    ("/checks", "Checks"),
    ("/alerts", "Alerts"),
    ("/incidents", "Incidents"),
    ("/checklists", "Checklists"),
    ("/backups", "Backups"),
    ("/reports", "Reports"),
    ("/silences", "Silences"),
    ("/status", "Status"),
)


def dashboard(request: Request) -> Dashboard:
    """Return the app's read service."""
    found: Dashboard = request.app.state.dashboard
    return found


def clock(request: Request) -> Clock:
    """Return a clock for this request: now, in the zone the config names."""
    return Clock(datetime.now(UTC), zone(dashboard(request).config.defaults.timezone))


def local_path(target: str | None, default: str = "/") -> str:
    """Return ``target`` if it is a path on this site, else ``default`` (no open redirects)."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith(("//", "/\\"))
        or any(c < " " for c in target)
    ):
        return default
    return target


def page(
    request: Request,
    template: str,
    who: Principal | None,
    context: Mapping[str, Any],
    *,
    title: str,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    live_updates: bool = True,
) -> Response:
    """Render a page in the common layout, or only its ``<main>`` for a live update."""
    path = request.url.path
    section = next((href for href, _ in reversed(NAV) if path.startswith(href)), "/")
    full: dict[str, Any] = {
        "title": title,
        "user": who.user if who else "",
        "role": who.role.value if who else "",
        "csrf": who.csrf_token if who else None,
        "can_operate": who is not None and who.role.allows(Role.OPERATOR),
        "live": request.headers.get("x-live") == "1",
        "live_updates": live_updates,
        "nav": NAV,
        "section": section,
        "version": __version__,
        **context,
    }
    return templates.TemplateResponse(
        request,
        template,
        full,
        status_code=status_code,
        headers={"Cache-Control": "no-store", "Vary": "X-Live, Cookie", **(headers or {})},
    )


def not_found(request: Request, who: Principal | None, message: str) -> Response:
    """Render the 404 page."""
    return page(
        request,
        "error.html",
        who,
        {"heading": "Not found", "message": message},
        title="Not found",
        status_code=404,
        live_updates=False,
    )
