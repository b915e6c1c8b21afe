"""Commands about backups: backup run|list|verify|prune."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape
from rich.table import Table

from watchkeeper.backups.archive import partial_path
from watchkeeper.backups.catalogue import BackupState, Entry, entries
from watchkeeper.backups.runner import (
    STORE_BACKUP_NAME,
    prune,
    run_backup,
    store_backup,
    target_dir,
)
from watchkeeper.backups.sources import BackupError
from watchkeeper.backups.verify import VerificationResult, VerifyOutcome, latest_good, verify_backup
from watchkeeper.cli.common import (
    EXIT_CANNOT_RUN,
    EXIT_CODES,
    ConfigOption,
    JsonOption,
    app,
    err,
    load,
    open_store,
    out,
    run_async,
)
from watchkeeper.cli.progress import working
from watchkeeper.config.backups import Backup
from watchkeeper.config.loader import LoadedConfig
from watchkeeper.results import Status

backup_app = typer.Typer(
    help="Backups of databases and directories: run, list, verify, prune, restore, self.",
    no_args_is_help=True,
)
app.add_typer(backup_app, name="backup")

EXIT_BAD_BACKUP = EXIT_CODES[Status.CRITICAL]
"""A backup failed its verification or its checksum: as critical as a failing check."""

NameArgument = Annotated[str, typer.Argument(help="The backup's name.", show_default=False)]
_STATE_STYLE = {BackupState.OK: "green", BackupState.FAILED: "red"}


@backup_app.command("run")
def backup_run(name: NameArgument, config: ConfigOption = None) -> None:
    """Take the backup NAME now and record it in the catalogue; exit 1 if it fails."""
    loaded = load(config)
    taken = take_backup(loaded, configured_backup(loaded, name))
    out.print(
        f"[green]backed up {escape(name)}[/] to {escape(str(taken.path))} "
        f"({taken.size} bytes, sha256 {taken.sha256})"
    )


def take_backup(loaded: LoadedConfig, backup: Backup) -> Entry:
    """Take ``backup`` now with a progress display, record it, and return its entry; exit 1 when
    it fails."""
    store = open_store(loaded)
    now = datetime.now(UTC)
    taken: list[Entry] = []

    async def take() -> None:
        taken.append(
            await run_backup(
                store.engine, backup, loaded.path.parent, loaded.secrets, now, loaded.store_url
            )
        )

    growing = partial_path(target_dir(backup, loaded.path.parent), backup.name, now)
    try:
        with working(f"backing up {backup.name}", growing):
            run_async(take())
    except BackupError as exc:
        err.print(
            f"[red]backup {escape(backup.name)} failed:[/] "
            f"{escape(loaded.secrets.redact(str(exc)))}"
        )
        raise typer.Exit(1) from None
    finally:
        store.close()
    return taken[0]


@backup_app.command("list")
def backup_list(
    name: Annotated[
        str | None, typer.Argument(help="Only this backup (default: all).", show_default=False)
    ] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the catalogue's backups, newest first: taken, failed and pruned."""
    loaded = load(config)
    names = (
        [configured_backup(loaded, name).name] if name else [b.name for b in loaded.config.backups]
    )
    store = open_store(loaded)
    try:
        with store.engine.connect() as connection:
            listed = [entry for n in names for entry in entries(connection, n)]
    finally:
        store.close()
    if as_json:
        out.print_json(json.dumps([_plain(entry) for entry in listed]))
        return
    if not names:
        out.print("no backups: add some under `backups:` in the config")
        return
    table = Table(title="Backups", title_justify="left")
    for column in ("backup", "taken", "state", "size", "file or error"):
        table.add_column(column, overflow="fold")
    for entry in listed:
        state = f"[{_STATE_STYLE[entry.state]}]{entry.state.value}[/]"
        if entry.pruned_at is not None:
            state += f" [dim](pruned {when(entry.pruned_at)})[/]"
        table.add_row(
            escape(entry.backup),
            when(entry.started_at),
            state,
            str(entry.size) if entry.size is not None else "",
            escape(str(entry.path) if entry.path is not None else entry.error or ""),
        )
    out.print(table)


