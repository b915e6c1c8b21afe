"""Reports written as Markdown and as one self-contained HTML page."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.reports.planted import NOW, WEEK, config, planted_store, results_of
from watchkeeper.config.schema import Config
from watchkeeper.reports.gather import build_report
from watchkeeper.reports.html import to_html
from watchkeeper.reports.markdown import to_markdown
from watchkeeper.reports.model import EMPTY, Period, Report, Section
from watchkeeper.results import Result, Status
from watchkeeper.store.store import Store

HOSTILE = "<script>alert(1)</script>"


class Page(HTMLParser):
    """What a page holds: its start tags, attributes that load something, and its text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.loads: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.loads += [f"{tag} {k}={v}" for k, v in attrs if k in {"src", "href"}]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


@pytest.fixture
async def weekly(tmp_path: Path) -> Report:
    store, config = await planted_store(tmp_path)
    try:
        return build_report(store, config, Period.WEEKLY, NOW)
    finally:
        store.close()


@pytest.fixture
def empty(tmp_path: Path) -> Report:
    store = Store.open(str(tmp_path / "empty.db"))
    try:
        return build_report(store, Config(), Period.MONTHLY, NOW)
    finally:
        store.close()


@pytest.fixture
def hostile(tmp_path: Path) -> Report:
    """A report where a service name and an error's text are HTML."""
    store = Store.open(str(tmp_path / "hostile.db"))
    config = Config.model_validate(
        {
            "checks": [
                {"name": "api", "service": HOSTILE, "http": {"url": "http://127.0.0.1:9/"}},
                {"name": "app-log", "log": {"paths": ["app.log"]}},
            ]
        }
    )
    store.insert_results(
        [
            *results_of("api", NOW - WEEK, 20.0, failing=3),
            Result(
                "app-log",
                NOW - timedelta(minutes=1),
                Status.WARNING,
                1.0,
                measurements={
                    "top_errors": [
                        {"fingerprint": "x|y", "text": HOSTILE, "count": 3, "example": HOSTILE}
                    ]
                },
            ),
        ]
    )
    store.rollup(NOW)
    try:
        return build_report(store, config, Period.WEEKLY, NOW)
    finally:
        store.close()


def test_markdown_has_every_section_in_order(weekly: Report) -> None:
    text = to_markdown(weekly)
    headings = [line[3:] for line in text.splitlines() if line.startswith("## ")]

    assert headings == [s.value for s in Section]
    assert text.startswith("# Watchkeeper weekly report, 2026-11-23\n")
    assert "| api | backend | ok | 99.50% | 1 | 140 ms | 140 ms | 100 ms | +40% |" in text
    assert "| P1 | 1 | 5m | 1.1h | 0 | 0 | 0 |" in text
    assert "| api-trend | 140ms | 100ms | +40% | 3.2% | yes |" in text
    assert (
        "1. Investigate “timeout connecting to &lt;db>”: 34 in 24h — recurring, > 10: escalate (now)"
        in text
    )
    assert EMPTY not in text


def test_markdown_charts_are_unicode_sparklines(weekly: Report) -> None:
    api_row = next(line for line in to_markdown(weekly).splitlines() if line.startswith("| api |"))

    spark = api_row.split("|")[-2].strip()
    assert len(spark) == 24 and set(spark) <= set("▁▂▃▄▅▆▇█ ")


def test_empty_sections_say_nothing_in_this_period(empty: Report) -> None:
    text = to_markdown(empty)
    blocks = text.split("## ")[1:]

    assert [b.splitlines()[0] for b in blocks] == [s.value for s in Section]
    for block in blocks[1:]:
        assert block.splitlines()[2] == EMPTY, block
    # Nothing measured is not "OK".
    assert empty.summary.startswith("Status: NO RESULTS YET; uptime ")


def test_html_is_one_page_with_svg_charts_and_nothing_external(weekly: Report) -> None:
    page = parsed(to_html(weekly))
    text = " ".join(page.text)

    assert page.tags.count("svg") >= 1
    assert page.tags.count("section") == len(Section)
    assert "script" not in page.tags and "link" not in page.tags and "img" not in page.tags
    assert page.loads == []
    assert "99.50%" in text and "Plan capacity for disk-forecast: full in ~12 days" in text


def test_empty_html_sections_say_nothing_in_this_period(empty: Report) -> None:
    page = parsed(to_html(empty))

    assert " ".join(page.text).count(EMPTY) == len(Section) - 1
    assert "svg" not in page.tags


def test_html_escapes_user_supplied_text(hostile: Report) -> None:
    html = to_html(hostile)
    page = parsed(html)

    assert "script" not in page.tags
    assert HOSTILE not in html
    assert HOSTILE in " ".join(page.text)  # shown as text, not run


def test_markdown_escapes_user_supplied_text(hostile: Report) -> None:
    text = to_markdown(hostile)

    assert "<script>" not in text
    assert "&lt;script>alert(1)&lt;/script>" in text
    assert "| x\\|y | 3 |" in text  # a pipe does not split the cell


def test_an_overspent_error_budget_says_how_many_times_over(weekly: Report) -> None:
    (slo,) = weekly.slos
    overspent = dataclasses.replace(
        weekly, slos=(dataclasses.replace(slo, budget_remaining=-150.0),)
    )

    assert "none: spent 2 times over" in to_markdown(overspent)
    assert "| 12% |" in to_markdown(weekly)


def test_a_check_watched_for_an_hour_is_charted_over_that_hour_not_the_week(
    tmp_path: Path,
) -> None:
    store = Store.open(str(tmp_path / "wk.db"))
    start = NOW - timedelta(hours=1)
    store.insert_results(
        [Result("api", start + timedelta(seconds=10 * i), Status.OK, 100.0) for i in range(360)]
    )
    store.rollup(NOW)
    page = to_html(build_report(store, config(), Period.WEEKLY, NOW))
    store.close()

    # The axis reads times within the hour, not the days of the week.
    assert re.search(r">23:[0-5][0-9]<", page)
    assert "Nov 17" not in page
