"""Procedures and their checklist runs (tick items, add notes, complete), and runbooks' logs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Path, Query, Request
from sqlalchemy import Connection

from watchkeeper.checklists import decisions, runs
from watchkeeper.checklists.model import ChecklistError, ItemState, Run, RunState
from watchkeeper.procedures import completion, runbooks, schedule, stats
from watchkeeper.web.api.checklist_models import (
    DecisionIn,
    ItemOut,
    ProcedureOut,
    RunDetail,
    RunNoteIn,
    RunOut,
)
from watchkeeper.web.api.models import BAD_JSON, Responses, problem
from watchkeeper.web.api.params import Operator, RowId, Service, Since, Until, Viewer, moment
from watchkeeper.web.api.runbook_models import RunbookOut, RunbookRunDetail, RunbookRunOut

router = APIRouter(tags=["checklists"])
runbook_router = APIRouter(prefix="/runbooks", tags=["runbooks"])

STATS_WINDOW = timedelta(days=30)
NO_RUN: Responses = {404: problem("no such checklist run")}
Position = Annotated[int, Path(ge=1, le=2**31 - 1, description="the item's number, from 1")]
Limit = Annotated[int, Query(ge=1, le=1000)]
Name = Annotated[str | None, Query(max_length=200)]


@router.get("/procedures")
def list_procedures(who: Viewer, wk: Service) -> list[ProcedureOut]:
    """Every configured procedure: schedule, owner, steps, next due run and its last 30 days."""
    now = datetime.now(UTC)
    with wk.store.engine.connect() as connection:
        found = stats.procedure_stats(connection, wk.config, now - STATS_WINDOW, now, now)
    by_name = {s.procedure: s for s in found}
    return [ProcedureOut.of(p, by_name[p.name], wk.runner.secrets) for p in wk.config.procedures]


@router.post(
    "/procedures/{name}/runs",
    status_code=201,
    responses={404: problem("no such procedure"), 409: problem("a run was started this instant")},
)
def start_run(name: str, request: Request, who: Operator, wk: Service) -> RunDetail:
    """Start a run of the procedure by hand; the running service decides its check: and run:
    items within seconds, people decide the manual ones."""
    request.state.action = f"start procedure {name}"
    procedure = wk.config.procedure(name)
    if procedure is None:
        raise HTTPException(404, f"no procedure called {name!r}")
    now = datetime.now(UTC)
    try:
        with wk.store.engine.begin() as connection:
            run_id = schedule.start_run(
                connection,
                procedure,
                who.user,
                now,
                secrets=wk.runner.secrets,
                tz=ZoneInfo(wk.config.defaults.timezone),
            )
            run = _require(connection, run_id)
    except ChecklistError as exc:
        raise HTTPException(409, str(exc)) from None
    return RunDetail.of(run, now)


@router.get("/checklists")
def list_checklists(
    who: Viewer,
    wk: Service,
    procedure: Name = None,
    state: RunState | None = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = 200,
) -> list[RunOut]:
    """Checklist runs scheduled in [since, until), newest first; ``overdue`` is as of now."""
    with wk.store.engine.connect() as connection:
        found = runs.list_runs(
            connection,
            procedure=procedure,
            state=state,
            since=moment(since, "since"),
            until=moment(until, "until"),
            limit=limit,
        )
    now = datetime.now(UTC)
    return [RunOut.of(r, now) for r in found]


@router.get("/checklists/{run_id}", responses=NO_RUN)
def get_checklist(run_id: RowId, who: Viewer, wk: Service) -> RunDetail:
    """A checklist run with its items and notes."""
    with wk.store.engine.connect() as connection:
        run = _require(connection, run_id)
    return RunDetail.of(run, datetime.now(UTC))


@router.post(
    "/checklists/{run_id}/items/{position}",
    responses={
        **BAD_JSON,
        404: problem("no such run, or no such item in it"),
        409: problem("the run is completed, so read-only"),
    },
)
def decide(
    run_id: RowId,
    position: Position,
    body: DecisionIn,
    request: Request,
    who: Operator,
    wk: Service,
) -> ItemOut:
    """Mark an item of an open run passed, failed or skipped (a person may correct the machine)."""
    request.state.action = f"decide item {position} of checklist {run_id}"
    try:
        with wk.store.engine.begin() as connection:
            run = _require(connection, run_id)
            if not any(item.position == position for item in run.items):
                raise HTTPException(404, f"run {run_id} has no item {position}")
            item = decisions.decide(
                connection,
                run_id,
                position,
                ItemState(body.state),
                who.user,
                datetime.now(UTC),
                body.note,
            )
    except ChecklistError as exc:
        raise HTTPException(409, str(exc)) from None
    return ItemOut.of(item)


@router.post("/checklists/{run_id}/notes", responses={**BAD_JSON, **NO_RUN})
def add_note(
    run_id: RowId, body: RunNoteIn, request: Request, who: Operator, wk: Service
) -> RunDetail:
    """Add a line to the run's issues found, actions taken or escalations made."""
    request.state.action = f"note on checklist {run_id}"
    now = datetime.now(UTC)
    try:
        with wk.store.engine.begin() as connection:
            _require(connection, run_id)
            decisions.set_note(connection, run_id, body.field, body.text, who.user, now)
            run = _require(connection, run_id)
    except ChecklistError as exc:
        # The run exists, so what is left to refuse is the text.
        raise HTTPException(422, str(exc)) from None
    return RunDetail.of(run, now)


