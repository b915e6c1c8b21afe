"""The dashboard in a real browser: Playwright driving Debian's chromium against ``watchkeeper serve``.

An operator signs in, watches a check turn from green to red when the demo target fails (live,
without reloading), silences it and signs out; a viewer gets no controls to change anything.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.web.browser_support import (
    CHECK,
    PASSWORD,
    Dashboard,
    demo_target,
    launch_chromium,
    make_target_fail,
    serving,
)
from watchkeeper.alerting.queries import active_silences
from watchkeeper.auth.model import Role
from watchkeeper.web.security import SESSION_COOKIE

LIVE_UPDATE_MS = 20_000
"""live.js refetches every 5 s and the check runs every second: 20 s leaves room on a slow CI."""
SCREENSHOT_COPY = Path("/tmp/wk-dashboard.png")


@pytest.fixture
async def target(tmp_path: Path) -> AsyncIterator[str]:
    """The demo target's URL, healthy until a test makes it fail."""
    async with demo_target(tmp_path / "target") as url:
        yield url


@pytest.fixture
async def dashboard(tmp_path: Path, target: str) -> AsyncIterator[Dashboard]:
    """``watchkeeper serve`` watching the target, with operator olive and viewer vic."""
    async with serving(tmp_path, target, {"olive": Role.OPERATOR, "vic": Role.VIEWER}) as served:
        await served.wait_for_first_ok()
        yield served


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Debian's chromium, headless."""
    async with async_playwright() as playwright:
        launched = await launch_chromium(playwright)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def page(browser: Browser, dashboard: Dashboard) -> AsyncIterator[Page]:
    """A fresh browser context (no cookies) on the dashboard; every action waits at most 10 s."""
    context = await browser.new_context(base_url=dashboard.url)
    context.set_default_timeout(10_000)
    try:
        yield await context.new_page()
    finally:
        await context.close()


async def sign_in(page: Page, name: str, password: str = PASSWORD) -> None:
    """Fill in and send the sign-in form the page shows."""
    await page.locator('input[name="name"]').fill(name)
    await page.locator('input[name="password"]').fill(password)
    await page.locator("#login-submit").click()


async def test_operator_watches_a_check_fail_silences_it_and_signs_out(
    page: Page, dashboard: Dashboard, target: str, tmp_path: Path
) -> None:
    await page.goto("/")
    await expect(page).to_have_url(re.compile(r"/login\?next=/$"))

    await sign_in(page, "olive", "not the password")
    await expect(page.locator("#login-error")).to_be_visible()

    await sign_in(page, "olive")
    await expect(page).to_have_url(f"{dashboard.url}/")
    await expect(page.locator("body")).to_have_attribute("data-user", "olive")
    await expect(page.locator("body")).to_have_attribute("data-role", "operator")
    await expect(page.locator("#overall")).to_have_attribute("data-overall", "healthy")

    await page.goto("/checks")
    row = page.locator(f'tr[data-check="{CHECK}"]')
    await expect(row).to_have_attribute("data-state", "ok")
    # A full reload would lose this; live.js swapping <main> keeps it.
    await page.evaluate("window.sameDocument = true")

    await make_target_fail(target)
    try:
        await expect(row).to_have_attribute("data-state", "critical", timeout=LIVE_UPDATE_MS)
    finally:
        # Red when it worked, and what the page showed instead when it did not.
        shot = tmp_path / "checks-critical.png"
        await page.screenshot(path=shot, full_page=True)
        shutil.copyfile(shot, SCREENSHOT_COPY)
    assert await page.evaluate("window.sameDocument === true"), "the page was reloaded"

    await page.goto("/")
    await expect(page.locator("#overall")).to_have_attribute("data-overall", "critical")

    await page.goto(f"/checks/{CHECK}")
    await expect(page.locator("#check-state")).to_have_attribute("data-state", "critical")
    await expect(page.locator("#silenced")).to_have_count(0)
    form = page.locator("#silence-form")
    await form.locator('input[name="duration"]').fill("1h")
    await form.locator('input[name="comment"]').fill("browser test")
    await page.locator("#silence-submit").click()
    await expect(page).to_have_url(f"{dashboard.url}/checks/{CHECK}")
    await expect(page.locator("#silenced")).to_be_visible()
    with dashboard.store.engine.connect() as connection:
        silences = active_silences(connection, datetime.now(UTC))
    assert [(s.matchers, s.created_by, s.comment) for s in silences] == [
        ({"check": (CHECK,)}, "olive", "browser test")
    ]
    assert silences[0].ends_at - silences[0].starts_at == timedelta(hours=1)

    session = [c["value"] for c in await page.context.cookies() if c["name"] == SESSION_COOKIE]
    assert session, "no session cookie after signing in"
    await page.locator("#logout").click()
    await expect(page).to_have_url(re.compile(r"/login$"))
    await page.goto("/")
    await expect(page).to_have_url(re.compile(r"/login\?next=/$"))
    # The old cookie, sent again, must not sign anyone in: the session ended on the server too.
    await page.context.add_cookies(
        [{"name": SESSION_COOKIE, "value": session[0], "url": dashboard.url}]
    )
    await page.goto("/")
    await expect(page).to_have_url(re.compile(r"/login\?next=/$"))


async def test_viewer_sees_no_run_or_silence_controls(page: Page, dashboard: Dashboard) -> None:
    await page.goto(f"/checks/{CHECK}")
    await sign_in(page, "vic")
    await expect(page).to_have_url(f"{dashboard.url}/checks/{CHECK}")
    await expect(page.locator("body")).to_have_attribute("data-role", "viewer")
    await expect(page.locator("#check-state")).to_have_attribute("data-state", "ok")
    await expect(page.locator("#run-now")).to_have_count(0)
    await expect(page.locator("#silence-form")).to_have_count(0)

    # Hiding the form is not the protection: the server refuses a viewer's silence too.
    csrf = await page.locator('meta[name="csrf-token"]').get_attribute("content")
    refused = await page.request.post(
        "/silences",
        form={"csrf_token": csrf or "", "check": CHECK, "duration": "1h", "comment": "sneaky"},
        max_redirects=0,
    )
    assert refused.status == 403
    with dashboard.store.engine.connect() as connection:
        assert active_silences(connection, datetime.now(UTC)) == []
