"""Commands about checks: validate, init, check, status, history."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from watchkeeper.cli.common import (
    EXIT_CANNOT_RUN,
    EXIT_CODES,
    STATUS_STYLE,
    ConfigOption,
    JsonOption,
    app,
    err,
    load,
    open_store,
    out,
)
from watchkeeper.config.loader import ConfigError, load_config
from watchkeeper.config.schema import Config
from watchkeeper.config.units import format_duration
from watchkeeper.engine.evaluator import Rules, summarize
from watchkeeper.results import Result, Status, worst
from watchkeeper.starter import STARTER_CONFIG
from watchkeeper.store.store import StoreError


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Config files to check.", show_default=False)],
) -> None:
    """Check config files; print FILE:LINE:COLUMN: problem lines and exit 1 if any is invalid."""
    invalid = False
    for file in files:
        try:
            loaded = load_config(file)
        except ConfigError as exc:
            invalid = True
            for problem in exc.problems:
                out.print(str(problem), markup=False)
            continue
        out.print(f"{file}: ok ({len(loaded.config.checks)} checks)", markup=False)
    raise typer.Exit(1 if invalid else 0)


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Where to write the starter file.")] = Path(
        "watchkeeper.yaml"
    ),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented starter config that validates."""
    if path.exists() and not force:
        err.print(f"[red]{path} exists[/]; pass --force to overwrite it")
        raise typer.Exit(1)
    path.write_text(STARTER_CONFIG, encoding="utf-8")
    out.print(
        f"wrote {path}; next: `watchkeeper validate {path}` and `watchkeeper check -c {path}`"
    )


@app.command()
def check(
    config: ConfigOption = None,
    only: Annotated[
        list[str] | None, typer.Option("--only", help="Run only this check (repeatable).")
    ] = None,
    as_json: JsonOption = False,
    store: Annotated[bool, typer.Option(help="Keep the results in the store.")] = True,
) -> None:
    """Run checks once now. Exit 0 if all ok, 1 if any warning, 2 if any critical or error."""
    from watchkeeper.engine.once import run_once
    from watchkeeper.readers import probe_context

    loaded = load(config)
    names = set(only or [])
    unknown = names - {c.name for c in loaded.config.checks}
    if unknown:
        err.print(f"[red]no such check:[/] {', '.join(sorted(unknown))}")
        raise typer.Exit(EXIT_CANNOT_RUN)
    not_stored = None
    # Some checks read the store (backups, pushes, other checks' history), even with --no-store.
    reads = any(c.spec.reads_store for c in loaded.config.checks if not names or c.name in names)
    st = open_store(loaded) if store or reads else None
    try:
        ctx = probe_context(st, lambda: loaded.config)
        results = asyncio.run(run_once(loaded, names or None, ctx))
        if store and st is not None:
            try:
                st.insert_results(results)
            except StoreError as exc:
                not_stored = loaded.secrets.redact(str(exc))
    finally:
        if st is not None:
            st.close()
    if as_json:
        out.print_json(json.dumps([_result_json(r) for r in results]))
    else:
        _print_results(results, "Results")
    if not_stored:
        err.print(f"[red]the results were not stored:[/] {escape(not_stored)}")
        raise typer.Exit(EXIT_CANNOT_RUN)
    raise typer.Exit(EXIT_CODES[worst([r.status for r in results])])


@app.command()
def status(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Show the latest result of every check, from the store."""
    loaded = load(config)
    st = open_store(loaded)
    try:
        latest = st.latest()
    finally:
        st.close()
    configured = [c.name for c in loaded.config.checks]
    results = _summarised([latest[name] for name in configured if name in latest], loaded.config)
    never = [name for name in configured if name not in latest]
    if as_json:
        rows = [_result_json(r) for r in results]
        rows += [{"name": n, "status": None, "message": "never run"} for n in never]
        out.print_json(json.dumps(rows))
        return
    _print_results(results, "Latest results", never_run=never)


@app.command()
def history(
    name: Annotated[str, typer.Argument(help="The check's name.")],
    config: ConfigOption = None,
    limit: Annotated[int, typer.Option(help="How many results, newest first.")] = 20,
    as_json: JsonOption = False,
) -> None:
    """Show a check's recent results, newest first."""
    loaded = load(config)
    st = open_store(loaded)
    try:
        results = _summarised(st.history(name, limit=limit), loaded.config)
    finally:
        st.close()
    if as_json:
        out.print_json(json.dumps([_result_json(r) for r in results]))
        return
    if not results:
        err.print(f"no results for {name!r}")
        raise typer.Exit(1)
    _print_results(results, f"History of {name}", show_time=True)


def _summarised(results: list[Result], config: Config) -> list[Result]:
    """Give passing results stored without a message (as serve stores them) a summary of their values."""
    checks = {c.name: c for c in config.checks}
    for r in results:
        check = checks.get(r.check)
        if r.status is Status.OK and not r.message and check is not None:
            spec = check.spec
            rules = Rules.parse(
                check.expect, check.warn, check.critical, spec.default_expect, spec.default_warn
            )
            r.message = summarize(rules, r.measurements)
    return results


def _result_json(r: Result) -> dict[str, Any]:
    return {
        "name": r.check,
        "status": r.status.value,
        "started_at": r.started_at.isoformat(),
        "duration_ms": r.duration_ms,
        "message": r.message,
        "measurements": r.measurements,
    }


def _print_results(
    results: list[Result],
    title: str,
    *,
    never_run: Sequence[str] = (),
    show_time: bool = False,
) -> None:
    """Print results as a table: by check with their age, or (``show_time``) by when they ran."""
    now = datetime.now(UTC)
    table = Table(title=title, title_justify="left")
    table.add_column("when" if show_time else "check")
    table.add_column("status")
    if not show_time:
        table.add_column("age", justify="right")
    table.add_column("took", justify="right")
    table.add_column("message", overflow="fold")
    for r in results:
        style = STATUS_STYLE[r.status]
        cells = [
            r.started_at.strftime("%Y-%m-%d %H:%M:%S UTC") if show_time else r.check,
            f"[{style}]{r.status.value}[/]",
        ]
        if not show_time:
            age = max(1.0, round((now - r.started_at).total_seconds()))
            cells.append(format_duration(age) + " ago")
        table.add_row(*cells, f"{r.duration_ms:.0f}ms", escape(r.message))
    for name in never_run:
        table.add_row(name, "[dim]never run[/]", "", "", "")
    out.print(table)
