"""The config of backups: what is backed up, where to, when, how many are kept, how they are tested."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field, field_validator, model_validator

from watchkeeper.config.types import Duration, Model, ScheduleText, valid_name


class SourceChoice(StrEnum):
    """Which key a backup's ``source:`` gives."""

    POSTGRES = "postgres"
    SQLITE = "sqlite"
    FILES = "files"
    WATCHKEEPER_STORE = "watchkeeper_store"


class BackupSource(Model):
    """Exactly one of: a PostgreSQL URL (``pg_dump``), a SQLite file (online backup), directories
    (tar), or ``watchkeeper_store: true``, Watchkeeper's own store, whichever database it is in."""

    postgres: str | None = None
    sqlite: str | None = None
    files: tuple[str, ...] | None = None
    watchkeeper_store: bool | None = Field(
        default=None, description="true: back up Watchkeeper's own store (SQLite or PostgreSQL)"
    )

    @field_validator("files", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return (v,) if isinstance(v, str) else v

    @model_validator(mode="after")
    def _one_kind(self) -> BackupSource:
        given = [kind for kind in SourceChoice if getattr(self, kind.value) is not None]
        if len(given) != 1:
            raise ValueError(
                "a source is exactly one of postgres: URL, sqlite: PATH, files: [DIR, …] "
                "or watchkeeper_store: true"
            )
        if self.files is not None and not self.files:
            raise ValueError("files: needs at least one directory")
        if self.watchkeeper_store is False:
            raise ValueError(
                "watchkeeper_store: only true makes sense; name another source instead"
            )
        return self

    @property
    def kind(self) -> SourceChoice:
        """Return which kind of source this is."""
        return next(kind for kind in SourceChoice if getattr(self, kind.value) is not None)


class KeepRules(Model):
    """How many backups to keep per period, with borg's ``keep-*`` meaning (7 daily / 4 weekly /
    12 monthly by default)."""

    hourly: int = Field(default=0, ge=0)
    daily: int = Field(default=7, ge=0)
    weekly: int = Field(default=4, ge=0)
    monthly: int = Field(default=12, ge=0)
    yearly: int = Field(default=0, ge=0)


class Verification(Model):
    """When a backup is restored into a scratch target and tested, and the queries that test it."""

    schedule: ScheduleText | None = None
    smoke: tuple[str, ...] = Field(
        default=(), description="SQL each returning a true or non-empty value on the restored copy"
    )


class Backup(Model):
    """One thing to back up: its source, the directory backups go to, and their schedule and keeping."""

    name: str
    source: BackupSource
    to: str = Field(description="a local directory, created if missing")
    schedule: ScheduleText | None = None
    keep: KeepRules = KeepRules()
    max_age: Duration | None = Field(
        default=48 * 3600.0, description="alert when the newest good backup is older"
    )
    timeout: Duration = 3600.0
    verify: Verification | None = None

    @field_validator("name")
    @classmethod
    def _valid_name(cls, v: str) -> str:
        return valid_name(v, "backup")

    @model_validator(mode="after")
    def _smoke_needs_a_database(self) -> Backup:
        if self.verify and self.verify.smoke and self.source.kind is SourceChoice.FILES:
            raise ValueError("smoke queries need a database source (postgres: or sqlite:)")
        return self
