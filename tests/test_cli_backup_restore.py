"""``watchkeeper backup restore|self``, run as a user would: a real process, store, SQLite files
and PostgreSQL; a real terminal (a pty) where the command asks or shows progress."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import select
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import make_url

from tests.cli_run import cli_env, run_cli
from tests.pg_server import drop_database


def _names(path: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return [name for (name,) in db.execute("SELECT name FROM users ORDER BY id")]


def _set_names(path: Path, *names: str) -> None:
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("DELETE FROM users")
        db.executemany("INSERT INTO users (name) VALUES (?)", [(n,) for n in names])


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A config backing up ``app.db`` (users ana and bo) into ``backups/``."""
    with contextlib.closing(sqlite3.connect(tmp_path / "app.db")) as db, db:
        db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    _set_names(tmp_path / "app.db", "ana", "bo")
    path = tmp_path / "watchkeeper.yaml"
    path.write_text("backups:\n  - {name: app-db, source: {sqlite: app.db}, to: backups}\n")
    return path


async def _entries(config: Path, name: str) -> list[dict[str, object]]:
    listed = await run_cli("backup", "list", name, "--json", "-c", config, cwd=config.parent)
    assert listed.code == 0, listed.stderr
    found: list[dict[str, object]] = json.loads(listed.stdout)
    return found


async def test_restore_refuses_to_overwrite_without_yes_when_it_cannot_ask(config: Path) -> None:
    app_db = config.parent / "app.db"
    taken = await run_cli("backup", "run", "app-db", "-c", config, cwd=config.parent)
    assert taken.code == 0, taken.stderr
    _set_names(app_db, "mallory")

    refused = await run_cli("backup", "restore", "app-db", "-c", config, cwd=config.parent)

    assert refused.code == 1
    assert f"refusing to overwrite the SQLite file {app_db}" in refused.stderr
    assert "pass --yes" in refused.stderr
    assert _names(app_db) == ["mallory"]

    restored = await run_cli(
        "backup", "restore", "app-db", "--yes", "-c", config, cwd=config.parent
    )

    assert restored.code == 0, restored.stderr
    assert "restored app-db backup 1" in restored.stdout and f"into {app_db} in " in restored.stdout
    assert _names(app_db) == ["ana", "bo"]


async def test_restore_picks_the_entry_asked_for_and_a_new_file_needs_no_confirmation(
    config: Path,
) -> None:
    for names in (("ana",), ("ana", "bo", "cy")):
        _set_names(config.parent / "app.db", *names)
        taken = await run_cli("backup", "run", "app-db", "-c", config, cwd=config.parent)
        assert taken.code == 0, taken.stderr
    oldest = min(int(str(e["id"])) for e in await _entries(config, "app-db"))

    args = ["--entry", str(oldest), "--to", "copies/old.db", "-c", str(config)]
    restored = await run_cli("backup", "restore", "app-db", *args, cwd=config.parent)

    assert restored.code == 0, restored.stderr
    assert _names(config.parent / "copies" / "old.db") == ["ana"]
    assert _names(config.parent / "app.db") == ["ana", "bo", "cy"]


async def test_a_corrupt_backup_file_is_refused_with_exit_2(config: Path) -> None:
    taken = await run_cli("backup", "run", "app-db", "-c", config, cwd=config.parent)
    assert taken.code == 0, taken.stderr
    [entry] = await _entries(config, "app-db")
    backup_file = Path(str(entry["path"]))
    data = bytearray(backup_file.read_bytes())
    data[100] ^= 0xFF
    backup_file.write_bytes(bytes(data))
    _set_names(config.parent / "app.db", "mallory")

    refused = await run_cli("backup", "restore", "app-db", "--yes", "-c", config, cwd=config.parent)

    assert refused.code == 2
    assert "refusing to restore" in refused.stderr and "SHA-256" in refused.stderr
    assert _names(config.parent / "app.db") == ["mallory"]


async def test_nothing_to_restore_exits_1(config: Path) -> None:
    ran = await run_cli("backup", "restore", "app-db", "-c", config, cwd=config.parent)

    assert ran.code == 1 and "no good backup of app-db to restore" in ran.stderr


async def test_backup_self_on_a_sqlite_store_makes_an_entry_whose_file_restores(
    config: Path,
) -> None:
    taken = await run_cli("backup", "self", "-c", config, cwd=config.parent)

    assert taken.code == 0, taken.stderr
    assert "backed up watchkeeper-store" in taken.stdout and "pruned 0" in taken.stdout
    [entry] = await _entries(config, "watchkeeper-store")
    assert entry["state"] == "ok" and entry["kind"] == "sqlite"
    assert Path(str(entry["path"])).parent == config.parent / "backups" / "watchkeeper-store"

    copy = config.parent / "restored-store.db"
    restored = await run_cli(
        "backup", "restore", "watchkeeper-store", "--to", copy, "-c", config, cwd=config.parent
    )

    assert restored.code == 0, restored.stderr
    with contextlib.closing(sqlite3.connect(copy)) as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
    assert {"backup_catalogue", "results"} <= tables


