"""Fixtures shared by the whole suite: a real PostgreSQL server and fresh databases on it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from tests.pg_server import create_database, drop_database, temporary_cluster


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
