"""``watchkeeper report daily|weekly|monthly|quarterly [--format md|html] [--out PATH]``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

from tests.cli_run import run_cli
from watchkeeper.results import Result, Status
from watchkeeper.store.store import Store

CONFIG = """
checks:
  - name: api
    service: backend
    http: {url: "http://127.0.0.1:9/"}
"""


def plant(url: str, ms: float) -> None:
    """Write 100 api results of the last day, one failing, into the store at ``url``."""
    now = datetime.now(UTC)
    store = Store.open(url)
    store.insert_results(
        [Result("api", now - timedelta(minutes=10 * i), Status.OK, ms) for i in range(1, 100)]
        + [Result("api", now - timedelta(hours=20), Status.CRITICAL, ms)]
    )
    store.close()


def setup(tmp_path: Path) -> Path:
    config = tmp_path / "watchkeeper.yaml"
    config.write_text(CONFIG)
    plant(f"sqlite:///{tmp_path / 'watchkeeper.db'}", 42.0)
    return config


async def test_a_weekly_report_prints_markdown(tmp_path: Path) -> None:
    config = setup(tmp_path)

    ran = await run_cli("report", "weekly", "-c", config)

    assert ran.code == 0, ran.stderr
    assert ran.stdout.startswith("# Watchkeeper weekly report, ")
    assert "| backend | 99.00% | \N{EN DASH} | 1 | 100 |" in ran.stdout
    assert "## Recommended actions" in ran.stdout


async def test_html_goes_to_the_file_given(tmp_path: Path) -> None:
    config = setup(tmp_path)
    out = tmp_path / "reports" / "daily.html"
    out.parent.mkdir()

    ran = await run_cli("report", "daily", "--format", "html", "--out", out, "-c", config)

    assert ran.code == 0, ran.stderr
    assert ran.stdout.strip() == f"wrote the daily report to {out}"
    tags: list[str] = []
    parser = HTMLParser()
    parser.handle_starttag = lambda tag, attrs: tags.append(tag)  # type: ignore[method-assign]
    parser.feed(out.read_text(encoding="utf-8"))
    assert tags[0] == "html" and "svg" in tags


async def test_store_option_reads_another_store(tmp_path: Path) -> None:
    config = setup(tmp_path)
    other = tmp_path / "other.db"
    plant(f"sqlite:///{other}", 900.0)

    ran = await run_cli("report", "daily", "--store", f"sqlite:///{other}", "-c", config)

    assert ran.code == 0, ran.stderr
    assert "| 900 ms |" in ran.stdout


async def test_without_a_config_or_with_a_bad_period_it_cannot_run(tmp_path: Path) -> None:
    missing = await run_cli("report", "weekly", "-c", tmp_path / "nope.yaml")
    bad = await run_cli("report", "yearly", "-c", setup(tmp_path))
    unwritable = await run_cli(
        "report", "weekly", "--out", tmp_path / "no" / "dir.md", "-c", tmp_path / "watchkeeper.yaml"
    )

    assert missing.code == 3 and "no config at" in missing.stderr
    assert bad.code == 2 and "yearly" in bad.stderr
    assert unwritable.code == 3 and "cannot write" in unwritable.stderr
