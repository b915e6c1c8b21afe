"""How the checklist commands show checklists: one run with its items, output and notes as text or
JSON; listings of runs; and each procedure's completion and on-time rates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from rich.markup import escape
from rich.table import Table

from watchkeeper.checklists.model import ItemState, NoteField, Run, RunState
from watchkeeper.cli.common import out
from watchkeeper.config.schema import Config
from watchkeeper.procedures.completion import local_time
from watchkeeper.procedures.stats import TARGET, ProcedureStats

STATE_STYLE = {
    ItemState.PENDING: "dim",
    ItemState.PASSED: "green",
    ItemState.FAILED: "red",
    ItemState.SKIPPED: "yellow",
}
"""How each item state is coloured."""


def listing_since(now: datetime, tz: ZoneInfo) -> datetime:
    """Given now and the config's timezone, return where a listing of runs starts: this month's
    start or this week's (Monday), whichever is earlier."""
    local = now.astimezone(tz)
    today = local.replace(hour=0, minute=0, second=0, microsecond=0)
    week = today - timedelta(days=today.weekday())
    month = today.replace(day=1)
    return min(week, month).astimezone(UTC)


def run_state(run: Run, now: datetime) -> str:
    """Given a run and now, return its state as the tables show it: open, overdue, completed (late)."""
    if run.state is RunState.COMPLETED:
        return "[green]completed[/]" + (" [yellow](late)[/]" if run.overdue_at else "")
    return "[red]overdue[/]" if run.overdue(now) else "open"


def print_run(run: Run, config: Config, now: datetime) -> None:
    """Print the run: its facts, its items and who decided them, its commands' output, its notes."""
    out.print(f"[bold]Run {run.id}: {escape(run.title)}[/] — {run_state(run, now)}")
    facts = [
        ("scheduled", local_time(run.scheduled_for, config)),
        ("due", local_time(run.due_at, config) if run.due_at else ""),
        ("owner", run.owner),
        ("started by", run.created_by),
        (
            "completed",
            f"{local_time(run.completed_at, config)} by {run.completed_by}"
            if run.completed_at
            else "",
        ),
    ]
    for label, value in facts:
        if value:
            out.print(f"  {label}: {escape(value)}")
    table = Table(title_justify="left")
    for column in ("#", "kind", "state", "item", "decided by", "note"):
        table.add_column(column, overflow="fold")
    for item in run.items:
        style = STATE_STYLE[item.state]
        table.add_row(
            str(item.position),
            item.kind.value,
            f"[{style}]{item.state.value}[/]",
            escape(item.text),
            escape(item.decided_by or ""),
            escape(item.note),
        )
    out.print(table)
    for item in run.items:
        if item.output:
            out.print(f"[bold]output of item {item.position}[/] (exit code {item.exit_code}):")
            out.print(escape(item.output.rstrip()))
    for field in NoteField:
        text: str = getattr(run, field.value)
        if text:
            out.print(f"[bold]{field.label}:[/]")
            out.print(escape(text))


def runs_table(found: Sequence[Run], config: Config, now: datetime, title: str) -> Table:
    """Return a table of runs: what, when scheduled, state, items done, owner, due."""
    table = Table(title=title, title_justify="left")
    for column in ("id", "checklist", "scheduled", "state", "done", "owner", "due"):
        table.add_column(column, overflow="fold")
    for run in found:
        table.add_row(
            str(run.id),
            escape(run.title),
            local_time(run.scheduled_for, config),
            run_state(run, now),
            f"{_done(run)}/{len(run.items)}",
            escape(run.owner),
            local_time(run.due_at, config) if run.due_at else "",
        )
    return table


def stats_table(rows: Sequence[ProcedureStats], config: Config, since: str) -> Table:
    """Return a table of each procedure's runs, completion and on-time rates, overdue, last, next."""
    table = Table(title=f"Procedures over the last {since}", title_justify="left")
    for column in (
        "procedure",
        "runs",
        "completion",
        "on time",
        "overdue",
        "last completed",
        "next",
    ):
        table.add_column(column, overflow="fold")
    for s in rows:
        table.add_row(
            escape(s.title),
            str(s.runs),
            _rate(s.completion_rate, target=TARGET),
            _rate(s.on_time_rate),
            f"[red]{s.overdue_open}[/]" if s.overdue_open else "0",
            local_time(s.last_completed_at, config) if s.last_completed_at else "never",
            local_time(s.next_due_at, config) if s.next_due_at else "",
        )
    return table


def run_json(run: Run, now: datetime, *, items: bool = False) -> dict[str, Any]:
    """Return the run as ``--json`` prints it (with its items if ``items``)."""
    data: dict[str, Any] = {
        "id": run.id,
        "title": run.title,
        "procedure": run.procedure,
        "incident_id": run.incident_id,
        "phase": run.phase,
        "state": run.state.value,
        "overdue": run.overdue(now) or run.overdue_at is not None,
        "scheduled_for": run.scheduled_for.isoformat(),
        "due_at": _iso(run.due_at),
        "owner": run.owner,
        "created_by": run.created_by,
        "completed_at": _iso(run.completed_at),
        "completed_by": run.completed_by,
        "escalated_at": _iso(run.escalated_at),
        "done": _done(run),
        "total": len(run.items),
        "issues_found": run.issues_found,
        "actions_taken": run.actions_taken,
        "escalations_made": run.escalations_made,
    }
    if items:
        data["items"] = [
            {
                "position": item.position,
                "kind": item.kind.value,
                "text": item.text,
                "state": item.state.value,
                "check": item.check_name,
                "argv": list(item.argv) if item.argv is not None else None,
                "decided_by": item.decided_by,
                "decided_at": _iso(item.decided_at),
                "note": item.note,
                "output": item.output,
                "exit_code": item.exit_code,
            }
            for item in run.items
        ]
    return data


def stats_json(s: ProcedureStats) -> dict[str, Any]:
    """Return one procedure's stats as ``--json`` prints them."""
    return {
        "procedure": s.procedure,
        "title": s.title,
        "runs": s.runs,
        "completed": s.completed,
        "on_time": s.on_time,
        "completion_rate": s.completion_rate,
        "on_time_rate": s.on_time_rate,
        "overdue_open": s.overdue_open,
        "last_completed_at": _iso(s.last_completed_at),
        "next_due_at": _iso(s.next_due_at),
    }


def _done(run: Run) -> int:
    return sum(item.state is not ItemState.PENDING for item in run.items)


def _rate(rate: float | None, target: float | None = None) -> str:
    if rate is None:
        return "n/a"
    shown = f"{rate:.1%}"
    return f"[red]{shown}[/]" if target is not None and rate < target else shown


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
