"""Incidents at ``/incidents``: the active ones first, 30-day figures, and opening one by hand.

An incident's page, ``/incidents/ID``, moves it through its states, shows its SLA, alerts, phase
checklists and timeline, takes notes and writes its post-mortem. A refused change (closing
without the post-mortem a severity requires) is shown on the page, in the core's words.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from watchkeeper.auth.model import Principal
from watchkeeper.checklists import runs
from watchkeeper.config.units import format_duration
from watchkeeper.incidents import lifecycle, postmortem, records, stats, timeline
from watchkeeper.incidents.model import IncidentError, IncidentState, TimelineKind, Transition
from watchkeeper.web.pages.checklist_view import run_view
from watchkeeper.web.pages.formats import ago_words, span_words, utc
from watchkeeper.web.pages.incident_view import (
    breached,
    incident_row,
    severity_ranks,
    sla_view,
    state_steps,
)
from watchkeeper.web.pages.render import (
    Operator,
    Viewer,
    clock,
    dashboard,
    not_found,
    page,
)

router = APIRouter()

STATS_WINDOW = timedelta(days=30)
RECENT_SHOWN = 30


LABELS = {
    Transition.ACK: "Acknowledge",
    Transition.MITIGATE: "Mitigate",
    Transition.RESOLVE: "Resolve",
    Transition.CLOSE: "Close",
}
"""Each button's label; its form's address ends with the transition's name."""

SENSIBLE: dict[IncidentState, tuple[Transition, ...]] = {
    IncidentState.OPEN: (Transition.ACK, Transition.MITIGATE, Transition.RESOLVE),
    IncidentState.ACKNOWLEDGED: (Transition.MITIGATE, Transition.RESOLVE),
    IncidentState.MITIGATED: (Transition.RESOLVE,),
    IncidentState.RESOLVED: (Transition.CLOSE,),
    IncidentState.CLOSED: (),
}
"""The buttons shown in each state: forward only, and closing only once resolved."""


@router.get("/incidents")
def incidents_page(request: Request, who: Viewer) -> Response:
    """Show active incidents, those of the last 30 days, and MTTA / MTTR / breaches per severity."""
    return _incidents(request, who)


@router.post("/incidents")
def open_incident(
    request: Request,
    who: Operator,
    title: Annotated[str, Form()] = "",
    severity: Annotated[str, Form()] = "",
    summary: Annotated[str, Form()] = "",
) -> Response:
    """Open an incident by hand and show it."""
    request.state.action = "open incident"
    board = dashboard(request)
    config = board.config
    try:
        with board.store.engine.begin() as connection:
            incident_id = lifecycle.open_incident(
                connection,
                config.incidents,
                title=title,
                severity=severity,
                actor=who.user,
                now=clock(request).now,
                summary=summary.strip(),
                base_url=config.server.base_url,
            )
    except IncidentError as exc:
        form = {"title": title, "severity": severity, "summary": summary}
        return _incidents(request, who, error=str(exc), form=form, status_code=400)
    return RedirectResponse(f"/incidents/{incident_id}", status_code=303)


@router.get("/incidents/{incident_id}")
def incident_page(request: Request, incident_id: int, who: Viewer) -> Response:
    """Show one incident: its steps, SLA, alerts, phase checklists, timeline and post-mortem."""
    return _incident(request, who, incident_id)


@router.post("/incidents/{incident_id}/notes")
def add_note(
    request: Request,
    incident_id: int,
    who: Operator,
    text: Annotated[str, Form()] = "",
    public: Annotated[bool, Form()] = False,
) -> Response:
    """Add a note to the timeline; a public one is a status-page update."""
    request.state.action = "add incident note"
    try:
        with dashboard(request).store.engine.begin() as connection:
            lifecycle.add_note(
                connection, incident_id, who.user, clock(request).now, text, public=public
            )
    except IncidentError as exc:
        return _incident(request, who, incident_id, error=str(exc), status_code=400)
    return RedirectResponse(f"/incidents/{incident_id}#timeline", status_code=303)


@router.post("/incidents/{incident_id}/postmortem")
def write_postmortem(request: Request, incident_id: int, who: Operator) -> Response:
    """Draft the post-mortem into the service's post-mortem directory, once."""
    request.state.action = "write post-mortem"
    directory = request.app.state.wk.loaded.postmortem_dir
    try:
        with dashboard(request).store.engine.begin() as connection:
            postmortem.write_postmortem(
                connection, incident_id, directory, who.user, clock(request).now
            )
    except postmortem.PostmortemExists as exc:
        error = (
            f"{exc}: edit that file, or write it again with "
            f"`watchkeeper incident postmortem {incident_id} --force`"
        )
        return _incident(request, who, incident_id, error=error, status_code=409)
    except IncidentError as exc:
        return _incident(request, who, incident_id, error=str(exc), status_code=409)
    return RedirectResponse(f"/incidents/{incident_id}#postmortem-section", status_code=303)


