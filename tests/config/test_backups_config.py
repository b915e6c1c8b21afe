"""The config of backups: the issue's example reads as written; mistakes are reported at their line."""

from __future__ import annotations

from pathlib import Path

from tests.config.test_loader import problems, write
from watchkeeper.config.loader import load_config

EXAMPLE = """\
backups:
  - name: main-db
    source: {postgres: "${DATABASE_URL}"}
    to: /var/backups/watchkeeper
    schedule: daily at 02:00
    keep: {daily: 7, weekly: 4, monthly: 12}
    max_age: 48h
    verify:
      schedule: monthly on the first sunday at 03:00
      smoke: ["SELECT count(*) FROM users"]
  - name: uploads
    source: {files: /srv/uploads}
    to: /var/backups/watchkeeper
"""


def test_the_issues_example_reads_as_written(tmp_path: Path) -> None:
    env = {"DATABASE_URL": "postgresql://app:s3cret@db/app"}
    loaded = load_config(write(tmp_path, EXAMPLE), env)
    main, uploads = loaded.config.backups
    assert main.source.kind == "postgres" and main.source.postgres == env["DATABASE_URL"]
    assert (main.keep.daily, main.keep.weekly, main.keep.monthly, main.keep.yearly) == (7, 4, 12, 0)
    assert main.max_age == 172800.0
    assert main.verify is not None and main.verify.smoke == ("SELECT count(*) FROM users",)
    assert uploads.source.kind == "files" and uploads.source.files == ("/srv/uploads",)
    assert "s3cret" not in loaded.secrets.redact(f"pg_dump failed for {main.source.postgres}")


def test_mistakes_are_reported_at_their_line(tmp_path: Path) -> None:
    text = """\
backups:
  - name: two-sources
    source: {sqlite: app.db, files: [/srv]}
    to: /backups
  - name: smoke-on-files
    source: {files: [/srv]}
    to: /backups
    verify: {smoke: ["SELECT 1"]}
  - name: negative
    source: {sqlite: app.db}
    to: /backups
    keep: {daily: -1}
"""
    found = problems(tmp_path, text)
    assert found[0].startswith("3:13:") and "exactly one of postgres" in found[0], found
    assert found[1].startswith("5:5:") and "smoke queries need a database source" in found[1], found
    assert found[2].startswith("12:19:") and "greater than or equal to 0" in found[2], found
    assert len(found) == 3, found


def test_two_backups_of_one_name_are_refused(tmp_path: Path) -> None:
    text = """\
backups:
  - {name: db, source: {sqlite: a.db}, to: /backups}
  - {name: db, source: {sqlite: b.db}, to: /backups}
"""
    assert problems(tmp_path, text) == ["3:12: duplicate backup name 'db'"]
