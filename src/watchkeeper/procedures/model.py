"""The nouns of checklists and runbooks: runs, items, their states and outcomes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from watchkeeper.config.procedures import StepKind


class RunState(StrEnum):
    """A checklist run is open until someone (or the machine, if nothing is manual) completes it."""

    OPEN = "open"
    COMPLETED = "completed"


class ItemState(StrEnum):
    """How an item was decided; pending waits for the machine or a person."""

    PENDING = "pending"
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


class NoteField(StrEnum):
    """The guides' checklist notes."""

    ISSUES_FOUND = "issues_found"
    ACTIONS_TAKEN = "actions_taken"
    ESCALATIONS_MADE = "escalations_made"


class StepOutcome(StrEnum):
    """How one runbook step ended."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    DECLINED = "declined"


class RunbookOutcome(StrEnum):
    """How a runbook run ended."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ABORTED = "aborted"


@dataclass(frozen=True)
class Item:
    """One checklist item."""

    id: int
    run_id: int
    position: int
    kind: StepKind
    text: str
    state: ItemState
    check_name: str | None = None
    argv: tuple[str, ...] | None = None
    timeout: float | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    note: str = ""
    output: str | None = None
    exit_code: int | None = None


@dataclass(frozen=True)
class Run:
    """One checklist run: a procedure's occurrence or an incident's phase, with its items."""

    id: int
    title: str
    state: RunState
    scheduled_for: datetime
    created_at: datetime
    created_by: str
    items: tuple[Item, ...]
    procedure: str | None = None
    incident_id: int | None = None
    phase: str | None = None
    owner: str = ""
    due_at: datetime | None = None
    completed_at: datetime | None = None
    completed_by: str | None = None
    overdue_at: datetime | None = None
    escalated_at: datetime | None = None
    issues_found: str = ""
    actions_taken: str = ""
    escalations_made: str = ""

    def overdue(self, now: datetime) -> bool:
        """Return True when the run is still open past its due time."""
        return self.state is RunState.OPEN and self.due_at is not None and now > self.due_at

    def counts(self) -> dict[ItemState, int]:
        """Return how many items are in each state."""
        return {state: sum(item.state is state for item in self.items) for state in ItemState}
