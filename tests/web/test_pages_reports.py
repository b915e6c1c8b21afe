"""The report pages over real HTTP: ``/reports`` lists kept reports and the scheduled ones, an
operator writes one with a click, and ``/reports/ID`` shows it as a page that runs no script."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.web.test_pages import Site, check_state, eventually, field, serving

CONFIG = """
checks:
  - name: refused
    service: db
    tcp: {host: 127.0.0.1, port: 9}
    interval: 1s
reports:
  - name: ops-weekly
    period: weekly
    schedule: weekly on monday at 08:00
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with serving(tmp_path_factory.mktemp("report-pages"), 0, text=CONFIG) as running:
        yield running


def test_an_operator_writes_a_report_from_the_page_and_reads_it(site: Site) -> None:
    with site.sign_in("olga") as browser:
        # Results first, so the report has a chart to draw.
        eventually(lambda: check_state(browser, "refused") != "pending")
        listing = browser.get("/reports").text
        assert "ops-weekly" in listing and "weekly on monday at 08:00" in listing
        answer = browser.post(
            "/reports/new", data={"csrf_token": field(listing), "period": "daily"}
        )
        assert answer.status_code == 303
        shown = browser.get(answer.headers["location"])
        assert shown.status_code == 200
        policy = shown.headers["content-security-policy"]
        assert policy.startswith("default-src 'none'") and "script" not in policy
        assert "<svg" in shown.text and "<script" not in shown.text
        report_id = answer.headers["location"].rsplit("/", 1)[1]
        listed = browser.get("/reports").text
        assert re.search(rf'data-report="{report_id}" data-state="ready"', listed)
        assert browser.get(f"/reports/{report_id}.md").text.startswith("#")
        assert browser.get("/reports/999999").status_code == 404


def test_a_viewer_reads_reports_but_has_no_write_button_and_cannot_post(site: Site) -> None:
    with site.sign_in("vic") as browser:
        listing = browser.get("/reports").text
        assert 'id="write-report"' not in listing
        refused = browser.post("/reports/new", data={"csrf_token": "x", "period": "daily"})
        assert refused.status_code == 403
