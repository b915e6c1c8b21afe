"""The progress shown on a terminal while long work runs: a spinner, the time taken, and the size
of a file being written."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

from rich.filesize import decimal
from rich.markup import escape
from rich.progress import (
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from watchkeeper.cli.common import err


class _Written(ProgressColumn):
    """How large the file a dump writes has grown, read at every refresh of the display."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.seen = 0

    def render(self, task: Task) -> Text:
        # Gone once renamed to its final name: keep showing the last size seen.
        with contextlib.suppress(OSError):
            self.seen = max(self.seen, self.path.stat().st_size)
        return Text(f"{decimal(self.seen)} written", style="progress.filesize")


@contextlib.contextmanager
def working(description: str, growing: Path | None = None) -> Iterator[None]:
    """While the block runs, show a transient spinner with the elapsed time (and the size of the
    file ``growing``) when stderr is a terminal; otherwise show nothing."""
    if not err.is_terminal:
        yield
        return
    columns: list[ProgressColumn] = [
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
    ]
    if growing is not None:
        columns.append(_Written(growing))
    stderr = sys.stderr
    with Progress(*columns, console=err, transient=True) as progress:
        progress.add_task(escape(description), total=None)
        # Log lines go through Rich's stand-in for stderr, above the display, not across it.
        handlers = [
            h
            for h in logging.getLogger().handlers
            if isinstance(h, logging.StreamHandler) and h.stream is stderr
        ]
        for handler in handlers:
            handler.setStream(sys.stderr)
        try:
            yield
        finally:
            for handler in handlers:
                handler.setStream(stderr)
