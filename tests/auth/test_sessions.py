"""Browser sessions: a random cookie whose hash is stored, expiry and signing out."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, func, select

from tests.auth.conftest import T0, stored_bytes
from watchkeeper.auth.model import Role, User, Via
from watchkeeper.auth.sessions import end_session, session_principal, start_session
from watchkeeper.store.tables import sessions

HOUR = timedelta(hours=1)


def session_count(engine: Engine) -> int:
    """Return how many sessions the store holds."""
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(sessions)) or 0)


def test_a_session_signs_its_user_in_with_a_csrf_token(engine: Engine, ana: User) -> None:
    cookie = start_session(engine, ana, T0, HOUR)
    principal = session_principal(engine, cookie, T0 + timedelta(minutes=5))
    assert principal is not None
    assert (principal.user, principal.role, principal.via) == ("ana", Role.OPERATOR, Via.SESSION)
    assert principal.csrf_token and len(principal.csrf_token) >= 32


def test_each_session_has_its_own_cookie_and_csrf_token(engine: Engine, ana: User) -> None:
    first, second = start_session(engine, ana, T0, HOUR), start_session(engine, ana, T0, HOUR)
    assert first != second
    one, two = session_principal(engine, first, T0), session_principal(engine, second, T0)
    assert one is not None and two is not None and one.csrf_token != two.csrf_token


def test_the_cookie_itself_is_never_stored(engine: Engine, db_path: Path, ana: User) -> None:
    cookie = start_session(engine, ana, T0, HOUR)
    with engine.connect() as connection:
        (stored,) = connection.execute(select(sessions.c.id_hash)).scalars()
    assert stored != cookie
    assert cookie.encode() not in stored_bytes(db_path)


def test_a_session_past_its_expiry_is_refused(engine: Engine, ana: User) -> None:
    cookie = start_session(engine, ana, T0, HOUR)
    assert session_principal(engine, cookie, T0 + HOUR - timedelta(seconds=1)) is not None
    assert session_principal(engine, cookie, T0 + HOUR) is None


def test_unknown_empty_and_oversized_cookies_sign_no_one_in(engine: Engine, ana: User) -> None:
    cookie = start_session(engine, ana, T0, HOUR)
    assert session_principal(engine, cookie[:-1], T0) is None
    assert session_principal(engine, "", T0) is None
    assert session_principal(engine, cookie * 4, T0) is None


def test_signing_out_ends_the_session_and_only_that_one(engine: Engine, ana: User) -> None:
    cookie = start_session(engine, ana, T0, HOUR)
    other = start_session(engine, ana, T0, HOUR)
    end_session(engine, cookie, T0)
    assert session_principal(engine, cookie, T0) is None
    assert session_principal(engine, other, T0) is not None


def test_signing_out_also_forgets_expired_sessions(engine: Engine, ana: User) -> None:
    start_session(engine, ana, T0, HOUR)
    live = start_session(engine, ana, T0, 3 * HOUR)
    leaving = start_session(engine, ana, T0, 3 * HOUR)
    end_session(engine, leaving, T0 + 2 * HOUR)
    assert session_count(engine) == 1
    assert session_principal(engine, live, T0 + 2 * HOUR) is not None


def test_last_seen_is_written_at_most_once_a_minute(engine: Engine, ana: User) -> None:
    cookie = start_session(engine, ana, T0, HOUR)
    session_principal(engine, cookie, T0 + timedelta(seconds=30))
    assert last_seen(engine) == T0
    session_principal(engine, cookie, T0 + timedelta(seconds=90))
    assert last_seen(engine) == T0 + timedelta(seconds=90)


def last_seen(engine: Engine) -> datetime:
    """Return the only session's last-seen time."""
    with engine.connect() as connection:
        return connection.execute(select(sessions.c.last_seen_at)).scalar_one()
