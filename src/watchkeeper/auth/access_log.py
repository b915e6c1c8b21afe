"""The access log: sign-ins, refusals and every change made through the API or the pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, delete, insert, select

from watchkeeper.store.tables import access_log


@dataclass(frozen=True)
class Access:
    """One logged request: who, how they signed in, what they did and what they were told."""

    at: datetime
    actor: str | None
    via: str
    action: str
    method: str
    path: str
    status: int
    client: str | None


def record(engine: Engine, entries: list[Access]) -> None:
    """Append entries to the access log."""
    if not entries:
        return
    with engine.begin() as connection:
        connection.execute(
            insert(access_log),
            [
                {
                    "at": e.at,
                    "actor": e.actor,
                    "via": e.via,
                    "action": e.action,
                    # The column holds 8 characters; a client may send any method name.
                    "method": e.method[:8],
                    "path": e.path[:500],
                    "status": e.status,
                    "client": e.client,
                }
                for e in entries
            ],
        )


def recent(engine: Engine, since: datetime | None = None, limit: int = 200) -> list[Access]:
    """Return up to ``limit`` entries at or after ``since``, newest first."""
    query = select(access_log).order_by(access_log.c.at.desc(), access_log.c.id.desc()).limit(limit)
    if since is not None:
        query = query.where(access_log.c.at >= since)
    with engine.connect() as connection:
        return [
            Access(
                at=row.at,
                actor=row.actor,
                via=row.via,
                action=row.action,
                method=row.method,
                path=row.path,
                status=row.status,
                client=row.client,
            )
            for row in connection.execute(query)
        ]


def prune(engine: Engine, before: datetime) -> int:
    """Delete entries older than ``before``; return how many."""
    with engine.begin() as connection:
        return int(connection.execute(delete(access_log).where(access_log.c.at < before)).rowcount)
