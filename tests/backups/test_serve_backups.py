"""Backups inside ``watchkeeper serve``: a stale backup alerts through the outbox to a real webhook,
and once a schedule is added serve takes a backup itself and the alert resolves."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.alerting.receivers import WebhookReceiver
from tests.alerting.test_serve_alerting import Serve, outbox_rows, serve, until
from watchkeeper.backups.catalogue import BackupState, entries
from watchkeeper.backups.runner import run_backup
from watchkeeper.config.loader import load_config
from watchkeeper.config.secrets import Secrets
from watchkeeper.store.store import Store

__all__ = ["serve"]  # the fixture, used by name


@pytest.fixture
async def hook() -> AsyncIterator[WebhookReceiver]:
    async with WebhookReceiver() as receiver:
        yield receiver


def _config(hook: WebhookReceiver, schedule: str = "") -> str:
    return f"""
defaults: {{interval: 300ms}}
alerting: {{defaults: {{after: 2 failures}}}}
notifications:
  channels:
    hook: ["{hook.url()}"]
backups:
  - name: app
    source: {{sqlite: app.sqlite}}
    to: backups
    max_age: 48h
    {schedule}
"""


async def test_a_backup_older_than_max_age_alerts_through_the_outbox_and_a_new_one_resolves_it(
    tmp_path: Path, hook: WebhookReceiver, serve: Callable[[str], Serve]
) -> None:
    with sqlite3.connect(tmp_path / "app.sqlite") as connection:
        connection.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")
    server = serve(_config(hook))
    loaded = load_config(server.config)
    store = Store.open(loaded.store_url)
    try:
        [backup] = loaded.config.backups
        three_days_ago = datetime.now(UTC) - timedelta(days=3)
        await run_backup(store.engine, backup, tmp_path, Secrets(), three_days_ago)
    finally:
        store.close()

    await server.start()
    await until(lambda: "[CRITICAL] backup.app is failing" in hook.titles)
    firing = next(m for m in hook.received if m["title"] == "[CRITICAL] backup.app is failing")
    assert "expected age <= max_age (age = 3d" in firing["message"]
    assert "max_age = 2d" in firing["message"]
    db = tmp_path / "watchkeeper.db"
    # The receiver has the message a moment before the outbox row is marked delivered.
    await until(
        lambda: (
            [t for t, _, delivered in outbox_rows(db) if delivered]
            == ["[CRITICAL] backup.app is failing"]
        )
    )

    # The schedule's first occurrence is now (none taken by serve yet): the reload takes one.
    server.config.write_text(_config(hook, schedule="schedule: daily at 02:00"))
    await until(lambda: "[RESOLVED] backup.app recovered" in hook.titles)
    log = await server.stop()

    assert hook.titles == ["[CRITICAL] backup.app is failing", "[RESOLVED] backup.app recovered"]
    store = Store.open(loaded.store_url)
    try:
        with store.engine.connect() as connection:
            newest, oldest = entries(connection, "app")
    finally:
        store.close()
    assert newest.state is BackupState.OK and newest.started_at > oldest.started_at
    assert newest.path is not None and newest.path.is_file()
    assert "Traceback" not in log
