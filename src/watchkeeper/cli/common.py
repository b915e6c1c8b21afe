"""What every command shares: the app, consoles, exit codes, finding and loading the config."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from watchkeeper import __version__
from watchkeeper.config.loader import ConfigError, LoadedConfig, load_config
from watchkeeper.config.secrets import RedactingFilter, Secrets
from watchkeeper.results import Status
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


def redact_logs_with(secrets: Secrets) -> None:
    """Also redact these secrets from every log line, including values they gain later (reloads)."""
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactingFilter(secrets))


"""Secrets of the loaded config, redacted from every log line."""


def find_config(given: Path | None) -> Path:
    """Given the -c option, return the config path: the option, $WATCHKEEPER_CONFIG, or ./watchkeeper.yaml."""
    if given is not None:
        return given
    env = os.environ.get("WATCHKEEPER_CONFIG")
    return Path(env) if env else Path("watchkeeper.yaml")


def load(given: Path | None) -> LoadedConfig:
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


def open_store(loaded: LoadedConfig, url: str | None = None) -> Store:
    """Open the config's store (or the one at ``url``), or exit saying why it cannot be opened."""
    try:
        return Store.open(url or loaded.store_url)
    except StoreError as exc:
        err.print(f"[red]cannot open the store:[/] {loaded.secrets.redact(str(exc))}", markup=True)
        raise typer.Exit(EXIT_CANNOT_RUN) from None


def run_async(coro: Any) -> None:
    # uvloop where it exists (not on Windows): the scheduler and probes are loop-bound.
    try:
        import uvloop
    except ImportError:
        asyncio.run(coro)
    else:
        uvloop.run(coro)
