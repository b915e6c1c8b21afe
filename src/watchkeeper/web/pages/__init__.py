"""The server-rendered dashboard: sign-in, summary, checks, alerts, silences, incidents,
checklists, backups, reports and the status page."""

from __future__ import annotations

from fastapi import APIRouter

from watchkeeper.web.pages import (
    alerts,
    backups,
    check,
    checklists,
    checks,
    incidents,
    login,
    reports,
    status,
    summary,
)

router = APIRouter(include_in_schema=False)
for part in (
    login,
    summary,
    checks,
    check,
    alerts,
    incidents,
    checklists,
    backups,
    reports,
    status,
):
    router.include_router(part.router)
