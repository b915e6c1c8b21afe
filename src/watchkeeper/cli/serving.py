"""Commands that run Watchkeeper: serve and demo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from watchkeeper import __version__
from watchkeeper.cli.common import (
    EXIT_CANNOT_RUN,
    ConfigOption,
    app,
    err,
    load,
    open_store,
    redact_logs_with,
    run_async,
)
from watchkeeper.demo.example import Example


@app.command()
def serve(
    config: ConfigOption = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Run the scheduler and the HTTP server until SIGINT/SIGTERM; SIGHUP or an edit reloads the config."""
    from watchkeeper.auth.accounts import count_users
    from watchkeeper.service import Watchkeeper
    from watchkeeper.web.server import serve as run_server

    loaded = load(config)
    st = open_store(loaded)
    wk = Watchkeeper(loaded, st)
    redact_logs_with(wk.runner.secrets)  # the same object a reload adds new secrets to
    listen_host = host or loaded.config.server.host
    listen_port = loaded.config.server.port if port is None else port
    started = (
        f"watchkeeper {__version__}: {len(loaded.config.checks)} checks from {loaded.path}, "
        f"store {st.display_url}, http://{listen_host}:{listen_port}/api/health"
    )
    err.print(loaded.secrets.redact(started), markup=False)
    if count_users(st.engine) == 0:
        err.print(
            "[yellow]no users yet:[/] the dashboard and API refuse everyone until you add one, "
            "e.g. `watchkeeper user add alice --role admin`"
        )
    try:
        run_async(run_server(wk, listen_host, listen_port))
    except RuntimeError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    finally:
        st.close()


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="Port of Watchkeeper's web server.")] = 8080,
    target_port: Annotated[int, typer.Option(help="Port of the demo target app.")] = 8000,
    directory: Annotated[
        Path | None, typer.Option("--dir", help="Where to keep the demo's config and store.")
    ] = None,
    example: Annotated[
        Example | None,
        typer.Option(help="Run one guide's procedures file instead of the demo config."),
    ] = None,
) -> None:
    """Start the bundled demo target on loopback and watch it with an example config (SQLite)."""
    from watchkeeper.demo.run import DemoError, run_demo

    try:
        run_async(
            run_demo(
                port=port,
                target_port=target_port,
                directory=directory,
                console=err,
                example=example,
            )
        )
    except DemoError as exc:
        err.print(f"[red]cannot start the demo:[/] {exc}", markup=True, highlight=False)
        raise typer.Exit(EXIT_CANNOT_RUN) from None
