"""One check at ``/checks/NAME``: its latency chart and history, alerts, and Run now / Silence."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from watchkeeper.config.units import format_duration
from watchkeeper.results import Result
from watchkeeper.views.series import RANGES
from watchkeeper.views.uptime import WINDOWS
from watchkeeper.web.pages import charts
from watchkeeper.web.pages.formats import Clock, measurements, percent
from watchkeeper.web.pages.render import Operator, Viewer, clock, dashboard, not_found, page

router = APIRouter()

DEFAULT_RANGE = "24h"
HISTORY_SHOWN = 50


@router.get("/checks/{name}")
def check_page(
    request: Request,
    name: str,
    who: Viewer,
    span: Annotated[str, Query(alias="range")] = DEFAULT_RANGE,
) -> Response:
    """Show one check: state, details, chart over ``range``, recent results and alerts."""
    board = dashboard(request)
    now = clock(request)
    view = board.check(name, now.now)
    if view is None:
        return not_found(request, who, f"There is no check called {name!r}.")
    chosen = span if span in RANGES else DEFAULT_RANGE
    series = board.series(name, now.now - RANGES[chosen], now.now)
    check = view.check
    latest = view.latest
    silence = view.silenced_by
    context = {
        "view": view,
        "check": check,
        "state": view.state,
        "kind": check.kind,
        "latest": _result(latest, now) if latest else None,
        "measurements": measurements(latest.measurements) if latest else [],
        "uptime": [(w, percent(view.uptime.ratio(w))) for w in WINDOWS],
        "ranges": list(RANGES),
        "range": chosen,
        "chart": charts.latency_chart(series, now.tz),
        "strip": charts.status_strip(series, now.tz),
        "resolution": series.resolution,
        "history": [_result(r, now) for r in board.store.history(name, limit=HISTORY_SHOWN)],
        "alerts": [
            {
                "severity": a.severity.value,
                "state": a.state.value,
                "fired": now.local(a.fired_at),
                "fired_ago": now.ago(a.fired_at),
                "resolved": now.local(a.resolved_at),
                "message": a.message,
            }
            for a in board.alert_history(name)
        ],
        "silence": (
            {
                "by": silence.created_by,
                "until": now.local(silence.ends_at),
                "left": now.ago(silence.ends_at),
                "comment": silence.comment,
            }
            if silence
            else None
        ),
        "here": f"/checks/{quote(name)}",
    }
    return page(request, "check.html", who, context, title=name)


@router.post("/checks/{name}/run")
async def run_now(request: Request, name: str, who: Operator) -> Response:
    """Run the check now, outside its schedule, then show its page again."""
    request.state.action = "run check"
    result = await request.app.state.wk.run_now(name)
    if result is None:
        return not_found(request, who, f"No check called {name!r} is scheduled.")
    return RedirectResponse(f"/checks/{quote(name)}", status_code=303)


def _result(result: Result, now: Clock) -> dict[str, str]:
    return {
        "status": result.status.value,
        "when": now.local(result.started_at),
        "ago": now.ago(result.started_at),
        "duration": (
            f"{result.duration_ms:.2f}ms"
            if result.duration_ms < 1
            else format_duration(result.duration_ms / 1000)
        ),
        "message": result.message,
        "maintenance": "maintenance" if result.maintenance else "",
    }
