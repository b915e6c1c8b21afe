"""``watchkeeper maintain``: VACUUM/ANALYZE a PostgreSQL database (what a maintenance step runs)."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.markup import escape

from watchkeeper.cli.common import EXIT_CANNOT_RUN, app, err, out, run_async
from watchkeeper.config.procedures import MaintenanceOperation
from watchkeeper.procedures.maintenance import Done, MaintenanceError, maintain


@app.command("maintain")
def maintain_command(
    url_env: Annotated[
        str,
        typer.Option("--url-env", help="The environment variable holding the database URL."),
    ] = "DATABASE_URL",
    operation: Annotated[
        MaintenanceOperation, typer.Option(help="What to run.")
    ] = MaintenanceOperation.VACUUM_ANALYZE,
    tables: Annotated[
        list[str] | None,
        typer.Option("--table", help="A table (schema.table allowed); repeat; none: all."),
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds before giving up.")] = 3600.0,
) -> None:
    """Run VACUUM and/or ANALYZE on a PostgreSQL database; exit 1 when it fails, 3 without a URL."""
    url = os.environ.get(url_env)
    if not url:
        err.print(f"[red]${escape(url_env)} is not set[/]: it should hold the database URL")
        raise typer.Exit(EXIT_CANNOT_RUN)
    ran: list[Done] = []

    async def run() -> None:
        ran.extend(await maintain(url, operation, tuple(tables or ()), timeout))

    try:
        run_async(run())
    except MaintenanceError as exc:
        err.print(f"[red]maintenance failed:[/] {escape(str(exc))}")
        raise typer.Exit(1) from None
    for done in ran:
        out.print(f"{escape(done.statement)}: done in {done.seconds:.2f}s", highlight=False)
