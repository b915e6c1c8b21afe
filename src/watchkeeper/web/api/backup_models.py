"""The API's bodies for backups: the edge of their views, catalogue entries and restore tests."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from watchkeeper.backups.catalogue import BackupState, Entry
from watchkeeper.backups.sources import SourceKind
from watchkeeper.backups.verify import VerificationResult, VerifyOutcome
from watchkeeper.config.backups import KeepRules, SourceChoice
from watchkeeper.views.backups import HEALTH_RULE, BackupHealth, BackupHistory, BackupView


class KeepOut(BaseModel):
    """How many backups are kept per period (borg's ``keep-*`` meaning)."""

    hourly: int
    daily: int
    weekly: int
    monthly: int
    yearly: int

    @classmethod
    def of(cls, rules: KeepRules) -> KeepOut:
        """Given the config's keep rules, return their JSON form."""
        return cls(**rules.model_dump())


class CopyOut(BaseModel):
    """A good backup: its file, size in bytes and SHA-256, and when it was finished."""

    id: int
    finished_at: datetime
    size: int | None
    sha256: str | None
    path: str | None


class AttemptOut(BaseModel):
    """The last attempt at a backup; a failed one has its error, secrets redacted."""

    id: int
    state: BackupState
    started_at: datetime
    finished_at: datetime
    error: str | None


class VerificationOut(BaseModel):
    """A restore test of one catalogue entry: its outcome, the restore's seconds, what failed."""

    id: int
    catalogue_id: int
    at: datetime
    outcome: VerifyOutcome
    restore_seconds: float | None
    detail: str | None

    @classmethod
    def of(cls, v: VerificationResult) -> VerificationOut:
        """Given a VerificationResult, return its JSON form."""
        return cls(**{k: x for k, x in vars(v).items() if k in cls.model_fields})


class EntryOut(BaseModel):
    """One catalogue entry: a backup taken (file, size, SHA-256) or a failed attempt (its error);
    ``pruned_at`` is when retention deleted its file."""

    id: int
    kind: SourceKind
    state: BackupState
    started_at: datetime
    finished_at: datetime
    path: str | None
    size: int | None
    sha256: str | None
    error: str | None
    pruned_at: datetime | None

    @classmethod
    def of(cls, e: Entry) -> EntryOut:
        """Given a catalogue Entry, return its JSON form."""
        return cls(
            id=e.id,
            kind=e.kind,
            state=e.state,
            started_at=e.started_at,
            finished_at=e.finished_at,
            path=str(e.path) if e.path is not None else None,
            size=e.size,
            sha256=e.sha256,
            error=e.error,
            pruned_at=e.pruned_at,
        )


class BackupOut(BaseModel):
    """A configured backup and where it stands: its newest good copy, last attempt, the copies
    kept, its last restore test, and its health. Durations are in seconds."""

    name: str
    source: SourceChoice
    schedule: str | None
    next_run: datetime | None = Field(description="null without a schedule")
    max_age: float | None = Field(description="stale when the newest good copy is older")
    keep: KeepOut
    verify_schedule: str | None
    health: BackupHealth = Field(description=HEALTH_RULE)
    newest: CopyOut | None = Field(description="the newest good, unpruned copy")
    age_seconds: float | None = Field(description="the newest good copy's age")
    last_attempt: AttemptOut | None
    kept: int = Field(description="good copies not pruned")
    kept_bytes: int
    last_verification: VerificationOut | None

    @classmethod
    def of(cls, v: BackupView) -> BackupOut:
        """Given a BackupView, return its JSON form."""
        backup, status = v.backup, v.status
        newest, attempt = status.newest, status.last_attempt
        verified = status.last_verification
        return cls(
            name=backup.name,
            source=backup.source.kind,
            schedule=backup.schedule,
            next_run=v.next_run,
            max_age=backup.max_age,
            keep=KeepOut.of(backup.keep),
            verify_schedule=backup.verify.schedule if backup.verify else None,
            health=v.health,
            newest=(
                CopyOut(
                    id=newest.id,
                    finished_at=newest.finished_at,
                    size=newest.size,
                    sha256=newest.sha256,
                    path=str(newest.path) if newest.path is not None else None,
                )
                if newest is not None
                else None
            ),
            age_seconds=v.age,
            last_attempt=(
                AttemptOut(
                    id=attempt.id,
                    state=attempt.state,
                    started_at=attempt.started_at,
                    finished_at=attempt.finished_at,
                    error=attempt.error,
                )
                if attempt is not None
                else None
            ),
            kept=status.kept,
            kept_bytes=status.kept_bytes,
            last_verification=VerificationOut.of(verified) if verified is not None else None,
        )


class BackupDetail(BackupOut):
    """A backup with its catalogue entries and its restore tests, newest first."""

    entries: list[EntryOut]
    recent_verifications: list[VerificationOut]

    @classmethod
    def of_history(cls, h: BackupHistory) -> BackupDetail:
        """Given a BackupHistory, return its JSON form."""
        return cls(
            **BackupOut.of(h.view).model_dump(),
            entries=[EntryOut.of(e) for e in h.entries],
            recent_verifications=[VerificationOut.of(r) for r in h.verifications],
        )
