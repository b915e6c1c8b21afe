"""The public status page: services and checks with their state and 90 days of uptime bars.

Nobody needs to sign in, so it shows names, states and uptime only: no messages, measurements
or addresses. Bars are read at most once a minute, whoever asks.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from watchkeeper.config.schema import StatusPage
from watchkeeper.incidents.public import public_incidents
from watchkeeper.store.rollups import Resolution
from watchkeeper.views.dashboard import STATUS_DAYS, CheckView, Dashboard
from watchkeeper.views.uptime import Tally
from watchkeeper.web.pages.charts import day_bars
from watchkeeper.web.pages.checks import NO_SERVICE
from watchkeeper.web.pages.formats import percent
from watchkeeper.web.pages.render import clock, dashboard, not_found, page
from watchkeeper.web.security import principal

router = APIRouter()

DAYS = STATUS_DAYS
RESOLVED_SHOWN = timedelta(days=7)
"""How long a resolved incident's public updates stay on the page."""
SERVICE_TEXT = {"healthy": "Operational", "at_risk": "Degraded", "critical": "Outage"}
CHECK_TEXT = {
    "ok": "Operational",
    "warning": "Degraded",
    "critical": "Outage",
    "error": "Outage",
    "pending": "No data yet",
    "disabled": "Paused",
}
BANNER = {
    "healthy": "All systems operational",
    "at_risk": "Some systems degraded",
    "critical": "Some systems are down",
}
_WORST = ("healthy", "at_risk", "critical")


@router.get("/status")
def status_page(request: Request) -> Response:
    """Show every public service with its state and uptime bars, under an overall banner."""
    board, settings = _enabled(request)
    who = principal(request)
    if settings is None:
        return not_found(request, who, "There is no public status page.")
    now = clock(request).now
    groups = _shown(board.checks(now), settings)
    states = {c.name: c.overall.value for c in board.overview(now, _flat(groups)).services}
    services = []
    for name, views in groups.items():
        bars = _summed(_bars_of(board, views, now))
        state = states.get(name, "healthy")
        services.append(
            {
                "name": name,
                "href": f"/status/{quote(name)}",
                "state": state,
                "state_text": SERVICE_TEXT[state],
                "uptime": _uptime(bars),
                "bars": _svg(bars, now),
            }
        )
    overall = max((s["state"] for s in services), key=_WORST.index, default="healthy")
    with board.store.engine.connect() as connection:
        incidents = public_incidents(connection, now - RESOLVED_SHOWN)
    context = {
        "heading": settings.title,
        "overall": overall,
        "banner": BANNER[overall],
        "services": services,
        "days": DAYS,
        "incidents": incidents,
    }
    return page(request, "status.html", who, context, title=settings.title)


@router.get("/status/{service}")
def service_status(request: Request, service: str) -> Response:
    """Show one public service's checks with their state and uptime bars."""
    board, settings = _enabled(request)
    who = principal(request)
    if settings is None:
        return not_found(request, who, "There is no public status page.")
    now = clock(request).now
    views = _shown(board.checks(now), settings).get(service)
    if views is None:
        return not_found(request, who, f"There is no public service called {service!r}.")
    checks = []
    for view, bars in zip(views, _bars_of(board, views, now), strict=True):
        checks.append(
            {
                "name": view.name,
                "state": view.state,
                "state_text": CHECK_TEXT[view.state],
                "uptime": _uptime(bars),
                "bars": _svg(bars, now),
            }
        )
    context = {"heading": settings.title, "service": service, "checks": checks, "days": DAYS}
    return page(request, "status_service.html", who, context, title=f"{service} · {settings.title}")


def _enabled(request: Request) -> tuple[Dashboard, StatusPage | None]:
    board = dashboard(request)
    settings = board.config.server.status_page
    return board, settings if settings.enabled else None


def _shown(views: list[CheckView], settings: StatusPage) -> dict[str, list[CheckView]]:
    """Return the shown services' checks, in the configured order (else by name)."""
    groups: dict[str, list[CheckView]] = {}
    for view in views:
        groups.setdefault(view.check.service or NO_SERVICE, []).append(view)
    if settings.services:
        return {name: groups[name] for name in settings.services if name in groups}
    return dict(sorted(groups.items()))


def _flat(groups: dict[str, list[CheckView]]) -> list[CheckView]:
    return [view for views in groups.values() for view in views]


def _bars_of(board: Dashboard, views: list[CheckView], now: datetime) -> list[list[Tally]]:
    bars = board.day_bars(now)
    return [bars.get(v.name) or [Tally() for _ in range(DAYS)] for v in views]


def _summed(per_check: list[list[Tally]]) -> list[Tally]:
    total = [Tally() for _ in range(DAYS)]
    for bars in per_check:
        for sum_, tally in zip(total, bars, strict=True):
            sum_.add(tally.count, tally.failures)
    return total


def _uptime(bars: list[Tally]) -> str:
    total = Tally()
    for tally in bars:
        total.add(tally.count, tally.failures)
    return percent(total.ratio)


def _svg(bars: list[Tally], now: datetime) -> Markup:
    return day_bars(bars, Resolution.DAY.floor(now).date())
