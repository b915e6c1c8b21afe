"""What the checklist store tests share: a weekly procedure's run of three items, one of each kind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from watchkeeper.checklists.runs import NewItem, create_run
from watchkeeper.config.procedures import StepKind
from watchkeeper.incidents.model import MACHINE
from watchkeeper.store.store import Store

T0 = datetime(2026, 12, 7, 11, 0, tzinfo=UTC)
ITEMS = [
    NewItem(StepKind.CHECK, "Check api passes", check_name="api"),
    NewItem(StepKind.RUN, "Run git status", argv=("git", "status"), timeout=30.0),
    NewItem(StepKind.MANUAL, "Review the dashboard"),
]


def new_run(store: Store, scheduled_for: datetime = T0, procedure: str | None = "weekly") -> int:
    """Create a run of ITEMS scheduled for ``scheduled_for``, due two hours later; return its id."""
    with store.engine.begin() as connection:
        run_id = create_run(
            connection,
            title="Weekly review",
            items=ITEMS,
            scheduled_for=scheduled_for,
            created_by=MACHINE,
            now=scheduled_for,
            procedure=procedure,
            owner="ops",
            due_at=scheduled_for + timedelta(hours=2),
        )
    assert run_id is not None
    return run_id
