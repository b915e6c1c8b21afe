"""The ``watchkeeper`` command: thin wrappers over the config, engine, store, alerting and server."""

from watchkeeper.cli import (
    alerts,
    backup_restore,
    backups,
    checklists,
    checks,
    incidents,
    maintenance,
    reports,
    runbooks,
    serving,
    users,
)
from watchkeeper.cli.common import app, main

__all__ = [
    "alerts",
    "app",
    "backup_restore",
    "backups",
    "checklists",
    "checks",
    "incidents",
    "main",
    "maintenance",
    "reports",
    "runbooks",
    "serving",
    "users",
]
