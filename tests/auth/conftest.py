"""Fixtures for the access-control tests: a real store on SQLite, and one on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from watchkeeper.auth import accounts
from watchkeeper.auth.model import Role, User
from watchkeeper.store.store import Store

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
"""A fixed moment the tests act at."""
PASSWORD = "correct horse battery"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where the SQLite store lives."""
    return tmp_path / "wk.db"


@pytest.fixture
def engine(db_path: Path) -> Iterator[Engine]:
    """The engine of a fresh, migrated SQLite store."""
    store = Store.open(f"sqlite:///{db_path}")
    yield store.engine
    store.close()


@pytest.fixture
def pg_engine(postgres_url: str) -> Iterator[Engine]:
    """The engine of a fresh, migrated PostgreSQL store."""
    store = Store.open(postgres_url)
    yield store.engine
    store.close()


@pytest.fixture
def ana(engine: Engine) -> User:
    """An operator called ana whose password is PASSWORD."""
    return accounts.add_user(engine, "ana", Role.OPERATOR, PASSWORD, T0)


def stored_bytes(db_path: Path) -> bytes:
    """Return every byte SQLite keeps for the store: the database file and its journals."""
    return b"".join(p.read_bytes() for p in sorted(db_path.parent.glob(db_path.name + "*")))