@router.post("/incidents/{incident_id}/{action}")
def move(request: Request, incident_id: int, action: Transition, who: Operator) -> Response:
    """Acknowledge, mitigate, resolve or close the incident."""
    request.state.action = f"{LABELS[action].lower()} incident"
    try:
        with dashboard(request).store.engine.begin() as connection:
            lifecycle.apply(connection, incident_id, action, who.user, clock(request).now)
    except IncidentError as exc:
        return _incident(request, who, incident_id, error=str(exc), status_code=409)
    return RedirectResponse(f"/incidents/{incident_id}", status_code=303)


def open_work(request: Request) -> dict[str, Any]:
    """Return what needs people now, for the summary: active incidents, breaches, overdue runs."""
    board = dashboard(request)
    now = clock(request).now
    ranks = severity_ranks(board.config.incidents.severities)
    with board.store.engine.connect() as connection:
        active = records.list_incidents(connection, active_only=True)
        overdue = runs.overdue_count(connection, now)
    worst = min(active, key=lambda i: ranks(i.severity), default=None)
    return {
        "incidents": len(active),
        "worst": worst.severity if worst else "",
        "worst_colour": ranks(worst.severity) if worst else 0,
        "breached": sum(breached(i, now) for i in active),
        "overdue_runs": overdue,
    }


def _incidents(
    request: Request,
    who: Principal,
    *,
    error: str = "",
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    board = dashboard(request)
    now = clock(request).now
    severities = board.config.incidents.severities
    ranks = severity_ranks(severities)
    with board.store.engine.connect() as connection:
        active = records.list_incidents(connection, active_only=True, limit=500)
        recent = [
            i
            for i in records.list_incidents(
                connection, since=now - STATS_WINDOW, limit=RECENT_SHOWN + len(active)
            )
            if not i.state.active
        ][:RECENT_SHOWN]
        figures = stats.incident_stats(connection, now - STATS_WINDOW, now)
    active.sort(key=lambda i: (ranks(i.severity), -i.opened_at.timestamp()))
    context = {
        "active": [incident_row(i, now, ranks) for i in active],
        "recent": [incident_row(i, now, ranks) for i in recent],
        "stats": [
            {
                "severity": f.severity or "All",
                "colour": ranks(f.severity) if f.severity else None,
                "opened": f.opened,
                "still_open": f.still_open,
                "mtta": _duration(f.mtta),
                "mttr": _duration(f.mttr),
                "breaches": f.response_breaches,
                "update_breaches": f.status_update_breaches,
            }
            for f in figures
        ],
        "severities": [
            (name, format_duration(policy.respond_within), policy.description)
            for name, policy in severities.items()
        ],
        "form": form or {"title": "", "severity": "", "summary": ""},
        "error": error,
    }
    return page(request, "incidents.html", who, context, title="Incidents", status_code=status_code)


def _incident(
    request: Request, who: Principal, incident_id: int, *, error: str = "", status_code: int = 200
) -> Response:
    board = dashboard(request)
    now = clock(request).now
    with board.store.engine.connect() as connection:
        incident = records.get(connection, incident_id)
        if incident is None:
            return not_found(request, who, f"There is no incident {incident_id}.")
        alerts = records.attached_alerts(connection, incident_id)
        phases = sorted(runs.list_runs(connection, incident_id=incident_id), key=lambda r: r.id)
        entries = timeline.entries(connection, incident_id)
    ranks = severity_ranks(board.config.incidents.severities)
    context = {
        "incident": incident,
        "here": f"/incidents/{incident_id}",
        "colour": ranks(incident.severity),
        "state": incident.state.value,
        "steps": state_steps(incident, now),
        "actions": [(a.value, LABELS[a]) for a in SENSIBLE[incident.state]],
        "sla": sla_view(incident, now),
        "alerts": [
            {
                "check": a.check,
                "severity": a.severity.value,
                "state": a.state.value,
                "since": utc(a.since),
                "since_ago": ago_words(a.since, now),
                "message": a.message,
            }
            for a in alerts
        ],
        "phases": [run_view(run, now) for run in phases],
        "timeline": [
            {
                "at": f"{entry.at:%Y-%m-%d %H:%M:%S}",
                "ago": ago_words(entry.at, now),
                "kind": entry.kind.value,
                "actor": entry.actor or "",
                "text": entry.text,
                "public": entry.kind is TimelineKind.NOTE and bool(entry.data.get("public")),
            }
            for entry in reversed(entries)
        ],
        "error": error,
        "postmortem_dir": str(request.app.state.wk.loaded.postmortem_dir),
    }
    title = f"#{incident.id} {incident.title}"
    return page(request, "incident.html", who, context, title=title, status_code=status_code)


def _duration(seconds: float | None) -> str:
    return "\N{EN DASH}" if seconds is None else span_words(seconds)
