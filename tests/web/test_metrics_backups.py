"""``/metrics`` shows each backup's newest copy, last attempt and restore test, read from the
catalogue that a real ``watchkeeper serve`` filled by taking and testing the backup itself."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator

import pytest

from tests.web.api_server import Api, running, wait_until
from tests.web.test_metrics import Figures, scrape, value

BACKUPS = """
backups:
  - name: app
    source: {sqlite: app.sqlite}
    to: backups
    schedule: daily at 02:00
    verify: {schedule: weekly on sunday at 03:00, smoke: ["SELECT count(*) FROM users"]}
  - name: by-hand
    source: {sqlite: app.sqlite}
    to: backups
"""


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """A server whose first backup pass took ``app`` and restore-tested it."""
    directory = tmp_path_factory.mktemp("metrics-backups")
    with sqlite3.connect(directory / "app.sqlite") as connection:
        connection.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")
        connection.execute("INSERT INTO users DEFAULT VALUES")
    with running(directory, failing=False, public_metrics=True, extra=BACKUPS) as server:
        wait_until(
            lambda: "watchkeeper_backup_last_verify_passed" in scrape(server),
            "the first backup and its restore test",
            timeout=30,
        )
        yield server


def test_a_backup_taken_and_tested_by_serve_shows_its_figures(api: Api) -> None:
    figures: Figures = scrape(api)

    finished = value(figures, "watchkeeper_backup_last_success_timestamp_seconds", backup="app")
    assert time.time() - 60 < finished <= time.time()
    assert value(figures, "watchkeeper_backup_size_bytes", backup="app") > 0
    assert value(figures, "watchkeeper_backup_kept", backup="app") == 1
    assert value(figures, "watchkeeper_backup_last_attempt_failed", backup="app") == 0
    assert value(figures, "watchkeeper_backup_last_verify_passed", backup="app") == 1
    assert value(figures, "watchkeeper_backup_restore_seconds", backup="app") > 0


def test_a_backup_never_taken_shows_none_kept_and_no_copy(api: Api) -> None:
    figures = scrape(api)

    assert value(figures, "watchkeeper_backup_kept", backup="by-hand") == 0
    assert value(figures, "watchkeeper_backup_kept_bytes", backup="by-hand") == 0
    success = figures["watchkeeper_backup_last_success_timestamp_seconds"]
    assert frozenset({("backup", "by-hand")}) not in success
