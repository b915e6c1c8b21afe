"""The API's bodies for runbooks and their runs' step logs: the edge of their dataclasses."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from watchkeeper.config.procedures import Runbook, StepKind
from watchkeeper.config.secrets import Secrets
from watchkeeper.procedures.model import RunbookOutcome, StepOutcome
from watchkeeper.procedures.runbooks import RunbookRun, StepRecord
from watchkeeper.web.api.checklist_models import StepOut


class RunbookRunOut(BaseModel):
    """A runbook run: who started it, when, how it ended (null while running or if it died)."""

    id: int
    runbook: str
    started_at: datetime
    started_by: str
    finished_at: datetime | None
    outcome: RunbookOutcome | None

    @classmethod
    def of(cls, r: RunbookRun) -> RunbookRunOut:
        """Given a RunbookRun, return its JSON form without steps."""
        return cls(**{k: v for k, v in vars(r).items() if k in cls.model_fields})


class StepRecordOut(BaseModel):
    """How one runbook step went; the output is redacted of secrets."""

    position: int
    kind: StepKind
    text: str
    outcome: StepOutcome
    started_at: datetime
    duration_ms: float
    argv: list[str] | None
    exit_code: int | None
    output: str | None

    @classmethod
    def of(cls, s: StepRecord) -> StepRecordOut:
        """Given a StepRecord, return its JSON form."""
        fields = {k: v for k, v in vars(s).items() if k in cls.model_fields and k != "argv"}
        return cls(**fields, argv=list(s.argv) if s.argv is not None else None)


class RunbookRunDetail(RunbookRunOut):
    """A runbook run with the log of each step."""

    steps: list[StepRecordOut]

    @classmethod
    def of(cls, r: RunbookRun) -> RunbookRunDetail:
        """Given a RunbookRun read with its steps, return its JSON form."""
        base = RunbookRunOut.of(r).model_dump()
        return cls(**base, steps=[StepRecordOut.of(s) for s in r.steps])


class RunbookOut(BaseModel):
    """A configured runbook and its newest run."""

    name: str
    title: str
    description: str
    keep_going: bool
    steps: list[StepOut]
    last_run: RunbookRunOut | None

    @classmethod
    def of(cls, r: Runbook, last: RunbookRun | None, secrets: Secrets) -> RunbookOut:
        """Given a Runbook, its newest run and the config's secrets, return its JSON form."""
        return cls(
            name=r.name,
            title=r.heading,
            description=r.description,
            keep_going=r.keep_going,
            steps=[StepOut.of(s, secrets) for s in r.steps],
            last_run=RunbookRunOut.of(last) if last is not None else None,
        )
