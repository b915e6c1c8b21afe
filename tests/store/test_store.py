"""Opening the store, writing results and reading them back, on SQLite and PostgreSQL."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from tests.store.conftest import T0, minutes, result
from watchkeeper.results import Status
from watchkeeper.store.connect import MIGRATIONS
from watchkeeper.store.store import Store, StoreError
from watchkeeper.store.tables import metadata


def test_written_results_come_back_equal(store: Store) -> None:
    written = result("web", T0, 12.5, Status.WARNING, {"status": 200, "body": {"ok": True}})
    store.insert_results([written])
    assert store.history("web") == [written]


def test_latest_holds_the_newest_result_per_check(store: Store) -> None:
    store.insert_results([result("web", T0), result("web", T0 + minutes(2)), result("db", T0)])
    store.insert_results([result("web", T0 + minutes(1), status=Status.ERROR)])
    latest = store.latest()
    assert set(latest) == {"web", "db"}
    assert latest["web"].started_at == T0 + minutes(2)
    assert latest["web"].status is Status.OK
    assert latest["db"].started_at == T0


def test_history_is_newest_first_and_filtered_by_time(store: Store) -> None:
    store.insert_results([result("web", T0 + minutes(i), float(i)) for i in range(10)])
    store.insert_results([result("other", T0 + minutes(5))])

    everything = store.history("web")
    assert [r.duration_ms for r in everything] == [float(i) for i in reversed(range(10))]

    window = store.history("web", since=T0 + minutes(3), until=T0 + minutes(6))
    assert [r.duration_ms for r in window] == [5.0, 4.0, 3.0]
    assert [r.duration_ms for r in store.history("web", limit=2)] == [9.0, 8.0]
    assert store.history("missing") == []


def test_datetimes_are_stored_as_utc_and_read_back_aware(store: Store) -> None:
    paris = timezone(timedelta(hours=2))
    store.insert_results([result("web", datetime(2024, 3, 1, 14, 0, tzinfo=paris))])
    [read] = store.history("web", since=T0, until=T0 + minutes(1))
    assert read.started_at == T0
    assert read.started_at.tzinfo is UTC
    assert store.latest()["web"].started_at.tzinfo is UTC


def test_awkward_values_do_not_make_a_batch_unwritable(store: Store) -> None:
    awkward = result("cmd", T0, measurements={"ratio": float("nan"), "seen_at": T0})
    awkward.message = "binary\x00output"
    store.insert_results([awkward, result("web", T0)])
    [read] = store.history("cmd")
    assert read.measurements == {"ratio": None, "seen_at": str(T0)}
    assert read.message == "binary\ufffdoutput"


def test_reopening_keeps_data_and_schema(store_url: str) -> None:
    first = Store.open(store_url)
    first.insert_results([result("web", T0)])
    first.close()

    again = Store.open(store_url)
    try:
        assert [r.started_at for r in again.history("web")] == [T0]
        with again.engine.connect() as connection:
            version = connection.scalar(text("SELECT version_num FROM alembic_version"))
        assert version == ScriptDirectory(str(MIGRATIONS)).get_current_head()
    finally:
        again.close()


def test_migrations_create_exactly_the_tables_the_code_queries(store: Store) -> None:
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []


def test_a_bare_path_opens_sqlite_and_creates_its_directory(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "wk.db"
    opened = Store.open(str(path))
    try:
        opened.insert_results([result()])
        assert path.exists()
        assert opened.engine.dialect.name == "sqlite"
        with opened.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        opened.close()


def test_an_unreachable_postgres_server_is_a_clear_store_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # Nothing listens on the port now that the socket is closed.
    with pytest.raises(StoreError) as caught:
        Store.open(f"postgres://watch:s3cret@127.0.0.1:{port}/wk")
    message = str(caught.value)
    assert f"cannot open the store at postgresql+psycopg://watch:***@127.0.0.1:{port}/wk" in message
    assert "refused" in message
    assert "s3cret" not in message


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql://root@localhost/wk", "unsupported database 'mysql'"),
        ("postgresql://u:pw@[bad/wk", "cannot open the store"),
    ],
)
def test_a_bad_url_is_a_clear_store_error(url: str, expected: str) -> None:
    with pytest.raises(StoreError, match="cannot open the store") as caught:
        Store.open(url)
    assert expected in str(caught.value)
    assert "pw" not in str(caught.value)


def test_display_url_hides_the_password(postgres_url: str) -> None:
    # The test server trusts loopback, so it accepts any password.
    opened = Store.open(postgres_url.replace("@", ":s3cret@", 1))
    try:
        assert opened.display_url.startswith("postgresql+psycopg://")
        assert ":***@" in opened.display_url
        assert "s3cret" not in opened.display_url
    finally:
        opened.close()
