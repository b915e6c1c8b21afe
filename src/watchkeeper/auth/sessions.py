"""Browser sessions: a random id in an HttpOnly cookie, its SHA-256 and a CSRF token in the store."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, insert, select, update

from watchkeeper.auth.model import Principal, Role, User, Via
from watchkeeper.store.tables import sessions, users

SEEN_EVERY = timedelta(minutes=1)


def start_session(engine: Engine, user: User, now: datetime, lifetime: timedelta) -> str:
    """Given a signed-in user, store a new session and return the cookie value that names it."""
    cookie = secrets.token_urlsafe(32)
    with engine.begin() as connection:
        connection.execute(
            insert(sessions).values(
                id_hash=_digest(cookie),
                user_id=user.id,
                csrf_token=secrets.token_urlsafe(32),
                created_at=now,
                expires_at=now + lifetime,
                last_seen_at=now,
            )
        )
    return cookie


def session_principal(engine: Engine, cookie: str, now: datetime) -> Principal | None:
    """Return who a session cookie signs in, or None if it names no live session."""
    if not cookie or len(cookie) > 100:
        return None
    query = (
        select(sessions, users.c.name, users.c.role)
        .join(users, users.c.id == sessions.c.user_id)
        .where(sessions.c.id_hash == _digest(cookie))
    )
    with engine.connect() as connection:
        row = connection.execute(query).first()
    if row is None or row.expires_at <= now:
        return None
    if now - row.last_seen_at >= SEEN_EVERY:
        with engine.begin() as connection:
            connection.execute(
                update(sessions).where(sessions.c.id_hash == row.id_hash).values(last_seen_at=now)
            )
    return Principal(user=row.name, role=Role(row.role), via=Via.SESSION, csrf_token=row.csrf_token)


def end_session(engine: Engine, cookie: str, now: datetime) -> None:
    """Sign a session out, and forget every session that has expired."""
    with engine.begin() as connection:
        connection.execute(
            delete(sessions).where(
                (sessions.c.id_hash == _digest(cookie)) | (sessions.c.expires_at <= now)
            )
        )


def prune_sessions(engine: Engine, now: datetime) -> int:
    """Forget every session that has expired; return how many."""
    with engine.begin() as connection:
        return int(
            connection.execute(delete(sessions).where(sessions.c.expires_at <= now)).rowcount
        )


def _digest(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()
