"""Incidents: open one, follow it through acknowledge → mitigate → resolve → close, notes,
its post-mortem and the response figures per severity."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import PlainTextResponse
from sqlalchemy import Connection

from watchkeeper.checklists.model import Run
from watchkeeper.checklists.runs import list_runs
from watchkeeper.incidents import lifecycle, postmortem, records, stats, timeline
from watchkeeper.incidents.model import Incident, IncidentError
from watchkeeper.service import Watchkeeper
from watchkeeper.web.api.checklist_models import RunDetail
from watchkeeper.web.api.incident_models import (
    IncidentDetail,
    IncidentIn,
    IncidentOut,
    IncidentStatsOut,
    NoteIn,
    PostmortemIn,
    PostmortemOut,
    TimelineEntryOut,
    TransitionIn,
)
from watchkeeper.web.api.models import BAD_JSON, AlertOut, Responses, problem
from watchkeeper.web.api.params import Operator, RowId, Service, Since, Until, Viewer, moment

router = APIRouter(prefix="/incidents", tags=["incidents"])

NO_INCIDENT: Responses = {404: problem("no such incident")}
REFUSED: Responses = {
    **BAD_JSON,
    **NO_INCIDENT,
    409: problem("the incident cannot make that change now"),
}
STATS_WINDOW = timedelta(days=30)


class MarkdownResponse(PlainTextResponse):
    """A Markdown document."""

    media_type = "text/markdown"


Change = Callable[[Connection, int, str, datetime, str], Incident]


@router.get("")
def list_incidents(
    who: Viewer,
    wk: Service,
    state: Literal["active", "all"] = "active",
    severity: Annotated[str | None, Query(max_length=64)] = None,
    since: Since = None,
    until: Until = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[IncidentOut]:
    """Incidents opened in [since, until), newest first: the unresolved ones, or all."""
    with wk.store.engine.connect() as connection:
        found = records.list_incidents(
            connection,
            active_only=state == "active",
            severity=severity,
            since=moment(since, "since"),
            until=moment(until, "until"),
            limit=limit,
        )
    return [IncidentOut.of(i) for i in found]


@router.post(
    "",
    status_code=201,
    responses={**BAD_JSON, 422: problem("unknown severity (the defined ones are listed)")},
)
def open_incident(body: IncidentIn, request: Request, who: Operator, wk: Service) -> IncidentDetail:
    """Open an incident by hand: its severity's SLA starts now, escalation and phase checklists with it."""
    request.state.action = "open incident"
    try:
        with wk.store.engine.begin() as connection:
            incident_id = lifecycle.open_incident(
                connection,
                wk.config.incidents,
                title=body.title,
                severity=body.severity,
                actor=who.user,
                now=datetime.now(UTC),
                summary=body.summary,
                base_url=wk.config.server.base_url,
            )
    except IncidentError as exc:
        raise HTTPException(422, str(exc)) from None
    return _detail(wk, incident_id)


@router.get("/stats")
def incident_stats(
    who: Viewer, wk: Service, since: Since = None, until: Until = None
) -> IncidentStatsOut:
    """Per severity, incidents opened in [since, until) (default the last 30 days): mean time to
    acknowledge and to resolve (seconds), SLA breaches, and how many are still open."""
    end = moment(until, "until") or datetime.now(UTC)
    start = moment(since, "since") or end - STATS_WINDOW
    with wk.store.engine.connect() as connection:
        found = stats.incident_stats(connection, start, end)
    return IncidentStatsOut.of(found, start, end)


@router.get("/{incident_id}", responses=NO_INCIDENT)
def get_incident(incident_id: RowId, who: Viewer, wk: Service) -> IncidentDetail:
    """An incident with its SLA, snapshotted policy, attached alerts, timeline and phase checklists."""
    return _detail(wk, incident_id)


@router.post("/{incident_id}/acknowledge", responses=REFUSED)
def acknowledge(
    incident_id: RowId,
    request: Request,
    who: Operator,
    wk: Service,
    body: TransitionIn | None = None,
) -> IncidentOut:
    """Say someone is responding: escalation stops, and the response SLA is met if in time."""
    return _move(request, wk, who.user, incident_id, "acknowledge", lifecycle.acknowledge, body)


@router.post("/{incident_id}/mitigate", responses=REFUSED)
def mitigate(
    incident_id: RowId,
    request: Request,
    who: Operator,
    wk: Service,
    body: TransitionIn | None = None,
) -> IncidentOut:
    """Say the impact is contained, though the cause may not be fixed."""
    return _move(request, wk, who.user, incident_id, "mitigate", lifecycle.mitigate, body)


@router.post("/{incident_id}/resolve", responses=REFUSED)
def resolve(
    incident_id: RowId,
    request: Request,
    who: Operator,
    wk: Service,
    body: TransitionIn | None = None,
) -> IncidentOut:
    """Say the incident is over."""
    return _move(request, wk, who.user, incident_id, "resolve", lifecycle.resolve, body)


