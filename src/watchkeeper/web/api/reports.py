"""Reports: those kept in the store (written on schedule or by hand), their text in Markdown or
HTML, and writing one now."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from watchkeeper.config.reports import ReportPeriod
from watchkeeper.reports.archive import (
    KeptReport,
    ReportFormat,
    ReportState,
    kept_report,
    kept_reports,
    report_text,
)
from watchkeeper.web.api.models import BAD_JSON, Responses, problem
from watchkeeper.web.api.params import Operator, RowId, Service, Viewer
from watchkeeper.web.security import REPORT_HEADERS

router = APIRouter(prefix="/reports", tags=["reports"])

NO_REPORT: Responses = {404: problem("no report with that id, or it has no text yet")}
MEDIA = {ReportFormat.MARKDOWN: "text/markdown; charset=utf-8", ReportFormat.HTML: "text/html"}


class ReportOut(BaseModel):
    """A kept report: what it covers, where it stands, and its summary (its text is at ``/md`` and
    ``/html``)."""

    id: int
    name: str
    period: ReportPeriod
    covers_until: datetime
    state: ReportState
    attempts: int
    created_at: datetime
    generated_at: datetime | None
    title: str
    summary: str
    error: str | None

    @classmethod
    def of(cls, report: KeptReport) -> ReportOut:
        """Given a kept report, return its JSON form."""
        return cls(
            id=report.id,
            name=report.name,
            period=report.period,
            covers_until=report.covers_until,
            state=report.state,
            attempts=report.attempts,
            created_at=report.created_at,
            generated_at=report.generated_at,
            title=report.title,
            summary=report.summary,
            error=report.error,
        )


class ReportRequest(BaseModel):
    """A report to write now, over the period ending now."""

    period: ReportPeriod
    name: str = Field(default="by-hand", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=100)


@router.get("")
def list_reports(
    who: Viewer,
    wk: Service,
    name: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[ReportOut]:
    """The newest ``limit`` kept reports (of ``name`` only, when given), newest first."""
    with wk.store.engine.connect() as connection:
        return [ReportOut.of(r) for r in kept_reports(connection, limit, name)]


@router.post("", status_code=201, responses=BAD_JSON)
async def write_report(body: ReportRequest, who: Operator, wk: Service) -> ReportOut:
    """Write a report over the period ending now, keep it, and return it (sent to no channel)."""
    report_id = await wk.keep_report_now(body.name, body.period)
    with wk.store.engine.connect() as connection:
        report = kept_report(connection, report_id)
    assert report is not None
    return ReportOut.of(report)


@router.get("/{report_id}", responses=NO_REPORT)
def get_report(report_id: RowId, who: Viewer, wk: Service) -> ReportOut:
    """One kept report, without its text."""
    with wk.store.engine.connect() as connection:
        report = kept_report(connection, report_id)
    if report is None:
        raise HTTPException(404, f"no report {report_id}")
    return ReportOut.of(report)


@router.get(
    "/{report_id}/{form}",
    responses=NO_REPORT
    | {200: {"content": {"text/markdown": {}, "text/html": {}}, "description": "its text"}},
    response_class=Response,
)
def get_report_text(report_id: RowId, form: ReportFormat, who: Viewer, wk: Service) -> Response:
    """A kept report's text: ``md`` (Markdown) or ``html`` (one self-contained page)."""
    with wk.store.engine.connect() as connection:
        text = report_text(connection, report_id, form)
    if text is None:
        raise HTTPException(404, f"report {report_id} has no text (yet)")
    return Response(text, media_type=MEDIA[form], headers=REPORT_HEADERS)
