"""A report as Markdown: headings, paragraphs, tables and Unicode sparklines for charts."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from watchkeeper.reports.formats import DASH, when
from watchkeeper.reports.model import Report, Section
from watchkeeper.reports.tables import Table, parts

# Characters that would start markup, a link, a table cell or an HTML tag in a cell or a line.
_SPECIAL = re.compile(r"([\\`*_\[\]|#])")
# An ampersand that would start a character reference; "<" alone is enough to start a tag.
_ENTITY = re.compile(r"&(?=#?\w+;)")


def to_markdown(report: Report) -> str:
    """Given a report, return it as one Markdown document, its sections in order."""
    tz = ZoneInfo(report.timezone)
    blocks = [
        f"# {text(report.title)}",
        f"{when(report.since, tz)} to {when(report.until, tz)} ({text(report.timezone)})",
    ]
    for part in parts(report):
        blocks.append(f"## {part.section.value}")
        if part.section is Section.ACTIONS and report.actions:
            blocks.append("\n".join(f"{n}. {text(p)}" for n, p in enumerate(part.paragraphs, 1)))
        elif part.section is Section.SUMMARY:
            # Two trailing spaces: a line break inside one paragraph.
            blocks.append("\n".join(f"{text(line)}  " for line in part.paragraphs))
        else:
            blocks += [text(paragraph) for paragraph in part.paragraphs]
        blocks += ["\n".join(_table(table)) for table in part.tables]
    return "\n\n".join(blocks) + "\n"


def text(value: str) -> str:
    """Given plain text, return it escaped for Markdown: no markup, tags or cell breaks."""
    escaped = _SPECIAL.sub(r"\\\1", " ".join(value.split()))
    return _ENTITY.sub("&amp;", escaped).replace("<", "&lt;")


def _table(table: Table) -> list[str]:
    lines = [f"**{text(table.caption)}**", ""] if table.caption else []
    lines.append("| " + " | ".join(text(h) for h in table.headers) + " |")
    lines.append("|" + "|".join("---" for _ in table.headers) + "|")
    if not table.rows:
        lines.append("| " + " | ".join([DASH] * len(table.headers)) + " |")
    lines += ["| " + " | ".join(text(cell) for cell in row) + " |" for row in table.rows]
    return lines
