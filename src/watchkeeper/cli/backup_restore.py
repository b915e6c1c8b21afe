"""Commands that put backups back and back up Watchkeeper itself: backup restore|self."""

from __future__ import annotations

import sys
from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape

from watchkeeper.backups.catalogue import Entry, entries
from watchkeeper.backups.restore import (
    ChecksumMismatch,
    RestoreOutcome,
    default_target,
    existing_data,
    restore_entry,
    target_from,
)
from watchkeeper.backups.runner import prune, store_backup
from watchkeeper.backups.sources import BackupError
from watchkeeper.backups.verify import latest_good
from watchkeeper.cli.backups import (
    EXIT_BAD_BACKUP,
    NameArgument,
    backup_app,
    configured_backup,
    take_backup,
    when,
)
from watchkeeper.cli.common import ConfigOption, err, load, open_store, out, run_async
from watchkeeper.cli.progress import working
from watchkeeper.config.loader import LoadedConfig

T = TypeVar("T")


@backup_app.command("restore")
def backup_restore(
    name: NameArgument,
    entry_id: Annotated[
        int | None,
        typer.Option("--entry", help="The catalogue id to restore (default: the newest good one)."),
    ] = None,
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            help="Restore here instead of over the backup's own source: a postgresql:// URL, "
            "a SQLite file or a directory.",
            show_default=False,
        ),
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Overwrite existing data without asking.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Restore a backup of NAME after checking its SHA-256; ask before overwriting data. Exit 0
    when restored, 2 when the file does not match its checksum, 1 when nothing was restored."""
    loaded = load(config)
    backup = configured_backup(loaded, name)
    entry = _entry(loaded, name, entry_id)
    try:
        target = (
            target_from(entry.kind, to)
            if to is not None
            else default_target(backup, loaded.path.parent, loaded.store_url)
        )
        _confirm(_run(existing_data(target)), yes)
        with working(f"restoring {name} backup {entry.id} into {target.describe()}"):
            outcome = _run(restore_entry(backup, entry, target, loaded.secrets))
    except ChecksumMismatch as exc:
        err.print(f"[red]refusing to restore:[/] {escape(str(exc))}")
        raise typer.Exit(EXIT_BAD_BACKUP) from None
    except BackupError as exc:
        err.print(
            f"[red]cannot restore {escape(name)}:[/] {escape(loaded.secrets.redact(str(exc)))}"
        )
        raise typer.Exit(1) from None
    _report(outcome, name)


@backup_app.command("self")
def backup_self(
    to: Annotated[
        Path | None,
        typer.Option(
            "--to",
            help="The directory to back up into (default: the configured one).",
            show_default=False,
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Back up Watchkeeper's own store (SQLite's online backup or pg_dump) into the catalogue,
    then prune its backups by their keep rules; exit 1 when it fails."""
    loaded = load(config)
    backup = store_backup(loaded.config.backups)
    if to is not None:
        backup = backup.model_copy(update={"to": str(to.expanduser().resolve())})
    taken = take_backup(loaded, backup)
    store = open_store(loaded)
    try:
        removed = prune(
            store.engine, backup, ZoneInfo(loaded.config.defaults.timezone), datetime.now(UTC)
        )
    except BackupError as exc:
        err.print(f"[red]pruning {escape(backup.name)} failed:[/] {escape(str(exc))}")
        raise typer.Exit(1) from None
    finally:
        store.close()
    out.print(
        f"[green]backed up {escape(backup.name)}[/] to {escape(str(taken.path))} "
        f"({taken.size} bytes, sha256 {taken.sha256}); pruned {len(removed)}"
    )


def _entry(loaded: LoadedConfig, name: str, entry_id: int | None) -> Entry:
    """Return the entry to restore, or exit 1 saying there is none."""
    store = open_store(loaded)
    # Closed before the restore starts: the store itself may be what is restored.
    try:
        with store.engine.connect() as connection:
            if entry_id is None:
                found = latest_good(connection, name)
            else:
                found = next((e for e in entries(connection, name) if e.id == entry_id), None)
    finally:
        store.close()
    if found is None:
        which = "no good backup" if entry_id is None else f"no catalogue entry {entry_id}"
        err.print(f"[red]{which} of {escape(name)} to restore[/]")
        raise typer.Exit(1)
    return found


def _confirm(existing: str | None, yes: bool) -> None:
    """Return when overwriting ``existing`` (None: nothing) is agreed to; exit 1 otherwise."""
    if existing is None or yes:
        return
    if not sys.stdin.isatty():
        err.print(
            f"[red]refusing to overwrite {escape(existing)}[/]: there is no terminal to ask on; "
            "pass --yes to overwrite it"
        )
        raise typer.Exit(1)
    if not typer.confirm(f"overwrite {existing}?", default=False, err=True):
        err.print("nothing restored")
        raise typer.Exit(1)


def _report(outcome: RestoreOutcome, name: str) -> None:
    entry, target = outcome.entry, outcome.target
    out.print(
        f"[green]restored[/] {escape(name)} backup {entry.id} (taken {when(entry.started_at)}) "
        f"into {escape(target.describe())} in {outcome.seconds:.2f}s"
    )


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to its end and return its value."""
    got: list[T] = []

    async def keep() -> None:
        got.append(await coro)

    run_async(keep())
    return got[0]
