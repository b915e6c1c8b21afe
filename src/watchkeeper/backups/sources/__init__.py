"""Backup sources: PostgreSQL (pg_dump), SQLite (online backup API) and directories (tar.gz)."""

from watchkeeper.backups.sources.base import BackupError, BackupSource, SourceKind
from watchkeeper.backups.sources.files import FilesSource, restore_directories
from watchkeeper.backups.sources.postgres import (
    PostgresSource,
    database_tables,
    restore_database,
    scratch_database,
)
from watchkeeper.backups.sources.sqlite import SqliteSource

__all__ = [
    "BackupError",
    "BackupSource",
    "FilesSource",
    "PostgresSource",
    "SourceKind",
    "SqliteSource",
    "database_tables",
    "restore_database",
    "restore_directories",
    "scratch_database",
]
