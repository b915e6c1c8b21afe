"""Backups at ``/backups``: one row per configured backup with its health, newest copy, copies kept,
last restore test and next run; ``/backups/NAME`` adds its catalogue and restore tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from watchkeeper.backups.catalogue import BackupState, Entry
from watchkeeper.backups.verify import VerificationResult, VerifyOutcome
from watchkeeper.config.backups import KeepRules
from watchkeeper.config.units import format_duration
from watchkeeper.engine.evaluator import format_value
from watchkeeper.views.backups import (
    HEALTH_RULE,
    BackupHealth,
    BackupView,
    backup_history,
    backup_views,
)
from watchkeeper.web.pages.formats import ago_words, utc
from watchkeeper.web.pages.render import Viewer, clock, dashboard, not_found, page

router = APIRouter()

ENTRIES_SHOWN = 200
SHA_SHOWN = 12
DASH = "\N{EN DASH}"
COLOUR = {
    BackupHealth.OK: "ok",
    BackupHealth.STALE: "warning",
    BackupHealth.FAILED: "critical",
    BackupHealth.NONE: "pending",
}
"""Each health's badge: the colours of the check states ok, warning, critical and pending."""


@router.get("/backups")
def backups_page(request: Request, who: Viewer) -> Response:
    """Show every configured backup: health, newest copy, copies kept, last restore test, next run."""
    board = dashboard(request)
    now = clock(request)
    with board.store.engine.connect() as connection:
        views = backup_views(connection, board.config.backups, now.tz, now.now)
    context = {"rows": [_row(v, now.now) for v in views], "rule": HEALTH_RULE}
    return page(request, "backups.html", who, context, title="Backups")


@router.get("/backups/{name}")
def backup_page(request: Request, name: str, who: Viewer) -> Response:
    """Show one backup: where it stands, its catalogue entries and its restore tests."""
    board = dashboard(request)
    backup = board.config.backup(name)
    if backup is None:
        return not_found(request, who, f"There is no backup called {name!r}.")
    now = clock(request)
    with board.store.engine.connect() as connection:
        history = backup_history(connection, backup, now.tz, now.now, ENTRIES_SHOWN)
    context = {
        "b": _row(history.view, now.now),
        "keep": _keep(backup.keep),
        "verify_schedule": backup.verify.schedule if backup.verify else None,
        "smoke": list(backup.verify.smoke) if backup.verify else [],
        "entries": [_entry(e, now.now) for e in history.entries],
        "verifications": [_verification(v, now.now) for v in history.verifications],
        "rule": HEALTH_RULE,
    }
    return page(request, "backup.html", who, context, title=f"Backup {name}")


def _row(v: BackupView, now: datetime) -> dict[str, Any]:
    backup, status = v.backup, v.status
    newest, attempt = status.newest, status.last_attempt
    failed = attempt if attempt is not None and attempt.state is BackupState.FAILED else None
    return {
        "name": backup.name,
        "source": backup.source.kind.value,
        "health": v.health.value,
        "colour": COLOUR[v.health],
        "age": ago_words(newest.finished_at, now) if newest else "",
        "taken": utc(newest.finished_at) if newest else "",
        "size": _size(newest.size if newest else None),
        "kept": status.kept,
        "kept_size": _size(status.kept_bytes),
        "failed_at": ago_words(failed.finished_at, now) if failed else "",
        "error": failed.error if failed else "",
        "verified": _verification(status.last_verification, now)
        if status.last_verification
        else None,
        "schedule": backup.schedule or "",
        "next": utc(v.next_run),
        "next_words": ago_words(v.next_run, now),
        "max_age": format_duration(backup.max_age) if backup.max_age is not None else "",
    }


def _entry(e: Entry, now: datetime) -> dict[str, Any]:
    return {
        "id": e.id,
        "taken": utc(e.started_at),
        "ago": ago_words(e.started_at, now),
        "took": format_duration((e.finished_at - e.started_at).total_seconds()),
        "state": e.state.value,
        "colour": "ok" if e.state is BackupState.OK else "critical",
        "size": _size(e.size),
        "bytes": e.size,
        "sha256": e.sha256 or "",
        "sha_short": (e.sha256 or "")[:SHA_SHOWN],
        "path": str(e.path) if e.path is not None else "",
        "error": e.error or "",
        "pruned": utc(e.pruned_at),
        "pruned_ago": ago_words(e.pruned_at, now),
    }


def _verification(r: VerificationResult, now: datetime) -> dict[str, Any]:
    return {
        "entry": r.catalogue_id,
        "outcome": r.outcome.value,
        "colour": "ok" if r.outcome is VerifyOutcome.PASSED else "critical",
        "at": utc(r.at),
        "ago": ago_words(r.at, now),
        "restore": format_duration(r.restore_seconds) if r.restore_seconds is not None else DASH,
        "detail": r.detail or "",
    }


def _keep(rules: KeepRules) -> str:
    kept = [f"{count} {period}" for period, count in rules.model_dump().items() if count]
    return ", ".join(kept) or "the newest only"


def _size(size: int | None) -> str:
    return DASH if size is None else format_value("size", size)
