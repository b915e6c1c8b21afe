"""Checks: their state, results, chart series, the summary, and running one now."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request

from watchkeeper.views.dashboard import CheckView
from watchkeeper.views.series import RANGES
from watchkeeper.web.api.models import (
    CheckOut,
    CheckState,
    Me,
    ResultOut,
    SeriesOut,
    SummaryOut,
    problem,
)
from watchkeeper.web.api.params import Board, Operator, Since, Until, Viewer, moment

router = APIRouter(tags=["checks"])
RangeName = Literal["1h", "6h", "24h", "7d", "30d", "90d"]


@router.get("/me")
def me(who: Viewer) -> Me:
    """Who this request acts as: user, role, and whether by session or token."""
    return Me(user=who.user, role=who.role, via=who.via.value)


@router.get("/summary")
def summary(board: Board, who: Viewer) -> SummaryOut:
    """The executive summary: overall healthy / at_risk / critical, why, counts and uptime."""
    return SummaryOut.of(board.overview(datetime.now(UTC)))


@router.get("/checks")
def list_checks(
    board: Board,
    who: Viewer,
    service: str | None = None,
    tag: str | None = None,
    state: CheckState | None = None,
) -> list[CheckOut]:
    """Every configured check with its latest result and uptime, filtered by service, tag or state."""
    views = board.checks(datetime.now(UTC))
    return [CheckOut.of(v) for v in views if _wanted(v, service, tag, state)]


@router.get("/checks/{name}", responses={404: problem("no such check")})
def get_check(name: str, board: Board, who: Viewer) -> CheckOut:
    """One check with its latest result and uptime."""
    return CheckOut.of(_view(board, name))


@router.get("/checks/{name}/results", responses={404: problem("no such check")})
def results(
    name: str,
    board: Board,
    who: Viewer,
    since: Since = None,
    until: Until = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[ResultOut]:
    """Raw results of a check, newest first (raw results are kept for ``retention.raw``)."""
    _view(board, name)
    found = board.store.history(
        name, since=moment(since, "since"), until=moment(until, "until"), limit=limit
    )
    return [ResultOut.of(r) for r in found]


@router.get("/checks/{name}/series", responses={404: problem("no such check")})
def series(
    name: str,
    board: Board,
    who: Viewer,
    range: RangeName = "24h",
    until: Until = None,
) -> SeriesOut:
    """Latency and failures over a range ending ``until`` (default now), from rollups when long."""
    _view(board, name)
    end = moment(until, "until") or datetime.now(UTC)
    return SeriesOut.of(board.series(name, end - RANGES[range], end))


@router.post(
    "/checks/{name}/run",
    responses={404: problem("no such check"), 409: problem("check disabled")},
)
async def run_now(name: str, request: Request, who: Operator) -> ResultOut:
    """Run a check now, outside its schedule; the result is stored and alerted on as usual."""
    request.state.action = f"run check {name}"
    wk = request.app.state.wk
    if not any(c.name == name for c in wk.config.checks):
        raise HTTPException(404, f"no check called {name!r}")
    result = await wk.run_now(name)
    if result is None:
        raise HTTPException(409, f"{name} is disabled")
    return ResultOut.of(result)


def _view(board: Board, name: str) -> CheckView:
    view = board.check(name, datetime.now(UTC))
    if view is None:
        raise HTTPException(404, f"no check called {name!r}")
    return view


def _wanted(v: CheckView, service: str | None, tag: str | None, state: str | None) -> bool:
    return (
        (service is None or v.check.service == service)
        and (tag is None or tag in v.check.tags)
        and (state is None or v.state == state)
    )
