"""Checklists at ``/checklists``: today's, this week's and this month's runs, each item one click.

A run's own page, ``/checklists/ID``, shows who decided what, the commands' output and the notes,
and completes it. Incident phases are runs too: their items are decided through the same forms.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from watchkeeper.auth.model import Principal
from watchkeeper.checklists import decisions, runs
from watchkeeper.checklists.model import ChecklistError, NoteField, Run, RunState
from watchkeeper.config.procedures import Procedure
from watchkeeper.incidents.model import IncidentError
from watchkeeper.procedures import completion, schedule, stats
from watchkeeper.web.pages.checklist_view import Verdict, run_view
from watchkeeper.web.pages.formats import Clock, due_words, utc
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

STATS_WINDOW = timedelta(days=30)
SECTIONS = (
    ("today", "Today", "No runs today."),
    ("week", "This week", "No other runs this week."),
    ("month", "This month", "No other runs this month."),
)
RUNS_SHOWN = 500
"""At most this many runs are read per listing: a month of a dozen daily procedures fits."""


@router.get("/checklists")
def checklists_page(request: Request, who: Viewer) -> Response:
    """Show this month's procedure runs by today, this week and this month, and each procedure."""
    return _checklists(request, who)


@router.post("/checklists/start/{name}")
def start_now(request: Request, name: str, who: Operator) -> Response:
    """Start a run of procedure ``name`` now, outside its schedule, and show it."""
    request.state.action = "start checklist"
    board = dashboard(request)
    procedure = board.config.procedure(name)
    if procedure is None:
        return not_found(request, who, f"There is no procedure called {name!r}.")
    now = clock(request)
    secrets = request.app.state.wk.runner.secrets
    try:
        with board.store.engine.begin() as connection:
            run_id = schedule.start_run(
                connection, procedure, who.user, now.now, secrets=secrets, tz=now.tz
            )
    except ChecklistError as exc:
        return _checklists(request, who, error=str(exc), status_code=409)
    return RedirectResponse(f"/checklists/{run_id}", status_code=303)


@router.get("/checklists/{run_id}")
def run_page(request: Request, run_id: int, who: Viewer) -> Response:
    """Show one run: its items with who decided them, command output, notes, and Complete."""
    return _run(request, who, run_id)


@router.post("/checklists/{run_id}/items/{position}/{verdict}")
def decide_item(
    request: Request,
    run_id: int,
    position: int,
    verdict: Verdict,
    who: Operator,
    back: Annotated[str, Form(alias="next")] = "",
) -> Response:
    """Tick, fail or skip one item of an open run (a person may correct the machine)."""
    request.state.action = f"{verdict.value} checklist item"
    try:
        with dashboard(request).store.engine.begin() as connection:
            decisions.decide(
                connection, run_id, position, verdict.state, who.user, clock(request).now
            )
    except ChecklistError as exc:
        return _run(request, who, run_id, error=str(exc), status_code=409)
    return RedirectResponse(local_path(back, f"/checklists/{run_id}"), status_code=303)


@router.post("/checklists/{run_id}/notes")
def add_notes(
    request: Request,
    run_id: int,
    who: Operator,
    issues_found: Annotated[str, Form()] = "",
    actions_taken: Annotated[str, Form()] = "",
    escalations_made: Annotated[str, Form()] = "",
) -> Response:
    """Append what was written in each of the three note fields (empty fields change nothing)."""
    request.state.action = "add checklist notes"
    given = {
        NoteField.ISSUES_FOUND: issues_found,
        NoteField.ACTIONS_TAKEN: actions_taken,
        NoteField.ESCALATIONS_MADE: escalations_made,
    }
    written = {field: text for field, text in given.items() if text.strip()}
    if not written:
        return _run(
            request,
            who,
            run_id,
            error="Write something in at least one note field.",
            status_code=400,
        )
    now = clock(request).now
    try:
        with dashboard(request).store.engine.begin() as connection:
            for field, text in written.items():
                decisions.set_note(connection, run_id, field, text, who.user, now)
    except ChecklistError as exc:
        return _run(request, who, run_id, error=str(exc), status_code=409)
    return RedirectResponse(f"/checklists/{run_id}#notes", status_code=303)


@router.post("/checklists/{run_id}/complete")
def complete(request: Request, run_id: int, who: Operator) -> Response:
    """Complete the run; refused, naming them, while any item is pending."""
    request.state.action = "complete checklist"
    board = dashboard(request)
    try:
        with board.store.engine.begin() as connection:
            completion.complete_run(
                connection,
                board.config,
                run_id,
                who.user,
                clock(request).now,
                board.config.server.base_url,
            )
    except (ChecklistError, IncidentError) as exc:
        # IncidentError: the run's escalation could not open its incident.
        return _run(request, who, run_id, error=str(exc), status_code=409)
    return RedirectResponse(f"/checklists/{run_id}", status_code=303)


