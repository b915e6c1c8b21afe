"""The ``report`` command: a daily, weekly, monthly or quarterly report in Markdown or HTML."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from watchkeeper.cli.common import EXIT_CANNOT_RUN, ConfigOption, app, err, load, open_store, out
from watchkeeper.reports.archive import ReportFormat
from watchkeeper.reports.gather import build_report
from watchkeeper.reports.html import to_html
from watchkeeper.reports.markdown import to_markdown
from watchkeeper.reports.model import Period


@app.command("report")
def report(
    period: Annotated[
        Period, typer.Argument(help="daily, weekly, monthly or quarterly.", show_default=False)
    ],
    fmt: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="Markdown or one HTML page.")
    ] = ReportFormat.MARKDOWN,
    out_path: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write it to this file instead of printing it."),
    ] = None,
    config: ConfigOption = None,
    store_url: Annotated[
        str | None,
        typer.Option(
            "--store", help="Read this store instead of the config's.", show_default=False
        ),
    ] = None,
) -> None:
    """Write a report over the last day, week, 30 or 91 days, against the period before: uptime,
    latency, incidents, checklists, backups, errors, trends, forecasts, SLOs and actions."""
    loaded = load(config)
    store = open_store(loaded, store_url)
    try:
        built = build_report(
            store, loaded.config, period, datetime.now(UTC), secrets=loaded.secrets
        )
    finally:
        store.close()
    text = to_html(built) if fmt is ReportFormat.HTML else to_markdown(built)
    if out_path is None:
        sys.stdout.write(text)
        return
    try:
        out_path.write_text(text, encoding="utf-8")
    except OSError as exc:
        err.print(
            f"[red]cannot write {escape(str(out_path))}:[/] {escape(exc.strerror or str(exc))}"
        )
        raise typer.Exit(EXIT_CANNOT_RUN) from None
    out.print(f"wrote the {period.value} report to {escape(str(out_path))}")
