"""Backup sources against real parts: a PostgreSQL server, SQLite files with a writer process, directories."""

from __future__ import annotations

import asyncio
import io
import sqlite3
import sys
import tarfile
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import make_url

from watchkeeper.backups.sources import (
    BackupError,
    FilesSource,
    PostgresSource,
    SqliteSource,
    scratch_database,
)
from watchkeeper.backups.sources.sqlite import integrity_problems

# --- PostgreSQL -------------------------------------------------------------------------------


def _database_exists(url: str, name: str) -> bool:
    with psycopg.connect(url) as conn:
        return (
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            is not None
        )


def _fill(url: str, rows: int) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL)")
        conn.execute(
            "INSERT INTO users (email) SELECT 'user' || i || '@example.org' FROM generate_series(1, %s) i",
            [rows],
        )


def _flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


async def test_a_dump_restores_into_a_scratch_database_that_is_dropped_afterwards(
    postgres_url: str, tmp_path: Path
) -> None:
    _fill(postgres_url, 250)
    source = PostgresSource(postgres_url)
    dump = tmp_path / "main.dump"
    await source.dump(dump)
    assert dump.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format

    async with scratch_database(postgres_url) as scratch:
        name = make_url(scratch).database
        assert name is not None and name.startswith("wk_restore_")
        await source.restore(dump, scratch)
        with psycopg.connect(scratch) as conn:
            row = conn.execute(
                "SELECT count(*), (SELECT email FROM users WHERE id = 250) FROM users"
            ).fetchone()
        assert row == (250, "user250@example.org")

    assert not _database_exists(postgres_url, name)


async def test_the_scratch_database_is_dropped_even_when_the_restore_fails(
    postgres_url: str, tmp_path: Path
) -> None:
    _fill(postgres_url, 10)
    source = PostgresSource(postgres_url)
    dump = tmp_path / "main.dump"
    await source.dump(dump)
    _flip_byte(dump, 0)  # the "PGDMP" magic: pg_restore no longer recognises the archive

    name = None
    with pytest.raises(BackupError, match="pg_restore failed") as failure:
        async with scratch_database(postgres_url) as scratch:
            name = make_url(scratch).database
            await source.restore(dump, scratch)

    assert "does not appear to be a valid archive" in str(failure.value)
    assert name is not None and not _database_exists(postgres_url, name)


async def test_a_failing_dump_says_why_without_showing_the_password(
    postgres_url: str, tmp_path: Path
) -> None:
    secret = "wk-secret-5f1c9a"
    # The server names the missing database in its error, so the secret is in pg_dump's stderr.
    url = make_url(postgres_url).set(password=secret, database=secret)
    source = PostgresSource(url.render_as_string(hide_password=False))

    with pytest.raises(BackupError) as failure:
        await source.dump(tmp_path / "main.dump")

    message = str(failure.value)
    assert message.startswith("pg_dump failed (exit 1)")
    assert 'database "***" does not exist' in message
    assert secret not in message


async def test_a_dump_of_a_url_with_a_driver_suffix_works(
    postgres_url: str, tmp_path: Path
) -> None:
    _fill(postgres_url, 3)
    url = postgres_url.replace("postgresql://", "postgresql+psycopg://", 1)
    await PostgresSource(url).dump(tmp_path / "main.dump")
    assert (tmp_path / "main.dump").stat().st_size > 0


# --- SQLite -----------------------------------------------------------------------------------

WRITER = """
import sqlite3, sys
path, journal_mode, every = sys.argv[1], sys.argv[2], int(sys.argv[3])
db = sqlite3.connect(path, timeout=30, isolation_level=None)
db.execute(f"PRAGMA journal_mode={journal_mode}")
db.execute("CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
written = 0
while True:
    db.execute("BEGIN IMMEDIATE")
    db.execute("INSERT INTO events (body) VALUES (?)", ("x" * 400,))
    db.execute("COMMIT")
    written += 1
    if written % every == 0:
        print(written, flush=True)
"""


