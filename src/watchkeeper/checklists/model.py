"""The nouns of checklists: runs, items, their states, the events that make a run's history,
and the errors of changes that cannot be made."""

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

    @property
    def label(self) -> str:
        """Return the field as people read it, e.g. ``issues found``."""
        return self.value.replace("_", " ")


class EventKind(StrEnum):
    """What a checklist event records: an item decided (or corrected), a note line, completion."""

    DECIDED = "decided"
    NOTED = "noted"
    COMPLETED = "completed"


MARKS = {ItemState.PASSED: "✓", ItemState.FAILED: "✗", ItemState.SKIPPED: "↷"}
"""How a decided item is marked in timelines and listings."""


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

    @property
    def name(self) -> str:
        """Return how the run is named in a line of history: its phase, else its title."""
        return self.phase or self.title

    def overdue(self, now: datetime) -> bool:
        """Return True when the run is still open past its due time."""
        return self.state is RunState.OPEN and self.due_at is not None and now > self.due_at

    def counts(self) -> dict[ItemState, int]:
        """Return how many items are in each state."""
        return {state: sum(item.state is state for item in self.items) for state in ItemState}

    def item(self, position: int) -> Item | None:
        """Return the item at ``position`` (1-based), or None if there is none."""
        return next((item for item in self.items if item.position == position), None)


@dataclass(frozen=True)
class Event:
    """One change to a run, in its history: who decided which item how, noted what, or completed it.

    A ``decided`` event has the item's ``position``, its new ``state`` and the decider's note as
    ``text``; a ``noted`` event has the ``field`` and the line added; a ``completed`` event has the
    item counts in words.
    """

    id: int
    run_id: int
    at: datetime
    actor: str
    kind: EventKind
    text: str = ""
    position: int | None = None
    state: ItemState | None = None
    field: NoteField | None = None


class ChecklistError(Exception):
    """A checklist change that cannot be made; the message says why and what to do instead."""


class RunCompleted(ChecklistError):
    """The run is completed (perhaps by someone else a moment ago), so it is read-only."""
