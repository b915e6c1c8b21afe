"""Users and API tokens in the store: add, list, remove, and find who a password or token belongs to."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from watchkeeper.auth.model import Principal, Role, Token, User, Via
from watchkeeper.auth.passwords import hash_password, verify_password, weakness
from watchkeeper.store.tables import api_tokens, sessions, users

TOKEN_PREFIX = "wk_"  # noqa: S105 (a marker, not a secret)
LAST_USED_EVERY = timedelta(minutes=1)
"""A token's last-used time is written at most this often, not on every request."""


class AccountError(ValueError):
    """A user or token cannot be added or removed; the message says why."""


def add_user(engine: Engine, name: str, role: Role, password: str, now: datetime) -> User:
    """Create a user with an argon2 hash of ``password``; refuse a taken name or a weak password."""
    name = name.strip()
    if not name or len(name) > 64 or any(c.isspace() for c in name):
        raise AccountError("a user name is 1 to 64 characters without spaces")
    problem = weakness(password)
    if problem:
        raise AccountError(problem)
    try:
        with engine.begin() as connection:
            user_id = connection.execute(
                insert(users)
                .values(
                    name=name,
                    role=role.value,
                    password_hash=hash_password(password),
                    created_at=now,
                )
                .returning(users.c.id)
            ).scalar_one()
    except IntegrityError:
        raise AccountError(f"there is already a user called {name!r}") from None
    return User(id=int(user_id), name=name, role=role, created_at=now)


def list_users(engine: Engine) -> list[User]:
    """Return every user, by name."""
    with engine.connect() as connection:
        return [_user(row) for row in connection.execute(select(users).order_by(users.c.name))]


def count_users(engine: Engine) -> int:
    """Return how many users there are."""
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(users)) or 0)


def remove_user(engine: Engine, name: str) -> bool:
    """Delete a user with their sessions and tokens; return False if there is no such user."""
    with engine.begin() as connection:
        user_id = connection.scalar(select(users.c.id).where(users.c.name == name))
        if user_id is None:
            return False
        connection.execute(delete(sessions).where(sessions.c.user_id == user_id))
        connection.execute(delete(api_tokens).where(api_tokens.c.user_id == user_id))
        connection.execute(delete(users).where(users.c.id == user_id))
    return True


def check_password(engine: Engine, name: str, password: str) -> User | None:
    """Return the user if ``password`` is theirs; an unknown name costs as long as a wrong password."""
    with engine.connect() as connection:
        row = connection.execute(select(users).where(users.c.name == name)).first()
    if not verify_password(row.password_hash if row else None, password):
        return None
    return _user(row)


def create_token(
    engine: Engine,
    user: str,
    name: str,
    now: datetime,
    *,
    expires_in: timedelta | None,
    role: Role | None = None,
) -> tuple[str, Token]:
    """Create a random token for ``user``; return it (shown once, never stored) and its record.

    The token's role defaults to the user's and can only be narrower.
    """
    with engine.begin() as connection:
        owner = connection.execute(select(users).where(users.c.name == user)).first()
        if owner is None:
            raise AccountError(f"there is no user called {user!r}")
        owner_role = Role(owner.role)
        role = role or owner_role
        if not owner_role.allows(role):
            raise AccountError(f"{user}'s role is {owner_role}; their tokens cannot be {role}")
        text = TOKEN_PREFIX + secrets.token_urlsafe(32)
        expires_at = now + expires_in if expires_in is not None else None
        values: dict[str, Any] = {
            "token_hash": _digest(text),
            "prefix": text[:10],
            "name": name,
            "user_id": owner.id,
            "role": role.value,
            "created_at": now,
            "expires_at": expires_at,
        }
        token_id = connection.execute(
            insert(api_tokens).values(**values).returning(api_tokens.c.id)
        ).scalar_one()
    return text, Token(
        id=int(token_id),
        name=name,
        prefix=text[:10],
        user=user,
        role=role,
        created_at=now,
        expires_at=expires_at,
        last_used_at=None,
        revoked_at=None,
    )


def list_tokens(engine: Engine) -> list[Token]:
    """Return every token, revoked ones too, newest first."""
    query = (
        select(api_tokens, users.c.name.label("user_name"))
        .join(users, users.c.id == api_tokens.c.user_id)
        .order_by(api_tokens.c.created_at.desc(), api_tokens.c.id.desc())
    )
    with engine.connect() as connection:
        return [_token(row) for row in connection.execute(query)]


def revoke_token(engine: Engine, token_id: int, now: datetime) -> bool:
    """Revoke a token; return False if there is no such token or it was already revoked."""
    with engine.begin() as connection:
        changed = connection.execute(
            update(api_tokens)
            .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
    return bool(changed.rowcount)


def token_principal(engine: Engine, text: str, now: datetime) -> Principal | None:
    """Return who a bearer token acts as, or None if it is unknown, revoked or expired."""
    if not text.startswith(TOKEN_PREFIX):
        return None
    query = (
        select(api_tokens, users.c.name.label("user_name"))
        .join(users, users.c.id == api_tokens.c.user_id)
        .where(api_tokens.c.token_hash == _digest(text))
    )
    with engine.connect() as connection:
        row = connection.execute(query).first()
    if row is None:
        return None
    token = _token(row)
    if not token.active(now):
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        with engine.begin() as connection:
            connection.execute(
                update(api_tokens).where(api_tokens.c.id == token.id).values(last_used_at=now)
            )
    return Principal(user=token.user, role=token.role, via=Via.TOKEN)


def _digest(text: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough: there is nothing to guess.
    return hashlib.sha256(text.encode()).hexdigest()


def _user(row: Any) -> User:
    return User(id=int(row.id), name=row.name, role=Role(row.role), created_at=row.created_at)


def _token(row: Any) -> Token:
    return Token(
        id=int(row.id),
        name=row.name,
        prefix=row.prefix,
        user=row.user_name,
        role=Role(row.role),
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )
