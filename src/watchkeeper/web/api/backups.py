"""Backups, read-only: each configured backup with its health, newest copy and last restore test,
and one backup's catalogue and restore tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query

from watchkeeper.views.backups import backup_history, backup_views
from watchkeeper.web.api.backup_models import BackupDetail, BackupOut
from watchkeeper.web.api.models import Responses, problem
from watchkeeper.web.api.params import Service, Viewer

router = APIRouter(prefix="/backups", tags=["backups"])

NO_BACKUP: Responses = {404: problem("no backup of that name in the config")}


@router.get("")
def list_backups(who: Viewer, wk: Service) -> list[BackupOut]:
    """Every configured backup, in config order, with its health and where it stands."""
    config = wk.config
    with wk.store.engine.connect() as connection:
        views = backup_views(
            connection, config.backups, ZoneInfo(config.defaults.timezone), datetime.now(UTC)
        )
    return [BackupOut.of(v) for v in views]


@router.get("/{name}", responses=NO_BACKUP)
def get_backup(
    name: str,
    who: Viewer,
    wk: Service,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> BackupDetail:
    """A backup with its newest ``limit`` catalogue entries and restore tests, newest first."""
    config = wk.config
    backup = config.backup(name)
    if backup is None:
        raise HTTPException(404, f"no backup {name!r} in the config")
    with wk.store.engine.connect() as connection:
        history = backup_history(
            connection, backup, ZoneInfo(config.defaults.timezone), datetime.now(UTC), limit
        )
    return BackupDetail.of_history(history)
