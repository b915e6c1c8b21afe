"""The REST API under /api: checks, alerts and silences, incidents, checklists and runbooks,
backups, reports, users, tokens and the access log."""

from fastapi import APIRouter

from watchkeeper.web.api import (
    admin,
    alerts,
    backups,
    checklists,
    checks,
    incidents,
    push,
    reports,
)
from watchkeeper.web.api import errors as error_events
from watchkeeper.web.api.models import ERRORS

router = APIRouter(prefix="/api", responses=ERRORS)
router.include_router(checks.router)
router.include_router(alerts.router)
router.include_router(incidents.router)
router.include_router(checklists.router)
router.include_router(backups.router)
router.include_router(reports.router)
router.include_router(admin.router)
router.include_router(push.router)
router.include_router(error_events.router)

__all__ = ["router"]
