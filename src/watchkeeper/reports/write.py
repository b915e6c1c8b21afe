"""One report written out: gathered from the store, then rendered in Markdown and HTML."""

from __future__ import annotations

from datetime import datetime

from watchkeeper.config.reports import ReportPeriod
from watchkeeper.config.schema import Config
from watchkeeper.config.secrets import Secrets
from watchkeeper.reports.archive import Written
from watchkeeper.reports.gather import build_report
from watchkeeper.reports.html import to_html
from watchkeeper.reports.markdown import to_markdown
from watchkeeper.store.store import Store


def write_report(
    store: Store, config: Config, period: ReportPeriod, until: datetime, secrets: Secrets
) -> Written:
    """Given the store, the config, a period and when it ends, return the report over it in both
    forms, with the config's secrets redacted."""
    report = build_report(store, config, period, until, secrets=secrets)
    return Written(report.title, report.summary, to_markdown(report), to_html(report))
