"""Reports through a real ``watchkeeper serve``: one written on its schedule is kept and its summary
queued to its channel; one written by hand over the API; both read as Markdown and HTML."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from tests.reports.test_render import parsed
from tests.web.api_server import Api, running, wait_until
from watchkeeper.auth.model import Role
from watchkeeper.store.tables import outbox

EXTRA = """
reports:
  - name: quick
    period: daily
    schedule: 2s
    notify: pager
"""


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with running(tmp_path_factory.mktemp("reports"), extra=EXTRA) as started:
        # Some results first, so the reports have figures to show.
        started.wait_for_state("target", "ok")
        yield started


def ready(api: Api, name: str) -> dict[str, Any] | None:
    listed = api.get(f"/api/reports?name={name}", Role.VIEWER).json()
    return next((r for r in listed if r["state"] == "ready"), None)


def test_a_scheduled_report_is_kept_and_its_summary_queued_to_its_channel(api: Api) -> None:
    report = wait_until(lambda: ready(api, "quick"), "a scheduled report", timeout=30)
    assert report["period"] == "daily"
    assert report["title"] and report["summary"]
    markdown = api.get(f"/api/reports/{report['id']}/md", Role.VIEWER)
    assert markdown.status_code == 200
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert "target" in markdown.text
    html = api.get(f"/api/reports/{report['id']}/html", Role.VIEWER)
    assert html.headers["content-type"].startswith("text/html")
    page = parsed(html.text)
    assert "svg" in page.tags and "script" not in page.tags
    with api.store.engine.connect() as connection:
        sent = connection.execute(
            select(outbox.c.title, outbox.c.body).where(outbox.c.channel == "pager")
        ).all()
    assert (report["title"], report["summary"]) in [(row.title, row.body) for row in sent]


def test_an_operator_writes_a_report_now_and_a_viewer_may_not(api: Api) -> None:
    assert api.post("/api/reports", Role.VIEWER, json={"period": "weekly"}).status_code == 403
    resp = api.post("/api/reports", Role.OPERATOR, json={"period": "weekly", "name": "ad-hoc"})
    assert resp.status_code == 201, resp.text
    written = resp.json()
    assert (written["name"], written["period"], written["state"]) == ("ad-hoc", "weekly", "ready")
    assert api.get(f"/api/reports/{written['id']}", Role.VIEWER).json() == written
    assert written["id"] in [r["id"] for r in api.get("/api/reports", Role.VIEWER).json()]
    assert api.get("/api/reports/999999/html", Role.VIEWER).status_code == 404
    assert api.post("/api/reports", Role.OPERATOR, json={"period": "yearly"}).status_code == 422
