"""Fixtures shared by the whole suite: a real PostgreSQL server, fresh databases, probe contexts."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.pg_server import create_database, drop_database, temporary_cluster
from watchkeeper.probes import ProbeContext
from watchkeeper.store.store import Store


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a PostgreSQL server the tests may create databases on.

    ``WATCHKEEPER_TEST_POSTGRES_URL`` names one; otherwise a temporary cluster is started.
    """
    given = os.environ.get("WATCHKEEPER_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    with temporary_cluster("shared_preload_libraries = 'pg_stat_statements'\n") as url:
        yield url


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    name = f"wk_test_{uuid.uuid4().hex[:12]}"
    url = create_database(postgres_server, name)
    yield url
    drop_database(postgres_server, name)


@pytest.fixture
async def ctx() -> AsyncIterator[ProbeContext]:
    """A probe context (shared HTTP sessions), closed after the test."""
    context = ProbeContext()
    yield context
    await context.close()


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 that is bound but not listening, so connects are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh, migrated store on each backend: a SQLite file, then a real PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/watchkeeper.db"
    else:
        url = request.getfixturevalue("postgres_url")
    opened = Store.open(url)
    yield opened
    opened.close()
