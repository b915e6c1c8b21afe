"""Migrations on opening a store: Alembic runs only when the database is behind the newest revision."""

from __future__ import annotations

import subprocess
import sys

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from watchkeeper.store import connect
from watchkeeper.store.connect import MIGRATIONS, head_revision
from watchkeeper.store.store import Store, StoreError

OPEN_AND_SAY_IF_ALEMBIC_RAN = (
    "import sys\n"
    "from watchkeeper.store.store import Store\n"
    "Store.open(sys.argv[1]).close()\n"
    "print('alembic.command' in sys.modules)\n"
)


def test_head_revision_is_alembics_head() -> None:
    assert head_revision() == ScriptDirectory(str(MIGRATIONS)).get_current_head()


def test_only_a_database_behind_head_imports_alembic(store_url: str) -> None:
    def open_in_a_new_process() -> str:
        done = subprocess.run(
            [sys.executable, "-c", OPEN_AND_SAY_IF_ALEMBIC_RAN, store_url],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return done.stdout.strip()

    assert open_in_a_new_process() == "True"
    assert open_in_a_new_process() == "False"


def test_a_database_at_an_older_revision_is_upgraded_to_head(store_url: str) -> None:
    engine = connect.create(connect.normalise_url(store_url))
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    engine.dispose()

    store = Store.open(store_url)
    try:
        with store.engine.connect() as connection:
            version = connection.scalar(text("SELECT version_num FROM alembic_version"))
            assert version == head_revision() != "0001"
            assert inspect(connection).has_table("cursors")  # created by 0002
    finally:
        store.close()


def test_a_database_newer_than_the_code_is_a_clear_store_error(store_url: str) -> None:
    store = Store.open(store_url)
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    store.close()
    with pytest.raises(StoreError) as caught:
        Store.open(store_url)
    assert "cannot open the store" in str(caught.value)
    assert "'9999'" in str(caught.value)
