"""The server-rendered dashboard: sign-in, summary, checks, alerts, silences and the status page."""

from __future__ import annotations

from fastapi import APIRouter

from watchkeeper.web.pages import alerts, check, checks, login, status, summary

router = APIRouter(include_in_schema=False)
for part in (login, summary, checks, check, alerts, status):
    router.include_router(part.router)