@router.post(
    "/checklists/{run_id}/complete",
    responses={**NO_RUN, 409: problem("items still pending (named), or already completed")},
)
def complete(run_id: RowId, request: Request, who: Operator, wk: Service) -> RunDetail:
    """Complete the run once every item is decided; a procedure's ``escalate_if`` is then judged."""
    request.state.action = f"complete checklist {run_id}"
    now = datetime.now(UTC)
    try:
        with wk.store.engine.begin() as connection:
            _require(connection, run_id)
            run = completion.complete_run(
                connection, wk.config, run_id, who.user, now, wk.config.server.base_url
            )
    except ChecklistError as exc:
        raise HTTPException(409, str(exc)) from None
    return RunDetail.of(run, now)


@runbook_router.get("")
def list_runbooks(who: Viewer, wk: Service) -> list[RunbookOut]:
    """Every configured runbook with its newest run. Runbooks are run from the command line only
    (`watchkeeper runbook run NAME`): they execute commands and ask a person at the terminal."""
    with wk.store.engine.connect() as connection:
        return [
            RunbookOut.of(
                r,
                next(iter(runbooks.runbook_runs(connection, r.name, limit=1)), None),
                wk.runner.secrets,
            )
            for r in wk.config.runbooks
        ]


@runbook_router.get("/runs")
def list_runbook_runs(
    who: Viewer, wk: Service, runbook: Name = None, limit: Limit = 50
) -> list[RunbookRunOut]:
    """Runbook runs, newest first, of one runbook or of all (without their steps)."""
    with wk.store.engine.connect() as connection:
        found = runbooks.runbook_runs(connection, runbook, limit=limit)
    return [RunbookRunOut.of(r) for r in found]


@runbook_router.get("/runs/{run_id}", responses={404: problem("no such runbook run")})
def get_runbook_run(run_id: RowId, who: Viewer, wk: Service) -> RunbookRunDetail:
    """A runbook run with each step's outcome, exit code and (redacted) output."""
    with wk.store.engine.connect() as connection:
        found = runbooks.runbook_run(connection, run_id)
    if found is None:
        raise HTTPException(404, f"no runbook run {run_id}")
    return RunbookRunDetail.of(found)


router.include_router(runbook_router)


def _require(connection: Connection, run_id: int) -> Run:
    run = runs.get_run(connection, run_id)
    if run is None:
        raise HTTPException(404, f"no checklist run {run_id}")
    return run
