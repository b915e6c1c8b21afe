"""The ``watchkeeper`` command: thin wrappers over the config, engine, store and server."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from watchkeeper import __version__
from watchkeeper.config.loader import ConfigError, LoadedConfig, load_config
from watchkeeper.config.secrets import RedactingFilter, Secrets
from watchkeeper.config.units import format_duration
from watchkeeper.results import Result, Status, worst
from watchkeeper.starter import STARTER_CONFIG
from watchkeeper.store.store import Store, StoreError

app = typer.Typer(
    help="Run your maintenance guide: checks, thresholds and history from one YAML file.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

EXIT_CODES = {Status.OK: 0, Status.WARNING: 1, Status.CRITICAL: 2, Status.ERROR: 2}
EXIT_CANNOT_RUN = 3
STATUS_STYLE = {
    Status.OK: "green",
    Status.WARNING: "yellow",
    Status.CRITICAL: "red",
    Status.ERROR: "magenta",
}

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="Config file; default $WATCHKEEPER_CONFIG, then ./watchkeeper.yaml.",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def main() -> None:
    """Entry point of the ``watchkeeper`` script."""
    app()


def _print_version(value: bool) -> None:
    if value:
        out.print(f"watchkeeper {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=_print_version, is_eager=True
        ),
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug detail.")] = False,
) -> None:
    _setup_logging(logging.DEBUG if verbose else logging.INFO)


def _setup_logging(level: int) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(_LOG_SECRETS))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("watchkeeper").setLevel(level)


_LOG_SECRETS = Secrets()
"""Secrets of the loaded config, redacted from every log line."""


def find_config(given: Path | None) -> Path:
    """Given the -c option, return the config path: the option, $WATCHKEEPER_CONFIG, or ./watchkeeper.yaml."""
    if given is not None:
        return given
    env = os.environ.get("WATCHKEEPER_CONFIG")
    return Path(env) if env else Path("watchkeeper.yaml")


def _load(given: Path | None) -> LoadedConfig:
    path = find_config(given)
    if not path.exists():
        err.print(
            f"[red]no config at {path}[/]: pass -c FILE, set WATCHKEEPER_CONFIG, "
            "or write one with `watchkeeper init`"
        )
        raise typer.Exit(EXIT_CANNOT_RUN)
    try:
        loaded = load_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            err.print(str(problem), markup=False)
        raise typer.Exit(EXIT_CANNOT_RUN) from None
    _LOG_SECRETS.add(loaded.secrets.values)
    return loaded


def _open_store(loaded: LoadedConfig) -> Store:
    try:
        return Store.open(loaded.store_url)
    except StoreError as exc:
        err.print(f"[red]cannot open the store:[/] {loaded.secrets.redact(str(exc))}", markup=True)
        raise typer.Exit(EXIT_CANNOT_RUN) from None


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

    loaded = _load(config)
    names = set(only or [])
    unknown = names - {c.name for c in loaded.config.checks}
    if unknown:
        err.print(f"[red]no such check:[/] {', '.join(sorted(unknown))}")
        raise typer.Exit(EXIT_CANNOT_RUN)
    results = asyncio.run(run_once(loaded, names or None))
    if store:
        st = _open_store(loaded)
        try:
            st.insert_results(results)
        finally:
            st.close()
    if as_json:
        out.print_json(json.dumps([_result_json(r) for r in results]))
    else:
        _print_results(results, "Results")
    raise typer.Exit(EXIT_CODES[worst([r.status for r in results])])


@app.command()
def serve(
    config: ConfigOption = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Run the scheduler and the HTTP server until SIGINT/SIGTERM; SIGHUP or an edit reloads the config."""
    from watchkeeper.service import Watchkeeper
    from watchkeeper.web.server import serve as run_server

    loaded = _load(config)
    st = _open_store(loaded)
    wk = Watchkeeper(loaded, st)
    listen_host = host or loaded.config.server.host
    listen_port = loaded.config.server.port if port is None else port
    err.print(
        f"watchkeeper {__version__}: {len(loaded.config.checks)} checks from {loaded.path}, "
        f"store {st.display_url}, http://{listen_host}:{listen_port}/api/health"
    )
    try:
        _run_async(run_server(wk, listen_host, listen_port))
    finally:
        st.close()


@app.command()
def status(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Show the latest result of every check, from the store."""
    loaded = _load(config)
    st = _open_store(loaded)
    try:
        latest = st.latest()
    finally:
        st.close()
    configured = [c.name for c in loaded.config.checks]
    results = [latest[name] for name in configured if name in latest]
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
    loaded = _load(config)
    st = _open_store(loaded)
    try:
        results = st.history(name, limit=limit)
    finally:
        st.close()
    if as_json:
        out.print_json(json.dumps([_result_json(r) for r in results]))
        return
    if not results:
        err.print(f"no results for {name!r}")
        raise typer.Exit(1)
    _print_results(results, f"History of {name}", show_time=True)


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="Port of Watchkeeper's web server.")] = 8080,
    target_port: Annotated[int, typer.Option(help="Port of the demo target app.")] = 8000,
    directory: Annotated[
        Path | None, typer.Option("--dir", help="Where to keep the demo's config and store.")
    ] = None,
) -> None:
    """Start the bundled demo target on loopback and watch it with an example config (SQLite)."""
    from watchkeeper.demo.run import run_demo

    _run_async(run_demo(port=port, target_port=target_port, directory=directory, console=err))


def _run_async(coro: Any) -> None:
    # uvloop where it exists (not on Windows): the scheduler and probes are loop-bound.
    try:
        import uvloop
    except ImportError:
        asyncio.run(coro)
    else:
        uvloop.run(coro)


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
            r.started_at.strftime("%Y-%m-%d %H:%M:%S") if show_time else r.check,
            f"[{style}]{r.status.value}[/]",
        ]
        if not show_time:
            age = max(1.0, round((now - r.started_at).total_seconds()))
            cells.append(format_duration(age) + " ago")
        table.add_row(*cells, f"{r.duration_ms:.0f}ms", escape(r.message))
    for name in never_run:
        table.add_row(name, "[dim]never run[/]", "", "", "")
    out.print(table)
