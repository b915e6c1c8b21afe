"""``watchkeeper backup verify``, run as a user would: a real process, store and SQLite file."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.cli_run import run_cli


async def test_verify_exits_0_when_it_passes_2_when_the_file_is_corrupt_and_1_with_nothing(
    tmp_path: Path,
) -> None:
    with sqlite3.connect(tmp_path / "app.db") as db:
        db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
        db.execute("INSERT INTO users (name) VALUES ('ana')")
    config = tmp_path / "watchkeeper.yaml"
    config.write_text("""
backups:
  - name: app-db
    source: {sqlite: app.db}
    to: backups
    verify: {smoke: ["SELECT count(*) FROM users"]}
  - name: never-taken
    source: {sqlite: app.db}
    to: backups
""")
    taken = await run_cli("backup", "run", "app-db", "-c", config, cwd=tmp_path)
    assert taken.code == 0, taken.stderr
    listed = await run_cli("backup", "list", "app-db", "--json", "-c", config, cwd=tmp_path)
    [entry] = json.loads(listed.stdout)

    passed = await run_cli("backup", "verify", "app-db", "-c", config, cwd=tmp_path)

    assert passed.code == 0, passed.stderr
    assert "passed:" in passed.stdout and "restored in" in passed.stdout

    backup_file = Path(entry["path"])
    data = bytearray(backup_file.read_bytes())
    data[100] ^= 0xFF
    backup_file.write_bytes(bytes(data))
    failed = await run_cli(
        "backup", "verify", "app-db", "--entry", str(entry["id"]), "-c", config, cwd=tmp_path
    )

    assert failed.code == 2, failed.stderr
    assert "failed:" in failed.stdout and "checksum mismatch" in failed.stdout

    nothing = await run_cli("backup", "verify", "never-taken", "-c", config, cwd=tmp_path)
    unknown_entry = await run_cli(
        "backup", "verify", "app-db", "--entry", "999", "-c", config, cwd=tmp_path
    )

    assert nothing.code == 1 and "no good backup of never-taken to verify" in nothing.stderr
    assert unknown_entry.code == 1 and "no catalogue entry 999 of app-db" in unknown_entry.stderr
