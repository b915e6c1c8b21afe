"""Reports kept in the store: one row per written report, pending until its text is in.

A scheduled report's row is added (pending) when its schedule fires, then claimed for a while by
the worker that writes it, so several workers on one PostgreSQL write it once, and a worker that
dies mid-way leaves it to the next.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, Connection, Engine, RowMapping, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from watchkeeper.config.reports import ReportPeriod
from watchkeeper.store.tables import reports

MAX_ATTEMPTS = 3
"""Writing a report that failed this many times is given up (its row says why)."""


class ReportState(StrEnum):
    """Where a kept report stands."""

    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"


class ReportFormat(StrEnum):
    """The forms a kept report is read in."""

    MARKDOWN = "md"
    HTML = "html"


@dataclass(frozen=True)
class KeptReport:
    """A report in the store, without its text (read that with ``report_text``)."""

    id: int
    name: str
    period: ReportPeriod
    occurrence: datetime | None
    state: ReportState
    attempts: int
    claimed_until: datetime | None
    """Until when the worker writing it holds it (None: no one)."""
    created_at: datetime
    generated_at: datetime | None
    title: str
    summary: str
    error: str | None

    @property
    def covers_until(self) -> datetime:
        """Return the end of the window it covers: its occurrence, or when it was asked for."""
        return self.occurrence or self.created_at


@dataclass(frozen=True)
class Written:
    """A report's text in both forms, with its title and the summary that channels are sent."""

    title: str
    summary: str
    markdown: str
    html: str


_LISTED = (
    reports.c.id,
    reports.c.name,
    reports.c.period,
    reports.c.occurrence,
    reports.c.state,
    reports.c.attempts,
    reports.c.claimed_until,
    reports.c.created_at,
    reports.c.generated_at,
    reports.c.title,
    reports.c.summary,
    reports.c.error,
)


def add_pending(
    engine: Engine, name: str, period: ReportPeriod, occurrence: datetime, now: datetime
) -> int | None:
    """Add the pending row of ``name``'s report for ``occurrence``; return its id, or None when
    that occurrence already has one (another worker added it)."""
    try:
        with engine.begin() as connection:
            inserted = connection.execute(
                insert(reports).values(
                    name=name,
                    period=period.value,
                    occurrence=occurrence,
                    state=ReportState.PENDING.value,
                    attempts=0,
                    created_at=now,
                )
            )
    except IntegrityError:
        return None
    key = inserted.inserted_primary_key
    return None if key is None else int(key[0])


def claim_pending(engine: Engine, now: datetime, hold: float) -> KeptReport | None:
    """Claim the oldest pending report no worker holds, for ``hold`` seconds; return it, or None
    when there is none."""
    free = reports.c.state == ReportState.PENDING.value
    unheld = or_(reports.c.claimed_until.is_(None), reports.c.claimed_until <= now)
    with engine.connect() as connection:
        candidates = connection.execute(
            select(reports.c.id, reports.c.claimed_until)
            .where(free, unheld)
            .order_by(reports.c.id)
            .limit(10)
        ).all()
    for candidate in candidates:
        # Compare-and-set on claimed_until: of two workers that read the same row, one wins.
        held = candidate.claimed_until
        same = (
            reports.c.claimed_until.is_(None) if held is None else reports.c.claimed_until == held
        )
        with engine.begin() as connection:
            won = connection.execute(
                update(reports)
                .where(reports.c.id == candidate.id, free, same)
                .values(claimed_until=now + timedelta(seconds=hold))
            ).rowcount
            if won == 1:
                row = connection.execute(select(*_LISTED).where(reports.c.id == candidate.id)).one()
                return _kept(row._mapping)
    return None


def mark_written(
    connection: Connection, report: KeptReport, written: Written, now: datetime
) -> bool:
    """Keep the text of a claimed ``report`` and make it ready; return False (and keep nothing)
    when the claim was lost: a write outlasted its hold and another worker took it over."""
    return (
        connection.execute(
            update(reports)
            .where(_still_claimed(report))
            .values(
                state=ReportState.READY.value,
                generated_at=now,
                claimed_until=None,
                **_text_of(written),
                error=None,
            )
        ).rowcount
        == 1
    )


def mark_attempt_failed(engine: Engine, report: KeptReport, error: str) -> ReportState:
    """Record that writing ``report`` failed with ``error``; return its state now: pending (to be
    retried when its claim runs out) or, after ``MAX_ATTEMPTS``, failed."""
    attempts = report.attempts + 1
    state = ReportState.FAILED if attempts >= MAX_ATTEMPTS else ReportState.PENDING
    with engine.begin() as connection:
        connection.execute(
            update(reports)
            .where(_still_claimed(report))
            .values(attempts=attempts, state=state.value, error=error[:2000])
        )
    return state


def keep_written(
    engine: Engine, name: str, period: ReportPeriod, written: Written, now: datetime
) -> int:
    """Keep a report written by hand (no schedule occurrence); return its id."""
    with engine.begin() as connection:
        inserted = connection.execute(
            insert(reports).values(
                name=name,
                period=period.value,
                state=ReportState.READY.value,
                attempts=0,
                created_at=now,
                generated_at=now,
                **_text_of(written),
            )
        )
    key = inserted.inserted_primary_key
    assert key is not None
    return int(key[0])


def kept_reports(
    connection: Connection, limit: int = 100, name: str | None = None
) -> list[KeptReport]:
    """Return the newest ``limit`` kept reports (of ``name`` only, when given), newest first."""
    query = select(*_LISTED)
    if name is not None:
        query = query.where(reports.c.name == name)
    query = query.order_by(reports.c.created_at.desc(), reports.c.id.desc()).limit(limit)
    return [_kept(row) for row in connection.execute(query).mappings()]


def kept_report(connection: Connection, report_id: int) -> KeptReport | None:
    """Return the kept report ``report_id``, or None when there is none."""
    row = connection.execute(select(*_LISTED).where(reports.c.id == report_id)).mappings().first()
    return None if row is None else _kept(row)


def report_text(connection: Connection, report_id: int, form: ReportFormat) -> str | None:
    """Return a ready report's text in ``form``, or None when it has none (yet)."""
    column = reports.c.markdown if form is ReportFormat.MARKDOWN else reports.c.html
    return connection.execute(select(column).where(reports.c.id == report_id)).scalar()


def prune_reports(engine: Engine, before: datetime) -> int:
    """Delete reports created before ``before``; return how many."""
    with engine.begin() as connection:
        return connection.execute(reports.delete().where(reports.c.created_at < before)).rowcount


def _still_claimed(report: KeptReport) -> ColumnElement[bool]:
    """Return the condition that ``report`` is pending and held by the claim it was read with."""
    held = (
        reports.c.claimed_until.is_(None)
        if report.claimed_until is None
        else reports.c.claimed_until == report.claimed_until
    )
    return (reports.c.id == report.id) & (reports.c.state == ReportState.PENDING.value) & held


def _text_of(written: Written) -> dict[str, str]:
    return {
        "title": written.title,
        "summary": written.summary,
        "markdown": written.markdown,
        "html": written.html,
    }


def _kept(row: RowMapping) -> KeptReport:
    return KeptReport(
        id=row["id"],
        name=row["name"],
        period=ReportPeriod(row["period"]),
        occurrence=row["occurrence"],
        state=ReportState(row["state"]),
        attempts=row["attempts"],
        claimed_until=row["claimed_until"],
        created_at=row["created_at"],
        generated_at=row["generated_at"],
        title=row["title"] or "",
        summary=row["summary"] or "",
        error=row["error"],
    )
