"""Incidents and checklists in a real browser: Playwright driving Debian's chromium against
``watchkeeper serve``.

An operator opens an incident from /incidents, acknowledges it, ticks an item of its immediate
phase with one click and adds a public note; then starts a procedure run from /checklists,
ticks its manual item with one click and completes it.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.web.browser_support import PASSWORD, Dashboard, browser_page, serving
from watchkeeper.auth.model import Role
from watchkeeper.checklists.model import ItemState, RunState
from watchkeeper.checklists.runs import get_run
from watchkeeper.incidents.model import TimelineKind
from watchkeeper.incidents.timeline import entries

# The default severities (P0 to P3) and phases of the guides, and one procedure with a manual step.
CONFIG = """
store: sqlite:///{directory}/wk.db
server: {{host: 127.0.0.1, port: {port}}}
procedures:
  - name: weekly-audit
    title: Weekly security review
    schedule: weekly on monday at 10:00
    owner: Security lead
    steps:
      - manual: Review admin access logs for unusual activity
"""
SCREENSHOTS = Path("/tmp")


def operations_config(directory: Path, target: str, port: int) -> str:
    """Return CONFIG for the served store and port (no checks: the target is not watched)."""
    return CONFIG.format(directory=directory, port=port)


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Dashboard]:
    """``watchkeeper serve`` of CONFIG with operator olive; stopped with SIGTERM after the test."""
    users = {"olive": Role.OPERATOR}
    async with serving(tmp_path, "", users, operations_config) as dashboard:
        yield dashboard


@pytest.fixture
async def page(served: Dashboard) -> AsyncIterator[Page]:
    """A fresh page of Debian's chromium, headless, on the served dashboard."""
    async with browser_page(served.url) as opened:
        yield opened


async def sign_in_as_olive(page: Page) -> None:
    await page.locator('input[name="name"]').fill("olive")
    await page.locator('input[name="password"]').fill(PASSWORD)
    await page.locator("#login-submit").click()


async def test_operator_opens_acknowledges_ticks_and_notes_an_incident(
    page: Page, served: Dashboard
) -> None:
    await page.goto("/incidents")
    await sign_in_as_olive(page)
    await expect(page).to_have_url(f"{served.url}/incidents")

    form = page.locator("#open-incident-form")
    await form.locator('select[name="severity"]').select_option("P2")
    await form.locator('input[name="title"]').fill("Checkout is slow")
    await form.locator('textarea[name="summary"]').fill("p95 above 3 s since 14:00")
    await form.locator('button[type="submit"]').click()
    await expect(page).to_have_url(re.compile(r"/incidents/\d+$"))
    incident_id = int(page.url.rsplit("/", 1)[1])
    await expect(page.locator("#incident-state")).to_have_attribute("data-state", "open")
    await expect(page.locator("h1")).to_contain_text("Checkout is slow")

    await page.locator("#ack").click()
    await expect(page.locator("#incident-state")).to_have_attribute("data-state", "acknowledged")
    await expect(page.locator("#ack")).to_have_count(0)
    await expect(page.locator('[data-step="acknowledged"]')).to_contain_text("by olive")

    item = page.locator('[data-phase="immediate"] li[data-item="1"]')
    await expect(item).to_have_attribute("data-state", "pending")
    await item.locator("button.tick").click()  # one click, no dialog
    await expect(item).to_have_attribute("data-state", "passed")
    await expect(page.locator('[data-phase="immediate"] .progress')).to_have_text("1/5")
    await expect(page.locator(".timeline")).to_contain_text(
        "immediate: ✓ Assess impact and severity level"
    )

    note = page.locator("#note-form")
    await note.locator('textarea[name="text"]').fill("Rolled back the 14:02 deploy")
    await note.locator('input[name="public"]').check()
    await note.locator('button[type="submit"]').click()
    newest = page.locator(".timeline li").first
    await expect(newest).to_contain_text("Rolled back the 14:02 deploy")
    await expect(newest.locator(".badge.public")).to_be_visible()
    await page.screenshot(path=SCREENSHOTS / "wk-incident.png", full_page=True)

    with served.store.engine.connect() as connection:
        timeline = entries(connection, incident_id)
    kinds = [entry.kind for entry in timeline]
    assert kinds[0] is TimelineKind.OPENED
    assert TimelineKind.ACKNOWLEDGED in kinds
    notes = [entry for entry in timeline if entry.kind is TimelineKind.NOTE]
    assert [(n.actor, n.text, n.data.get("public")) for n in notes] == [
        ("olive", "Rolled back the 14:02 deploy", True)
    ]


async def test_operator_starts_ticks_and_completes_a_procedure_run(
    page: Page, served: Dashboard
) -> None:
    await page.goto("/checklists")
    await sign_in_as_olive(page)
    await expect(page).to_have_url(f"{served.url}/checklists")

    await page.locator("#start-weekly-audit").click()
    await expect(page).to_have_url(re.compile(r"/checklists/\d+$"))
    run_id = int(page.url.rsplit("/", 1)[1])

    await page.goto("/checklists")
    card = page.locator(f'[data-section="today"] #run-{run_id}')
    item = card.locator('li[data-item="1"]')
    await expect(item).to_have_attribute("data-state", "pending")
    await item.locator("button.tick").click()  # one click, from the overview
    await expect(item).to_have_attribute("data-state", "passed")
    await expect(card.locator(".progress")).to_have_text("1/1")

    await card.locator("h3 a").click()
    await expect(page).to_have_url(f"{served.url}/checklists/{run_id}")
    await page.locator("#complete").click()
    await expect(page.locator("#run-state")).to_have_attribute("data-state", "completed")
    await expect(page.locator("#completed-by")).to_contain_text("olive")
    await expect(page.locator("#complete")).to_have_count(0)
    await page.screenshot(path=SCREENSHOTS / "wk-checklist.png", full_page=True)

    await page.goto("/checklists")
    await expect(page.locator(f"#run-{run_id}")).to_have_attribute("data-state", "completed")

    with served.store.engine.connect() as connection:
        run = get_run(connection, run_id)
    assert run is not None
    assert (run.state, run.completed_by) == (RunState.COMPLETED, "olive")
    assert [(i.state, i.decided_by) for i in run.items] == [(ItemState.PASSED, "olive")]
