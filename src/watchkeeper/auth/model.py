"""Roles and the principals that act with them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Role(StrEnum):
    """What a user or token may do; each role may do everything the ones before it may."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        """Return the role's place in viewer < operator < admin."""
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        """Return True if this role may do what ``needed`` may."""
        return self.rank >= needed.rank


class Via(StrEnum):
    """How a request proved who sent it."""

    SESSION = "session"
    TOKEN = "token"  # noqa: S105 (a kind, not a secret)
    ANONYMOUS = "anonymous"


ROTATE_AFTER = timedelta(days=90)
"""The guides rotate API keys every 90 days: a token this old, or expiring sooner, is due."""
ROTATION_NOTICE = timedelta(days=14)


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: a user, through a session or one of their tokens."""

    user: str
    role: Role
    via: Via
    csrf_token: str | None = None
    """The session's CSRF token; requests with a bearer token need none."""


@dataclass(frozen=True)
class User:
    """A person who can sign in."""

    id: int
    name: str
    role: Role
    created_at: datetime


@dataclass(frozen=True)
class Token:
    """An API token as listed: never the token itself, only its first characters."""

    id: int
    name: str
    prefix: str
    user: str
    role: Role
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    def active(self, now: datetime) -> bool:
        """Return True if the token is neither revoked nor expired at ``now``."""
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    def rotation_due(self, now: datetime) -> bool:
        """Return True if an active token should be replaced: old, or about to expire."""
        if not self.active(now):
            return False
        if now - self.created_at >= ROTATE_AFTER:
            return True
        return self.expires_at is not None and self.expires_at - now <= ROTATION_NOTICE
