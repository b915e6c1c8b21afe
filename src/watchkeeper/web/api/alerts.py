"""Alerts, and silences to create and remove."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from fastapi import APIRouter, HTTPException, Request, Response

from watchkeeper.alerting import queries
from watchkeeper.alerting.silences import LONGEST_SILENCE
from watchkeeper.config.units import UnitError, parse_duration
from watchkeeper.web.api.models import BAD_JSON, AlertOut, SilenceIn, SilenceOut, problem
from watchkeeper.web.api.params import Board, Operator, RowId, Since, Viewer, moment

router = APIRouter(tags=["alerts"])


@router.get("/alerts")
def list_alerts(
    board: Board,
    who: Viewer,
    state: Literal["firing", "recent"] = "recent",
    since: Since = None,
) -> list[AlertOut]:
    """Firing alerts, or (recent) those firing or fired or resolved since ``since`` (default 7 days)."""
    if state == "firing":
        return [AlertOut.of(a) for a in board.firing()]
    start = moment(since, "since") or datetime.now(UTC) - timedelta(days=7)
    return [AlertOut.of(a) for a in board.recent_alerts(start)]


@router.get("/silences")
def list_silences(board: Board, who: Viewer) -> list[SilenceOut]:
    """Silences in force or still to come, soonest-ending first."""
    return [SilenceOut.of(s) for s in board.silences(datetime.now(UTC))]


@router.post(
    "/silences",
    status_code=201,
    responses={**BAD_JSON, 422: problem("bad duration or matchers")},
)
def add_silence(body: SilenceIn, request: Request, board: Board, who: Operator) -> SilenceOut:
    """Mute matching alerts for ``duration``; every notification they would send is recorded as silenced."""
    request.state.action = "add silence"
    try:
        seconds = parse_duration(body.duration)
    except UnitError as exc:
        raise HTTPException(422, str(exc)) from None
    # Bounded before it becomes a timedelta, which overflows on an absurd number of days.
    if not 1 <= seconds <= LONGEST_SILENCE.total_seconds():
        raise HTTPException(422, "a silence lasts between 1s and 366d")
    length = timedelta(seconds=seconds)
    matchers: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in body.matchers.items() if v}
    if not matchers or any(not value.strip() for values in matchers.values() for value in values):
        raise HTTPException(422, "a silence needs at least one non-empty matcher")
    now = datetime.now(UTC)
    with board.store.engine.begin() as connection:
        silence_id = queries.add_silence(
            connection, matchers, now, now + length, who.user, body.comment
        )
    found = next(s for s in board.silences(now) if s.id == silence_id)
    return SilenceOut.of(found)


@router.delete(
    "/silences/{silence_id}", status_code=204, responses={404: problem("no such silence")}
)
def remove_silence(silence_id: RowId, request: Request, board: Board, who: Operator) -> Response:
    """End a silence now."""
    request.state.action = f"remove silence {silence_id}"
    with board.store.engine.begin() as connection:
        removed = queries.remove_silence(connection, silence_id, datetime.now(UTC))
    if not removed:
        raise HTTPException(404, f"no active silence {silence_id}")
    return Response(status_code=204)
