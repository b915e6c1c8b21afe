"""The REST API under /api: checks, alerts and silences, users, tokens and the access log."""

from fastapi import APIRouter

from watchkeeper.web.api import admin, alerts, checks
from watchkeeper.web.api.models import ERRORS

router = APIRouter(prefix="/api", responses=ERRORS)
router.include_router(checks.router)
router.include_router(alerts.router)
router.include_router(admin.router)

__all__ = ["router"]
