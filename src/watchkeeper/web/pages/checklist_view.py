"""What the pages show of a checklist run: progress, due words, items and their one-click verdicts.

Both the checklist pages and an incident's page (its phases are runs) show runs this way.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from watchkeeper.checklists.model import Item, ItemState, NoteField, Run, RunState
from watchkeeper.config.procedures import StepKind
from watchkeeper.web.pages.formats import ago_words, due_words, utc


class Verdict(StrEnum):
    """The three buttons of an item, as they appear in its form's address."""

    TICK = "tick"
    FAIL = "fail"
    SKIP = "skip"

    @property
    def state(self) -> ItemState:
        """Return the item state this button records."""
        return _VERDICT_STATES[self]


_VERDICT_STATES = {
    Verdict.TICK: ItemState.PASSED,
    Verdict.FAIL: ItemState.FAILED,
    Verdict.SKIP: ItemState.SKIPPED,
}

NOTE_LABELS = {
    NoteField.ISSUES_FOUND: "Issues found",
    NoteField.ACTIONS_TAKEN: "Actions taken",
    NoteField.ESCALATIONS_MADE: "Escalations made",
}


def run_view(run: Run, now: datetime) -> dict[str, Any]:
    """Given a run, return what the pages show of it: progress, due words and its items."""
    done = sum(item.state is not ItemState.PENDING for item in run.items)
    return {
        "id": run.id,
        "title": run.title,
        "procedure": run.procedure,
        "incident_id": run.incident_id,
        "phase": run.phase,
        "owner": run.owner,
        "state": run.state.value,
        "open": run.state is RunState.OPEN,
        "overdue": run.overdue(now),
        "due": due_words(run.due_at, now) if run.state is RunState.OPEN else "",
        "due_at": utc(run.due_at),
        "scheduled": utc(run.scheduled_for),
        "scheduled_ago": ago_words(run.scheduled_for, now),
        "completed_by": run.completed_by,
        "completed": utc(run.completed_at),
        "completed_ago": ago_words(run.completed_at, now),
        "done": done,
        "total": len(run.items),
        "counts": {state.value: n for state, n in run.counts().items()},
        "rows": [_item(item, now) for item in run.items],
        "notes": [
            (field.value, NOTE_LABELS[field], getattr(run, field.value)) for field in NoteField
        ],
    }


def _item(item: Item, now: datetime) -> dict[str, Any]:
    return {
        "position": item.position,
        "text": item.text,
        "kind": item.kind.value,
        "manual": item.kind is StepKind.MANUAL,
        "state": item.state.value,
        "check": item.check_name,
        "by": item.decided_by,
        "at": utc(item.decided_at),
        "ago": ago_words(item.decided_at, now),
        "note": item.note,
        "output": item.output,
        "exit_code": item.exit_code,
        "verdicts": [
            (verdict.value, verdict.value.capitalize(), verdict.state is item.state)
            for verdict in Verdict
        ],
    }