async def test_backup_self_uses_the_configured_store_backup_and_to_overrides_its_directory(
    tmp_path: Path,
) -> None:
    config = tmp_path / "watchkeeper.yaml"
    config.write_text(
        "backups:\n  - {name: own-store, source: {watchkeeper_store: true}, to: configured}\n"
    )

    taken = await run_cli("backup", "self", "--to", "elsewhere", "-c", config, cwd=tmp_path)

    assert taken.code == 0, taken.stderr
    [entry] = await _entries(config, "own-store")
    assert Path(str(entry["path"])).parent == tmp_path / "elsewhere"
    assert not (tmp_path / "configured").exists()


async def test_a_backup_of_the_store_restore_tests_like_any_other(tmp_path: Path) -> None:
    config = tmp_path / "watchkeeper.yaml"
    config.write_text(
        "backups:\n  - name: own-store\n    source: {watchkeeper_store: true}\n"
        "    to: backups\n    verify: {smoke: ['SELECT count(*) FROM alembic_version']}\n"
    )
    taken = await run_cli("backup", "self", "-c", config, cwd=tmp_path)
    assert taken.code == 0, taken.stderr

    verified = await run_cli("backup", "verify", "own-store", "-c", config, cwd=tmp_path)

    assert verified.code == 0, verified.stderr
    assert verified.stdout.startswith("passed: own-store backup 1"), verified.stdout


@pytest.fixture
def new_database(postgres_server: str) -> Iterator[str]:
    """The URL of a database that does not exist yet on the test server (dropped afterwards)."""
    name = f"wk_test_new_{uuid.uuid4().hex[:12]}"
    yield make_url(postgres_server).set(database=name).render_as_string(hide_password=False)
    drop_database(postgres_server, name)


async def test_backup_self_on_a_postgresql_store_makes_a_dump_that_restores(
    tmp_path: Path, postgres_url: str, new_database: str
) -> None:
    config = tmp_path / "watchkeeper.yaml"
    config.write_text(f"store: {postgres_url}\n")

    taken = await run_cli("backup", "self", "-c", config, cwd=tmp_path)

    assert taken.code == 0, taken.stderr
    [entry] = await _entries(config, "watchkeeper-store")
    assert entry["kind"] == "postgres" and str(entry["path"]).endswith(".dump")

    restored = await run_cli(
        "backup", "restore", "watchkeeper-store", "--to", new_database, "-c", config, cwd=tmp_path
    )

    assert restored.code == 0, restored.stderr
    with psycopg.connect(new_database) as conn:
        # The dump was taken before its own entry was recorded.
        assert conn.execute("SELECT count(*) FROM backup_catalogue").fetchone() == (0,)
        assert conn.execute("SELECT to_regclass('public.results')").fetchone() == ("results",)


# --- On a terminal ----------------------------------------------------------------------------


@dataclass
class OnTerminal:
    """What a run with a terminal as stdin and stderr wrote there and to stdout."""

    code: int
    terminal: str
    stdout: str


def _on_terminal(args: list[str], cwd: Path, answer: str | None = None) -> OnTerminal:
    """Run the command with a pty as its stdin and stderr; type ``answer`` when it asks."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "watchkeeper", *args],
        stdin=follower,
        stdout=subprocess.PIPE,
        stderr=follower,
        env=cli_env({"TERM": "xterm"}),
        cwd=cwd,
    )
    os.close(follower)
    seen = b""
    answered = False
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(leader, 4096)
                except OSError:  # EIO: the command closed the terminal
                    break
                if not chunk:
                    break
                seen += chunk
            if answer is not None and not answered and b"[y/N]" in seen:
                os.write(leader, answer.encode() + b"\n")
                answered = True
            if proc.poll() is not None and not ready:
                break
        stdout = proc.communicate(timeout=60)[0]
    finally:
        os.close(leader)
        if proc.poll() is None:
            proc.kill()
    return OnTerminal(proc.returncode, seen.decode(errors="replace"), stdout.decode())


async def test_on_a_terminal_restore_asks_and_only_yes_overwrites(config: Path) -> None:
    app_db = config.parent / "app.db"
    taken = await run_cli("backup", "run", "app-db", "-c", config, cwd=config.parent)
    assert taken.code == 0, taken.stderr
    _set_names(app_db, "mallory")
    args = ["backup", "restore", "app-db", "-c", str(config)]

    declined = _on_terminal(args, config.parent, answer="n")

    assert f"overwrite the SQLite file {app_db}? [y/N]" in declined.terminal
    assert declined.code == 1 and "nothing restored" in declined.terminal
    assert _names(app_db) == ["mallory"]

    agreed = _on_terminal(args, config.parent, answer="y")

    assert agreed.code == 0, agreed.terminal
    assert "restored app-db backup 1" in agreed.stdout
    assert _names(app_db) == ["ana", "bo"]


async def test_on_a_terminal_a_backup_shows_its_progress_and_clears_it(config: Path) -> None:
    ran = _on_terminal(["backup", "run", "app-db", "-c", str(config)], config.parent)

    assert ran.code == 0, ran.terminal
    assert "backing up app-db" in ran.terminal and "written" in ran.terminal
    assert "backed up app-db" in ran.stdout and "backing up" not in ran.stdout
