"""The API's bodies for procedures and their checklist runs: the edge of their dataclasses."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from watchkeeper.checklists.model import Item, ItemState, NoteField, Run, RunState
from watchkeeper.config.procedures import Procedure, Step, StepKind
from watchkeeper.config.secrets import Secrets
from watchkeeper.procedures.stats import ProcedureStats
from watchkeeper.web.api.models import Body

Text = Annotated[str, Field(pattern=r"\S", max_length=10_000)]
"""Free text that says something: at least one character that is not a space."""


class Decision(StrEnum):
    """What a person decides for a checklist item."""

    PASSED = ItemState.PASSED.value
    FAILED = ItemState.FAILED.value
    SKIPPED = ItemState.SKIPPED.value


class DecisionIn(Body):
    """A person's decision on a checklist item, with an optional note."""

    state: Decision
    note: str = Field(default="", max_length=10_000)


class RunNoteIn(Body):
    """A line added to one of a run's notes (what was there stays)."""

    field: NoteField
    text: Text


class ItemOut(BaseModel):
    """A checklist item: decided by a check, a command's exit code, or a person."""

    position: int
    kind: StepKind
    text: str
    state: ItemState
    check_name: str | None
    argv: list[str] | None
    timeout: float | None
    decided_by: str | None
    decided_at: datetime | None
    note: str
    output: str | None
    exit_code: int | None

    @classmethod
    def of(cls, i: Item) -> ItemOut:
        """Given an Item, return its JSON form."""
        fields = {k: v for k, v in vars(i).items() if k in cls.model_fields and k != "argv"}
        return cls(**fields, argv=list(i.argv) if i.argv is not None else None)


class RunOut(BaseModel):
    """A checklist run in summary: a procedure's occurrence or an incident's phase."""

    id: int
    title: str
    state: RunState
    procedure: str | None
    incident_id: int | None
    phase: str | None
    owner: str
    scheduled_for: datetime
    due_at: datetime | None
    overdue: bool = Field(description="open past its due time, as of this answer")
    created_at: datetime
    created_by: str
    completed_at: datetime | None
    completed_by: str | None
    escalated_at: datetime | None
    counts: dict[ItemState, int]

    @classmethod
    def of(cls, r: Run, now: datetime) -> RunOut:
        """Given a Run, return its JSON form as of ``now``."""
        return cls(**_run_fields(cls, r, now))


class RunDetail(RunOut):
    """A checklist run with its items and notes."""

    items: list[ItemOut]
    issues_found: str
    actions_taken: str
    escalations_made: str

    @classmethod
    def of(cls, r: Run, now: datetime) -> RunDetail:
        """Given a Run, return its JSON form as of ``now``, items included."""
        return cls(**_run_fields(cls, r, now), items=[ItemOut.of(i) for i in r.items])


def _run_fields(model: type[RunOut], r: Run, now: datetime) -> dict[str, Any]:
    fields = {k: v for k, v in vars(r).items() if k in model.model_fields and k != "items"}
    return {**fields, "overdue": r.overdue(now), "counts": r.counts()}


class StepOut(BaseModel):
    """A configured step: ``check`` a check passes, ``run`` a command exits 0, or ``manual``."""

    kind: StepKind
    text: str
    check: str | None
    run: list[str] | None
    timeout: float | None
    confirm: bool

    @classmethod
    def of(cls, s: Step, secrets: Secrets) -> StepOut:
        """Given a Step and the config's secrets, return its JSON form, secrets redacted."""
        return cls(
            kind=s.kind,
            text=secrets.redact(s.label),
            check=s.check,
            run=[secrets.redact(arg) for arg in s.run] if s.run is not None else None,
            timeout=s.timeout if s.kind is StepKind.RUN else None,
            confirm=s.confirm,
        )


class ProcedureStatsOut(BaseModel):
    """How a procedure's runs scheduled in the period went; rates are fractions, null for no data."""

    runs: int
    completed: int
    completion_rate: float | None = Field(description="completed ÷ (completed + open past due)")
    on_time_rate: float | None = Field(description="completed by their due time ÷ completed")
    overdue_open: int = Field(description="runs still open past their due time")
    last_completed_at: datetime | None

    @classmethod
    def of(cls, s: ProcedureStats) -> ProcedureStatsOut:
        """Given a ProcedureStats, return its JSON form."""
        return cls(
            runs=s.runs,
            completed=s.completed,
            completion_rate=s.completion_rate,
            on_time_rate=s.on_time_rate,
            overdue_open=s.overdue_open,
            last_completed_at=s.last_completed_at,
        )


class ProcedureOut(BaseModel):
    """A configured procedure, when it next falls due, and how its runs went lately."""

    name: str
    title: str
    description: str
    schedule: str | None
    owner: str
    priority: Literal["critical", "high", "medium", "low"]
    window: float | None = Field(description="seconds to complete a run; null: until the next")
    steps: list[StepOut]
    next_due: datetime | None = Field(description="the next scheduled run; null: none known")
    stats: ProcedureStatsOut = Field(description="runs scheduled in the last 30 days")

    @classmethod
    def of(cls, p: Procedure, s: ProcedureStats, secrets: Secrets) -> ProcedureOut:
        """Given a configured Procedure, its stats and the config's secrets, return its JSON form."""
        return cls(
            name=p.name,
            title=p.heading,
            description=p.description,
            schedule=p.schedule,
            owner=p.owner,
            priority=p.priority,
            window=p.window,
            steps=[StepOut.of(step, secrets) for step in p.steps],
            next_due=s.next_due_at,
            stats=ProcedureStatsOut.of(s),
        )