@pytest.mark.parametrize("journal_mode", ["wal", "delete"])
async def test_a_backup_taken_while_another_process_writes_is_consistent(
    tmp_path: Path, journal_mode: str
) -> None:
    live = tmp_path / "live.db"
    every = 1000
    writer = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WRITER, str(live), journal_mode, str(every),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert writer.stdout is not None
    try:
        # The writer announces each thousand committed rows.
        assert int(await writer.stdout.readline()) == every
        source = SqliteSource(live)
        await source.dump(tmp_path / "copy.sqlite")
        # It keeps writing after the backup: the backup neither stopped nor broke it.
        assert int(await writer.stdout.readline()) == 2 * every
        assert writer.returncode is None
    finally:
        writer.terminate()
        await writer.wait()

    restored = tmp_path / "scratch" / "restored.db"
    await source.restore(tmp_path / "copy.sqlite", restored)
    with sqlite3.connect(restored) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        (count,) = db.execute("SELECT count(*) FROM events").fetchone()
    assert count >= every


async def test_restoring_a_corrupt_sqlite_backup_fails_and_leaves_the_target_alone(
    tmp_path: Path,
) -> None:
    live = tmp_path / "live.db"
    with sqlite3.connect(live) as db:
        db.execute("CREATE TABLE t (x TEXT)")
        db.executemany("INSERT INTO t VALUES (?)", [("y" * 300,)] * 200)
    db.close()
    source = SqliteSource(live)
    backup = tmp_path / "copy.sqlite"
    await source.dump(backup)
    data = bytearray(backup.read_bytes())
    data[4096 : 4096 + 64] = b"\xa5" * 64  # garble the start of page 2, a b-tree page
    backup.write_bytes(bytes(data))
    assert integrity_problems(backup) != []

    target = tmp_path / "restored.db"
    with pytest.raises(BackupError, match=r"copy\.sqlite is corrupt"):
        await source.restore(backup, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.sqlite", "live.db"]


async def test_backing_up_a_missing_sqlite_file_fails_without_creating_it(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    with pytest.raises(BackupError, match="not found"):
        await SqliteSource(missing).dump(tmp_path / "copy.sqlite")
    assert not missing.exists()


# --- Directories ------------------------------------------------------------------------------


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


async def test_directories_round_trip_through_a_tar(tmp_path: Path) -> None:
    uploads = tmp_path / "srv" / "uploads"
    (uploads / "2026" / "11").mkdir(parents=True)
    (uploads / "2026" / "11" / "photo.bin").write_bytes(bytes(range(256)) * 40)
    (uploads / "readme.txt").write_text("hello\n")
    settings = tmp_path / "etc" / "settings"
    settings.mkdir(parents=True)
    (settings / "app.yaml").write_text("debug: false\n")

    source = FilesSource([uploads, settings])
    archive = tmp_path / "files.tar.gz"
    await source.dump(archive)
    scratch = tmp_path / "scratch"
    await source.restore(archive, scratch)

    assert sorted(p.name for p in scratch.iterdir()) == ["settings", "uploads"]
    assert _tree(scratch / "uploads") == _tree(uploads)
    assert _tree(scratch / "settings") == _tree(settings)


def _tar_with(path: Path, member: str) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name in ("fine.txt", member):
            info = tarfile.TarInfo(name)
            info.size = 4
            tar.addfile(info, io.BytesIO(b"evil"))


@pytest.mark.parametrize(
    ("member", "why"),
    [("../evil", "goes up"), ("data/../../evil", "goes up"), ("/tmp/evil", "absolute")],
)
async def test_a_tar_member_escaping_the_target_is_refused_and_nothing_extracted(
    tmp_path: Path, member: str, why: str
) -> None:
    archive = tmp_path / "hostile.tar.gz"
    _tar_with(archive, member)
    scratch = tmp_path / "work" / "scratch"

    with pytest.raises(BackupError, match=why):
        await FilesSource([tmp_path]).restore(archive, scratch)

    assert not scratch.exists()
    assert not (tmp_path / "work" / "evil").exists()
    assert not (tmp_path / "evil").exists()


async def test_two_directories_with_the_same_name_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a" / "data").mkdir(parents=True)
    (tmp_path / "b" / "data").mkdir(parents=True)
    source = FilesSource([tmp_path / "a" / "data", tmp_path / "b" / "data"])
    with pytest.raises(BackupError, match="would share the name 'data'"):
        await source.dump(tmp_path / "files.tar.gz")


async def test_a_truncated_tar_is_a_backup_error(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "big.bin").write_bytes(bytes(range(256)) * 4000)
    source = FilesSource([tmp_path / "data"])
    archive = tmp_path / "files.tar.gz"
    await source.dump(archive)
    archive.write_bytes(archive.read_bytes()[:-200])

    with pytest.raises(BackupError, match="cannot be extracted"):
        await source.restore(archive, tmp_path / "scratch")