def _checklists(
    request: Request, who: Principal, *, error: str = "", status_code: int = 200
) -> Response:
    board = dashboard(request)
    now = clock(request)
    bounds = period_bounds(now.now, now.tz)
    earliest = min(bounds["week"][0], bounds["month"][0])
    with board.store.engine.connect() as connection:
        recent = [
            run
            for run in runs.list_runs(connection, since=earliest, limit=RUNS_SHOWN)
            if run.incident_id is None
        ]
        earlier = [
            run
            for run in runs.list_runs(
                connection, until=earliest, state=RunState.OPEN, limit=RUNS_SHOWN
            )
            if run.incident_id is None
        ]
        figures = stats.procedure_stats(
            connection, board.config, now.now - STATS_WINDOW, now.now, now.now
        )
    by_name = {f.procedure: f for f in figures if f.procedure is not None}
    sections: dict[str, list[Run]] = {key: [] for key, _, _ in SECTIONS}
    for run in recent:
        for period in sections:
            start, end = bounds[period]
            if start <= run.scheduled_for < end:
                sections[period].append(run)
                break
    context = {
        "error": error,
        "sections": [
            (key, heading, [run_view(r, now.now) for r in sections[key]], empty)
            for key, heading, empty in SECTIONS
        ],
        "earlier": [run_view(r, now.now) for r in earlier],
        "procedures": [_procedure(p, by_name.get(p.name), now) for p in board.config.procedures],
        "overall": _figures(figures[-1]),
        "timezone": str(now.tz),
    }
    return page(
        request, "checklists.html", who, context, title="Checklists", status_code=status_code
    )


def _run(
    request: Request, who: Principal, run_id: int, *, error: str = "", status_code: int = 200
) -> Response:
    now = clock(request).now
    with dashboard(request).store.engine.connect() as connection:
        run = runs.get_run(connection, run_id)
    if run is None:
        return not_found(request, who, f"There is no checklist run {run_id}.")
    view = run_view(run, now)
    back = f"/incidents/{run.incident_id}" if run.incident_id is not None else "/checklists"
    context = {"run": view, "error": error, "back": back, "here": f"/checklists/{run_id}"}
    return page(request, "checklist.html", who, context, title=run.title, status_code=status_code)


def period_bounds(now: datetime, tz: ZoneInfo) -> dict[str, tuple[datetime, datetime]]:
    """Given now and the config's zone, return today's, this week's (Monday to Sunday) and this
    month's [start, end) in UTC, each starting at midnight in that zone."""
    today = now.astimezone(tz).date()
    week = today - timedelta(days=today.weekday())
    month = today.replace(day=1)
    following_month = (month + timedelta(days=32)).replace(day=1)

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)

    return {
        "today": (midnight(today), midnight(today + timedelta(days=1))),
        "week": (midnight(week), midnight(week + timedelta(days=7))),
        "month": (midnight(month), midnight(following_month)),
    }


def _procedure(
    procedure: Procedure, figures: stats.ProcedureStats | None, now: Clock
) -> dict[str, Any]:
    next_at = figures.next_due_at if figures else None
    planned = schedule.schedule_of(procedure, now.tz)
    if next_at is None and planned is not None:
        # Not yet in procedure_schedule: the scheduler has not seen this procedure yet.
        next_at = planned.next_after(now.now)
    return {
        "name": procedure.name,
        "title": procedure.heading,
        "owner": procedure.owner,
        "priority": procedure.priority,
        "schedule": procedure.schedule or "started by hand",
        "next": utc(next_at),
        "next_words": due_words(next_at, now.now),
        **_figures(figures),
    }


def _figures(figures: stats.ProcedureStats | None) -> dict[str, Any]:
    return {
        "runs": figures.runs if figures else 0,
        "overdue_open": figures.overdue_open if figures else 0,
        "completion": _rate(figures.completion_rate if figures else None),
        "on_time": _rate(figures.on_time_rate if figures else None),
    }


def _rate(ratio: float | None) -> dict[str, Any]:
    if ratio is None:
        return {"text": "\N{EN DASH}", "below": False}
    # The target is *over* 99%: exactly 99% is below it.
    return {"text": f"{int(ratio * 1000) / 10:g}%", "below": ratio <= stats.TARGET}
