"""The sample weekly report checked in at examples/reports/ (written by generate.py from an hour
of the demo) is whole: every section in order, in Markdown and in one HTML page with charts and
nothing that runs or is fetched."""

from __future__ import annotations

from pathlib import Path

from tests.reports.test_render import parsed
from watchkeeper.reports.model import Section

SAMPLES = Path(__file__).resolve().parents[2] / "examples" / "reports"


def test_the_sample_markdown_has_every_section_in_order_and_the_hours_events() -> None:
    text = (SAMPLES / "weekly.md").read_text(encoding="utf-8")
    headings = [line[3:] for line in text.splitlines() if line.startswith("## ")]

    assert text.startswith("# Watchkeeper weekly report, ")
    assert headings == [s.value for s in Section]
    # What generate.py made happen: the outage's incident, its restore test, the burst.
    assert "| P1 | 1 |" in text
    assert "| app-db |" in text
    assert "burst" in text


def test_the_sample_html_is_one_page_with_charts_and_nothing_that_runs() -> None:
    page = parsed((SAMPLES / "weekly.html").read_text(encoding="utf-8"))

    assert page.tags.count("svg") >= 10
    assert not {"script", "link", "img", "iframe"} & set(page.tags)
    assert page.loads == []
