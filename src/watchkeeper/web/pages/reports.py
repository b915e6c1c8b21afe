"""Reports at ``/reports``: those kept in the store, newest first, with each one's summary, and a
way to write one now; ``/reports/ID`` is the report itself, the page it was written as."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from watchkeeper.config.reports import ReportPeriod
from watchkeeper.reports.archive import (
    KeptReport,
    ReportFormat,
    ReportState,
    kept_reports,
    report_text,
)
from watchkeeper.web.pages.formats import Clock, ago_words
from watchkeeper.web.pages.render import Operator, Viewer, clock, dashboard, not_found, page
from watchkeeper.web.security import REPORT_HEADERS

router = APIRouter()

ReportId = Annotated[int, Path(ge=1, le=2**63 - 1)]

LISTED = 200
COLOUR = {ReportState.READY: "ok", ReportState.PENDING: "pending", ReportState.FAILED: "critical"}


@router.get("/reports")
def reports_page(request: Request, who: Viewer) -> Response:
    """Show the kept reports, newest first, and the scheduled ones with when they are written."""
    board = dashboard(request)
    now = clock(request)
    with board.store.engine.connect() as connection:
        kept = kept_reports(connection, LISTED)
    context = {
        "rows": [_row(r, now) for r in kept],
        "scheduled": [
            {
                "name": r.name,
                "period": r.period.value,
                "when": r.when,
                "notify": ", ".join(r.notify),
            }
            for r in board.config.reports
            if r.enabled
        ],
        "periods": [p.value for p in ReportPeriod],
    }
    return page(request, "reports.html", who, context, title="Reports")


@router.post("/reports/new")
async def write_now(
    request: Request, who: Operator, period: Annotated[ReportPeriod, Form()]
) -> Response:
    """Write a report over the period ending now, keep it, and show it."""
    request.state.action = "write report"
    report_id = await request.app.state.wk.keep_report_now("by-hand", period)
    return RedirectResponse(f"/reports/{report_id}", status_code=303)


@router.get("/reports/{report_id}.md")
def report_markdown(request: Request, report_id: ReportId, who: Viewer) -> Response:
    """Return a kept report's Markdown."""
    return _text(request, report_id, who, ReportFormat.MARKDOWN)


@router.get("/reports/{report_id}")
def report_page(request: Request, report_id: ReportId, who: Viewer) -> Response:
    """Show a kept report as it was written: one page of its own."""
    return _text(request, report_id, who, ReportFormat.HTML)


def _text(request: Request, report_id: int, who: Any, form: ReportFormat) -> Response:
    with dashboard(request).store.engine.connect() as connection:
        text = report_text(connection, report_id, form)
    if text is None:
        return not_found(request, who, f"There is no written report {report_id}.")
    if form is ReportFormat.MARKDOWN:
        return Response(text, media_type="text/markdown; charset=utf-8", headers=REPORT_HEADERS)
    return Response(text, media_type="text/html", headers=REPORT_HEADERS)


def _row(report: KeptReport, now: Clock) -> dict[str, Any]:
    return {
        "id": report.id,
        "name": report.name,
        "period": report.period.value,
        "title": report.title or f"{report.period.value} report",
        "summary": report.summary,
        "state": report.state.value,
        "colour": COLOUR[report.state],
        "until": now.local(report.covers_until),
        "ago": ago_words(report.generated_at or report.created_at, now.now),
        "error": report.error,
        "ready": report.state is ReportState.READY,
    }
