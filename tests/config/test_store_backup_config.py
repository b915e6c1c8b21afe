"""The config of a backup of Watchkeeper's own store: ``source: {watchkeeper_store: true}``."""

from __future__ import annotations

from pathlib import Path

from tests.config.test_loader import problems, write
from watchkeeper.config.loader import load_config


def test_the_store_is_a_source_that_can_be_scheduled_and_smoke_tested(tmp_path: Path) -> None:
    text = """\
backups:
  - name: self
    source: {watchkeeper_store: true}
    to: /var/backups/watchkeeper
    schedule: daily at 03:00
    verify: {smoke: ["SELECT count(*) FROM backup_catalogue"]}
"""
    [backup] = load_config(write(tmp_path, text), {}).config.backups

    assert backup.source.kind == "watchkeeper_store" and backup.source.watchkeeper_store is True
    assert backup.schedule == "daily at 03:00"


def test_false_or_a_second_kind_beside_the_store_is_a_mistake_at_its_line(tmp_path: Path) -> None:
    text = """\
backups:
  - name: disabled
    source: {watchkeeper_store: false}
    to: /backups
  - name: both
    source: {watchkeeper_store: true, sqlite: app.db}
    to: /backups
"""
    found = problems(tmp_path, text)

    assert found[0].startswith("3:13:") and "only true makes sense" in found[0], found
    assert found[1].startswith("6:13:") and "or watchkeeper_store: true" in found[1], found
    assert len(found) == 2, found