@backup_app.command("verify")
def backup_verify(
    name: NameArgument,
    entry_id: Annotated[
        int | None,
        typer.Option(
            "--entry", help="The catalogue id to verify (default: the newest good backup)."
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Restore a backup of NAME into a scratch target and run its smoke queries; exit 0 when it
    passed, 2 when it failed (critical), 1 when there is nothing to verify or it cannot run."""
    loaded = load(config)
    backup = configured_backup(loaded, name)
    store = open_store(loaded)
    results: list[VerificationResult] = []
    try:
        with store.engine.connect() as connection:
            if entry_id is None:
                entry = latest_good(connection, name)
            else:
                entry = next((e for e in entries(connection, name) if e.id == entry_id), None)
        if entry is None:
            which = "no good backup" if entry_id is None else f"no catalogue entry {entry_id}"
            err.print(f"[red]{which} of {escape(name)} to verify[/]")
            raise typer.Exit(1)
        found = entry

        async def verify() -> None:
            results.append(
                await verify_backup(
                    store.engine,
                    backup,
                    found,
                    loaded.path.parent,
                    loaded.secrets,
                    datetime.now(UTC),
                )
            )

        with working(f"verifying {name} backup {found.id}"):
            run_async(verify())
    except BackupError as exc:
        err.print(
            f"[red]cannot verify {escape(name)}:[/] {escape(loaded.secrets.redact(str(exc)))}"
        )
        raise typer.Exit(1) from None
    finally:
        store.close()
    [result] = results
    restored = (
        f"restored in {result.restore_seconds:.2f}s"
        if result.restore_seconds is not None
        else "not restored"
    )
    what = f"{escape(name)} backup {result.catalogue_id} ({escape(str(found.path))})"
    if result.outcome is VerifyOutcome.PASSED:
        out.print(f"[green]passed:[/] {what} {restored}")
        return
    out.print(f"[red]failed:[/] {what} {restored}: {escape(result.detail or '')}")
    raise typer.Exit(EXIT_BAD_BACKUP)


@backup_app.command("prune")
def backup_prune(
    name: NameArgument,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be deleted; delete nothing.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Delete the backups of NAME its keep rules do not keep (the newest good one always stays)."""
    loaded = load(config)
    backup = configured_backup(loaded, name)
    store = open_store(loaded)
    try:
        removed = prune(
            store.engine,
            backup,
            ZoneInfo(loaded.config.defaults.timezone),
            datetime.now(UTC),
            dry_run=dry_run,
        )
    except BackupError as exc:
        err.print(f"[red]pruning {escape(name)} failed:[/] {escape(str(exc))}")
        raise typer.Exit(1) from None
    finally:
        store.close()
    verb = "would delete" if dry_run else "deleted"
    for entry in removed:
        out.print(f"{verb} {escape(str(entry.path))} (taken {when(entry.started_at)})")
    out.print(f"{name}: {verb} {len(removed)} backup{'' if len(removed) == 1 else 's'}")


def configured_backup(loaded: LoadedConfig, name: str) -> Backup:
    """Return the configured backup NAME (``watchkeeper-store`` is the store's own backup even
    when the config has none), or exit 3 naming the known ones."""
    found = next((b for b in loaded.config.backups if b.name == name), None)
    if found is None and name == STORE_BACKUP_NAME:
        found = store_backup(loaded.config.backups)
    if found is None or found.name != name:
        known = ", ".join(b.name for b in loaded.config.backups) or "none in the config"
        err.print(f"[red]no backup {escape(name)!r}[/]; known backups: {escape(known)}")
        raise typer.Exit(EXIT_CANNOT_RUN)
    return found


def when(moment: datetime) -> str:
    """Given a moment, return it as UTC text for a person."""
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


def _plain(entry: Entry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "backup": entry.backup,
        "kind": entry.kind.value,
        "path": str(entry.path) if entry.path is not None else None,
        "size": entry.size,
        "sha256": entry.sha256,
        "started_at": entry.started_at.isoformat(),
        "finished_at": entry.finished_at.isoformat(),
        "state": entry.state.value,
        "error": entry.error,
        "pruned_at": entry.pruned_at.isoformat() if entry.pruned_at else None,
    }
