"""``watchkeeper backup run|list|prune``, run as a user would: a real process, store and SQLite file."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.cli_run import run_cli
from watchkeeper.backups.archive import MANIFEST_SUFFIX
from watchkeeper.backups.runner import run_backup
from watchkeeper.config.backups import Backup
from watchkeeper.config.secrets import Secrets
from watchkeeper.store.store import Store

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def write_config(tmp_path: Path) -> Path:
    """Write a config backing up ``app.db`` (beside it) into ``backups/``, keeping one day."""
    with sqlite3.connect(tmp_path / "app.db") as db:
        db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
        db.execute("INSERT INTO users (name) VALUES ('ana')")
    config = tmp_path / "watchkeeper.yaml"
    config.write_text("""
backups:
  - name: app-db
    source: {sqlite: app.db}
    to: backups
    keep: {daily: 1, weekly: 0, monthly: 0}
  - name: gone-db
    source: {sqlite: gone.db}
    to: backups
""")
    return config


async def test_backup_run_takes_a_backup_that_list_shows_with_its_checksum(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path)

    ran = await run_cli("backup", "run", "app-db", "-c", config, cwd=tmp_path)
    listed = await run_cli("backup", "list", "app-db", "--json", "-c", config, cwd=tmp_path)

    assert ran.code == 0, ran.stderr
    assert "backed up app-db" in ran.stdout
    [entry] = json.loads(listed.stdout)
    backup_file = Path(entry["path"])
    assert backup_file.parent == tmp_path / "backups" and backup_file.suffix == ".sqlite"
    assert entry["state"] == "ok" and entry["size"] == backup_file.stat().st_size
    assert entry["sha256"] == hashlib.sha256(backup_file.read_bytes()).hexdigest()
    assert entry["sha256"] in ran.stdout
    with sqlite3.connect(backup_file) as db:
        assert db.execute("SELECT name FROM users").fetchall() == [("ana",)]


async def test_a_failing_backup_exits_1_and_is_listed_as_failed(tmp_path: Path) -> None:
    config = write_config(tmp_path)

    ran = await run_cli("backup", "run", "gone-db", "-c", config, cwd=tmp_path)
    listed = await run_cli("backup", "list", "-c", config, cwd=tmp_path)

    assert ran.code == 1
    assert "backup gone-db failed" in ran.stderr and "SQLite database not found" in ran.stderr
    assert listed.code == 0, listed.stderr
    assert "gone-db" in listed.stdout and "failed" in listed.stdout
    assert "SQLite database not found" in listed.stdout


async def test_an_unknown_backup_exits_3_naming_the_known_ones(tmp_path: Path) -> None:
    config = write_config(tmp_path)

    for command in ("run", "prune", "list"):
        ran = await run_cli("backup", command, "nope", "-c", config, cwd=tmp_path)

        assert ran.code == 3, command
        assert "no backup 'nope'" in ran.stderr and "app-db, gone-db" in ran.stderr


async def test_prune_dry_run_deletes_nothing_and_prune_keeps_the_newest_day(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path)
    backup = Backup.model_validate(
        {"name": "app-db", "source": {"sqlite": "app.db"}, "to": "backups"}
    )
    store = Store.open(f"sqlite:///{tmp_path / 'watchkeeper.db'}")
    try:
        taken = [
            await run_backup(store.engine, backup, tmp_path, Secrets(), T0 + timedelta(days=d))
            for d in range(3)
        ]
    finally:
        store.close()
    older, newest = [e.path for e in taken[:2] if e.path], taken[2].path
    assert newest is not None

    dry = await run_cli("backup", "prune", "app-db", "--dry-run", "-c", config, cwd=tmp_path)

    assert dry.code == 0, dry.stderr
    assert all(f"would delete {p}" in dry.stdout for p in older)
    assert "app-db: would delete 2 backups" in dry.stdout
    assert all(p.exists() for p in (*older, newest))

    pruned = await run_cli("backup", "prune", "app-db", "-c", config, cwd=tmp_path)

    assert pruned.code == 0, pruned.stderr
    assert "app-db: deleted 2 backups" in pruned.stdout
    for path in older:
        assert not path.exists() and not path.with_name(path.name + MANIFEST_SUFFIX).exists()
    assert newest.exists()
    listed = await run_cli("backup", "list", "app-db", "--json", "-c", config, cwd=tmp_path)
    by_path = {Path(e["path"]): e["pruned_at"] for e in json.loads(listed.stdout)}
    assert by_path[newest] is None and all(by_path[p] is not None for p in older)


async def test_a_backup_taken_from_another_directory_is_found_from_anywhere(
    tmp_path: Path,
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    config = write_config(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    ran = await run_cli("backup", "run", "app-db", "-c", "../site/watchkeeper.yaml", cwd=elsewhere)
    verified = await run_cli("backup", "verify", "app-db", "-c", "watchkeeper.yaml", cwd=site)
    listed = await run_cli("backup", "list", "app-db", "--json", "-c", config, cwd=tmp_path)

    assert ran.code == 0, ran.stderr
    assert verified.code == 0, verified.stdout + verified.stderr
    [entry] = json.loads(listed.stdout)
    assert Path(entry["path"]).is_absolute()
    assert Path(entry["path"]).parent == site / "backups"


async def test_a_directory_that_cannot_be_made_is_a_recorded_failure(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the backups would go")
    with sqlite3.connect(tmp_path / "app.db") as db:
        db.execute("CREATE TABLE t (x)")
    config = tmp_path / "watchkeeper.yaml"
    config.write_text(
        "backups:\n  - {name: app-db, source: {sqlite: app.db}, to: not-a-directory/backups}\n"
    )

    ran = await run_cli("backup", "run", "app-db", "-c", config, cwd=tmp_path)
    listed = await run_cli("backup", "list", "app-db", "--json", "-c", config, cwd=tmp_path)

    assert ran.code == 1, ran.stderr
    assert "cannot create" in ran.stderr and "Traceback" not in ran.stderr
    [entry] = json.loads(listed.stdout)
    assert entry["state"] == "failed" and "cannot create" in entry["error"]
