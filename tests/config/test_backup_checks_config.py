"""Each backup gets its own check, and ``backup:`` checks must name a configured backup."""

from __future__ import annotations

from pathlib import Path

from tests.config.test_loader import problems, write
from watchkeeper.config.loader import load_config

BACKUPS = """\
backups:
  - {name: db, source: {sqlite: app.db}, to: backups, max_age: 26h}
  - {name: files, source: {files: [srv]}, to: backups, max_age: null}
"""


def test_each_backup_gets_its_own_check_judging_age_failures_and_restore_tests(
    tmp_path: Path,
) -> None:
    config = load_config(write(tmp_path, BACKUPS)).config

    own = {c.name: c for c in config.checks}
    assert set(own) == {"backup.db", "backup.files"}
    db = own["backup.db"]
    assert db.backup is not None and db.backup.name == "db" and db.tags == ("backup",)
    assert db.expect == ("not last_failed", "not verify_failed", "age <= max_age")
    assert own["backup.files"].expect == ("not last_failed", "not verify_failed")


def test_a_check_may_watch_a_backup_with_its_own_thresholds_and_steps_may_name_its_own_check(
    tmp_path: Path,
) -> None:
    text = (
        BACKUPS
        + """\
checks:
  - name: db-restore-time
    backup: {name: db}
    warn: ["last_restore_time > 10m", "last_verified_age > 35d"]
procedures:
  - name: weekly
    steps:
      - {check: backup.db}
"""
    )
    config = load_config(write(tmp_path, text)).config

    assert [c.name for c in config.checks] == ["db-restore-time", "backup.db", "backup.files"]


def test_a_backup_check_naming_no_backup_is_reported_at_its_line(tmp_path: Path) -> None:
    text = (
        BACKUPS
        + """\
checks:
  - name: typo
    backup: {name: dbb}
"""
    )
    assert problems(tmp_path, text) == ["6:20: unknown backup 'dbb' (did you mean 'db'?)"]


def test_a_check_cannot_take_a_backups_own_check_name(tmp_path: Path) -> None:
    text = (
        BACKUPS
        + """\
checks:
  - name: backup.db
    tcp: {host: 127.0.0.1, port: 5432}
"""
    )
    [found] = problems(tmp_path, text)
    assert found.startswith("5:11: check name 'backup.db' is taken by the backup 'db'"), found