@router.post("/{incident_id}/close", responses=REFUSED)
def close(
    incident_id: RowId,
    request: Request,
    who: Operator,
    wk: Service,
    body: TransitionIn | None = None,
) -> IncidentOut:
    """Close the incident for good; a severity that requires a post-mortem needs it written first."""
    return _move(request, wk, who.user, incident_id, "close", lifecycle.close, body)


@router.post("/{incident_id}/notes", status_code=201, responses={**BAD_JSON, **NO_INCIDENT})
def add_note(
    incident_id: RowId, body: NoteIn, request: Request, who: Operator, wk: Service
) -> TimelineEntryOut:
    """Add a note to the timeline; a public note is a status-page update."""
    request.state.action = f"note on incident {incident_id}"
    with wk.store.engine.begin() as connection:
        _require(connection, incident_id)
        entry_id = lifecycle.add_note(
            connection, incident_id, who.user, datetime.now(UTC), body.text, public=body.public
        )
        entry = next(e for e in timeline.entries(connection, incident_id) if e.id == entry_id)
    return TimelineEntryOut.of(entry)


@router.post(
    "/{incident_id}/postmortem",
    status_code=201,
    responses={
        **BAD_JSON,
        **NO_INCIDENT,
        409: problem(
            'already written (send {"force": true} to replace it), '
            "or the post-mortem directory cannot be written (the reason is given)"
        ),
    },
)
def write_postmortem(
    incident_id: RowId,
    request: Request,
    who: Operator,
    wk: Service,
    body: PostmortemIn | None = None,
) -> PostmortemOut:
    """Write the post-mortem, drafted from the timeline, to the config's post-mortem directory."""
    request.state.action = f"write postmortem of incident {incident_id}"
    try:
        with wk.store.engine.begin() as connection:
            _require(connection, incident_id)
            path = postmortem.write_postmortem(
                connection,
                incident_id,
                wk.loaded.postmortem_dir,
                who.user,
                datetime.now(UTC),
                force=body is not None and body.force,
            )
    except postmortem.PostmortemExists as exc:
        detail = f'{exc}: edit it, or send {{"force": true}} to write it again'
        raise HTTPException(409, detail) from None
    except IncidentError as exc:
        raise HTTPException(409, str(exc)) from None
    return PostmortemOut(path=str(path), markdown=path.read_text(encoding="utf-8"))


@router.get(
    "/{incident_id}/postmortem",
    # Response, not the Markdown class: that would document the JSON errors as Markdown too.
    response_class=Response,
    responses={
        **NO_INCIDENT,
        200: {
            "description": "the post-mortem as it would be written now",
            "content": {MarkdownResponse.media_type: {"schema": {"type": "string"}}},
        },
    },
)
def read_postmortem(incident_id: RowId, who: Viewer, wk: Service) -> MarkdownResponse:
    """The post-mortem in Markdown, drafted from the timeline now (whether or not it was written)."""
    with wk.store.engine.connect() as connection:
        markdown = postmortem.render(
            _require(connection, incident_id),
            timeline.entries(connection, incident_id),
            records.attached_alerts(connection, incident_id),
            _phases(connection, incident_id),
        )
    return MarkdownResponse(markdown)


def _move(
    request: Request,
    wk: Watchkeeper,
    actor: str,
    incident_id: int,
    verb: str,
    change: Change,
    body: TransitionIn | None,
) -> IncidentOut:
    request.state.action = f"{verb} incident {incident_id}"
    try:
        with wk.store.engine.begin() as connection:
            _require(connection, incident_id)
            note = body.note if body is not None else ""
            incident = change(connection, incident_id, actor, datetime.now(UTC), note)
    except IncidentError as exc:
        raise HTTPException(409, str(exc)) from None
    return IncidentOut.of(incident)


def _detail(wk: Watchkeeper, incident_id: int) -> IncidentDetail:
    with wk.store.engine.connect() as connection:
        incident = _require(connection, incident_id)
        alerts = records.attached_alerts(connection, incident_id)
        entries = timeline.entries(connection, incident_id)
        runs = _phases(connection, incident_id)
    now = datetime.now(UTC)
    return IncidentDetail(
        **IncidentOut.of(incident).model_dump(),
        alerts=[AlertOut.of(a) for a in alerts],
        timeline=[TimelineEntryOut.of(e) for e in entries],
        checklists=[RunDetail.of(r, now) for r in runs],
    )


def _phases(connection: Connection, incident_id: int) -> list[Run]:
    # Phases were created in the config's order, so their ids keep it.
    return sorted(list_runs(connection, incident_id=incident_id), key=lambda r: r.id)


def _require(connection: Connection, incident_id: int) -> Incident:
    incident = records.get(connection, incident_id)
    if incident is None:
        raise HTTPException(404, f"no incident {incident_id}")
    return incident
