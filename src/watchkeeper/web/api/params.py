"""Query parameters shared by the API's endpoints, validated so bad input is a 422, never a 500."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Query, Request
from pydantic import BeforeValidator

from watchkeeper.auth.model import Principal, Role
from watchkeeper.service import Watchkeeper
from watchkeeper.views.dashboard import Dashboard
from watchkeeper.web.security import require

_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def moment(value: datetime | None, name: str) -> datetime | None:
    """Given a query datetime, return it in UTC (naive counts as UTC); refuse absurd years."""
    if value is None:
        return None
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if not _EARLIEST <= value <= _LATEST:
        raise HTTPException(422, f"{name} must be between 1970 and 2200")
    return value


def dashboard(request: Request) -> Dashboard:
    """Return the app's read service."""
    found: Dashboard = request.app.state.dashboard
    return found


def running_service(request: Request) -> Watchkeeper:
    """Return the running service: its config, store and post-mortem directory."""
    found: Watchkeeper = request.app.state.wk
    return found


Board = Annotated[Dashboard, Depends(dashboard)]
Service = Annotated[Watchkeeper, Depends(running_service)]
Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]
Operator = Annotated[Principal, Depends(require(Role.OPERATOR))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]
"""A row's id in a path; a larger number cannot be stored, so it is refused as invalid."""


def iso_only(value: object) -> object:
    """Refuse a number in any spelling (``8401``, ``2e-308``), which pydantic would read as Unix
    time: the schema says date-time."""
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return value
        raise ValueError("expected an ISO 8601 date and time, e.g. 2025-06-01T12:00:00Z")
    return value


Since = Annotated[
    datetime | None,
    BeforeValidator(iso_only),
    Query(description="ISO 8601; without a zone, UTC"),
]
Until = Since
