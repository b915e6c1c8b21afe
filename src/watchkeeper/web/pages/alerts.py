"""Alerts at ``/alerts``, silences at ``/silences``: what fires, what is muted, and muting more."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from watchkeeper.alerting import queries
from watchkeeper.alerting.model import AlertStatus
from watchkeeper.alerting.queries import AlertRow
from watchkeeper.alerting.silences import LONGEST_SILENCE, parse_silence_matchers
from watchkeeper.auth.model import Principal
from watchkeeper.config.units import UnitError, format_duration, parse_duration
from watchkeeper.web.pages.formats import Clock
from watchkeeper.web.pages.render import (
    Operator,
    Viewer,
    clock,
    dashboard,
    local_path,
    not_found,
    page,
)

router = APIRouter()

RECENT = timedelta(days=7)


@router.get("/alerts")
def alerts_page(request: Request, who: Viewer) -> Response:
    """Show the alerts firing now and those of the last seven days."""
    now = clock(request)
    rows = dashboard(request).recent_alerts(now.now - RECENT)
    firing = [_alert(a, now) for a in rows if a.state is AlertStatus.FIRING]
    recent = [_alert(a, now) for a in rows if a.state is not AlertStatus.FIRING]
    return page(request, "alerts.html", who, {"firing": firing, "recent": recent}, title="Alerts")


@router.get("/silences")
def silences_page(request: Request, who: Viewer) -> Response:
    """Show silences in force or to come, and a form to add one."""
    return _silences(request, who)


@router.post("/silences")
def add_silence(
    request: Request,
    who: Operator,
    duration: Annotated[str, Form()] = "1h",
    comment: Annotated[str, Form()] = "",
    check: Annotated[str, Form()] = "",
    service: Annotated[str, Form()] = "",
    tag: Annotated[str, Form()] = "",
    back: Annotated[str, Form(alias="next")] = "/silences",
) -> Response:
    """Silence alerts matching the given check, service and tag for ``duration``."""
    request.state.action = "add silence"
    given = {"check": check.strip(), "service": service.strip(), "tag": tag.strip()}
    try:
        matchers = parse_silence_matchers([f"{k}={v}" for k, v in given.items() if v])
        seconds = parse_duration(duration)
        if not 1 <= seconds <= LONGEST_SILENCE.total_seconds():
            raise UnitError("a silence lasts between 1s and 366d: give a duration such as 1h")
    except (ValueError, UnitError) as exc:
        return _silences(request, who, error=str(exc), status_code=400)
    now = clock(request).now
    with dashboard(request).store.engine.begin() as connection:
        queries.add_silence(
            connection,
            matchers,
            now,
            now + timedelta(seconds=seconds),
            who.user,
            comment.strip(),
        )
    return RedirectResponse(local_path(back, "/silences"), status_code=303)


@router.post("/silences/{silence_id}/remove")
def remove_silence(request: Request, silence_id: int, who: Operator) -> Response:
    """End a silence now."""
    request.state.action = "remove silence"
    with dashboard(request).store.engine.begin() as connection:
        removed = queries.remove_silence(connection, silence_id, clock(request).now)
    if not removed:
        return not_found(request, who, f"There is no active silence {silence_id}.")
    return RedirectResponse("/silences", status_code=303)


def _silences(
    request: Request, who: Principal, *, error: str = "", status_code: int = 200
) -> Response:
    now = clock(request)
    board = dashboard(request)
    checks = board.config.checks
    silences = [
        {
            "id": s.id,
            "matchers": [(k, " | ".join(v)) for k, v in s.matchers.items()],
            "starts": now.local(s.starts_at),
            "pending": s.starts_at > now.now,
            "until": now.local(s.ends_at),
            "left": format_duration(max(1.0, (s.ends_at - now.now).total_seconds())),
            "by": s.created_by,
            "comment": s.comment,
        }
        for s in board.silences(now.now)
    ]
    context = {
        "silences": silences,
        "error": error,
        "names": sorted(c.name for c in checks),
        "services": sorted({c.service for c in checks if c.service}),
        "tags": sorted({t for c in checks for t in c.tags}),
    }
    return page(request, "silences.html", who, context, title="Silences", status_code=status_code)


def _alert(alert: AlertRow, now: Clock) -> dict[str, str]:
    if alert.caused_by:
        note = f"caused by {alert.caused_by}"
    elif alert.flapping:
        note = "flapping"
    elif alert.state is AlertStatus.FIRING and alert.last_notified_at is None:
        note = "not announced"
    else:
        note = ""
    return {
        "check": alert.check,
        "service": alert.service or "",
        "severity": alert.severity.value,
        "state": alert.state.value,
        "since": now.local(alert.since),
        "since_ago": now.ago(alert.since),
        "resolved": now.local(alert.resolved_at),
        "resolved_ago": now.ago(alert.resolved_at),
        "message": alert.message,
        "note": note,
    }
