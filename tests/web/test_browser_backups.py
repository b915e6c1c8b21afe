"""Backups in a real browser: Playwright driving Debian's chromium against ``watchkeeper serve``,
which took and restore-tested a backup on its first pass, and a backup that has never run."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.web.browser_support import PASSWORD, Dashboard, browser_page, serving
from watchkeeper.auth.model import Role
from watchkeeper.backups.verify import recent_verifications

CONFIG = """
store: sqlite:///{directory}/wk.db
server: {{host: 127.0.0.1, port: {port}}}
backups:
  - name: app-db
    source: {{sqlite: app.sqlite}}
    to: backups
    schedule: daily at 02:00
    verify: {{schedule: weekly on sunday at 03:00, smoke: ["SELECT count(*) FROM users"]}}
  - name: uploads
    source: {{files: [uploads]}}
    to: backups
"""


def backups_config(directory: Path, target: str, port: int) -> str:
    """Return CONFIG for the served store and port, with the database it backs up."""
    with sqlite3.connect(directory / "app.sqlite") as connection:
        connection.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")
        connection.execute("INSERT INTO users DEFAULT VALUES")
    return CONFIG.format(directory=directory, port=port)


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Dashboard]:
    async with serving(tmp_path, "", {"vera": Role.VIEWER}, backups_config) as dashboard:
        yield dashboard


@pytest.fixture
async def page(served: Dashboard) -> AsyncIterator[Page]:
    """A fresh page of Debian's chromium, headless, on the served dashboard."""
    async with browser_page(served.url, timeout_ms=20_000) as opened:
        yield opened


async def until_tested(served: Dashboard, backup: str, timeout: float = 30) -> None:
    """Wait until serve's first backup pass has taken ``backup`` and restore-tested it."""
    async with asyncio.timeout(timeout):
        while True:
            with served.store.engine.connect() as connection:
                if recent_verifications(connection, backup):
                    return
            await asyncio.sleep(0.2)


async def test_a_viewer_sees_each_backups_health_and_opens_its_catalogue(
    page: Page, served: Dashboard
) -> None:
    await until_tested(served, "app-db")
    await page.goto("/backups")
    await page.locator('input[name="name"]').fill("vera")
    await page.locator('input[name="password"]').fill(PASSWORD)
    await page.locator("#login-submit").click()
    await expect(page).to_have_url(f"{served.url}/backups")

    app_db = page.locator('tr[data-backup="app-db"]')
    await expect(app_db.locator(".badge").first).to_have_text("ok")
    await expect(app_db.locator(".verified")).to_contain_text("passed")
    uploads = page.locator('tr[data-backup="uploads"]')
    await expect(uploads.locator(".badge").first).to_have_text("none")
    await expect(uploads.locator(".next")).to_contain_text("not scheduled")
    await page.screenshot(path="/tmp/backups.png", full_page=True)

    await app_db.get_by_role("link", name="app-db").click()
    await expect(page).to_have_url(f"{served.url}/backups/app-db")
    await expect(page.locator("#backup-health")).to_have_text("ok")
    rows = page.locator("#catalogue tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_have_attribute("data-state", "ok")
    await expect(page.locator("body")).to_contain_text("passed")
    await page.screenshot(path="/tmp/backup.png", full_page=True)
