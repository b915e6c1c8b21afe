"""Commands about alerts: alerts, outbox, silence add|list|remove."""

from __future__ import annotations

import getpass
import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from watchkeeper.alerting import queries
from watchkeeper.alerting.model import AlertStatus
from watchkeeper.alerting.outbox import pending
from watchkeeper.alerting.silences import parse_silence_matchers
from watchkeeper.cli.common import (
    EXIT_CANNOT_RUN,
    ConfigOption,
    JsonOption,
    app,
    err,
    load,
    open_store,
    out,
)
from watchkeeper.config.units import UnitError, format_duration, parse_duration

silence_app = typer.Typer(
    help="Mute notifications for matching alerts for a while.", no_args_is_help=True
)
app.add_typer(silence_app, name="silence")

_SEVERITY_STYLE = {"critical": "red", "warning": "yellow", "info": "blue"}


def _ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return ""
    return format_duration(max(1.0, round((now - moment).total_seconds()))) + " ago"


@app.command()
def alerts(
    config: ConfigOption = None,
    as_json: JsonOption = False,
    since: Annotated[
        str, typer.Option(help="Also list alerts fired or resolved this long ago.")
    ] = "24h",
) -> None:
    """List firing alerts and those fired or resolved recently."""
    loaded = load(config)
    try:
        window = parse_duration(since)
    except UnitError as exc:
        err.print(f"[red]--since:[/] {exc}")
        raise typer.Exit(EXIT_CANNOT_RUN) from None
    store = open_store(loaded)
    now = datetime.now(UTC)
    try:
        with store.engine.connect() as connection:
            rows = queries.recent_alerts(connection, now - timedelta(seconds=window))
    finally:
        store.close()
    if as_json:
        out.print_json(json.dumps([_alert_json(a) for a in rows]))
        return
    table = Table(title=f"Alerts (firing, and the last {since})", title_justify="left")
    for column in ("check", "severity", "state", "since", "resolved", "note", "message"):
        table.add_column(column, overflow="fold")
    for a in rows:
        note = f"caused by {a.caused_by}" if a.caused_by else ("flapping" if a.flapping else "")
        if a.state is AlertStatus.FIRING and a.last_notified_at is None and not note:
            note = "not announced"
        table.add_row(
            a.check,
            f"[{_SEVERITY_STYLE[a.severity.value]}]{a.severity.value}[/]",
            a.state,
            _ago(a.since, now),
            _ago(a.resolved_at, now),
            note,
            escape(a.message),
        )
    out.print(table if rows else "no alerts")


@app.command()
def outbox(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """List messages not delivered yet (pending or given up), with their last error."""
    loaded = load(config)
    store = open_store(loaded)
    try:
        rows = pending(store.engine)
    finally:
        store.close()
    now = datetime.now(UTC)
    if as_json:
        out.print_json(json.dumps([{k: _plain(v) for k, v in vars(r).items()} for r in rows]))
        return
    table = Table(title="Outbox: undelivered messages", title_justify="left")
    for column in (
        "id",
        "channel",
        "title",
        "queued",
        "attempts",
        "next try",
        "state",
        "last error",
    ):
        table.add_column(column, overflow="fold")
    for r in rows:
        state = "[red]given up[/]" if r.failed_at else "pending"
        wait = (r.next_attempt_at - now).total_seconds()
        next_try = "" if r.failed_at else (f"in {format_duration(wait)}" if wait > 0 else "now")
        table.add_row(
            str(r.id),
            r.channel,
            escape(r.title),
            _ago(r.created_at, now),
            str(r.attempts),
            next_try,
            state,
            escape(r.last_error or ""),
        )
    out.print(table if rows else "the outbox is empty: every message was delivered")


@silence_app.command("add")
def silence_add(
    match: Annotated[
        list[str],
        typer.Option(
            "--match", "-m", help="KEY=VALUE (check, service, tag, severity, kind; globs allowed)."
        ),
    ],
    duration: Annotated[str, typer.Option("--for", help="How long, e.g. 2h.")] = "1h",
    comment: Annotated[str, typer.Option(help="Why.")] = "",
    by: Annotated[str | None, typer.Option(help="Who (default: your user name).")] = None,
    config: ConfigOption = None,
) -> None:
    """Silence matching alerts for a while; prints the silence's id."""
    try:
        matchers = parse_silence_matchers(match)
        seconds = parse_duration(duration)
    except (ValueError, UnitError) as exc:
        err.print(f"[red]{escape(str(exc))}[/]")
        raise typer.Exit(EXIT_CANNOT_RUN) from None
    loaded = load(config)
    store = open_store(loaded)
    now = datetime.now(UTC)
    try:
        with store.engine.begin() as connection:
            silence_id = queries.add_silence(
                connection,
                matchers,
                now,
                now + timedelta(seconds=seconds),
                by or getpass.getuser(),
                comment,
            )
    finally:
        store.close()
    out.print(
        f"silence {silence_id} until {(now + timedelta(seconds=seconds)).isoformat(timespec='seconds')}"
    )


@silence_app.command("list")
def silence_list(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """List silences in force or still to come."""
    loaded = load(config)
    store = open_store(loaded)
    now = datetime.now(UTC)
    try:
        with store.engine.connect() as connection:
            rows = queries.all_silences(connection, now)
    finally:
        store.close()
    if as_json:
        out.print_json(json.dumps([{k: _plain(v) for k, v in vars(s).items()} for s in rows]))
        return
    table = Table(title="Silences", title_justify="left")
    for column in ("id", "matches", "until", "by", "comment"):
        table.add_column(column, overflow="fold")
    for s in rows:
        matches = ", ".join(f"{k}={'|'.join(v)}" for k, v in s.matchers.items())
        left = format_duration(max(1.0, (s.ends_at - now).total_seconds()))
        table.add_row(
            str(s.id),
            matches,
            f"{s.ends_at:%Y-%m-%d %H:%M} UTC ({left} left)",
            s.created_by,
            escape(s.comment),
        )
    out.print(table if rows else "no silences")


@silence_app.command("remove")
def silence_remove(
    silence_id: Annotated[int, typer.Argument(help="The silence's id (see `silence list`).")],
    config: ConfigOption = None,
) -> None:
    """End a silence now."""
    loaded = load(config)
    store = open_store(loaded)
    try:
        with store.engine.begin() as connection:
            removed = queries.remove_silence(connection, silence_id, datetime.now(UTC))
    finally:
        store.close()
    if not removed:
        err.print(f"[red]no active silence {silence_id}[/]")
        raise typer.Exit(1)
    out.print(f"silence {silence_id} removed")


def _alert_json(a: queries.AlertRow) -> dict[str, Any]:
    return {k: _plain(v) for k, v in vars(a).items()}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "value"):
        return value.value
    if isinstance(value, dict):
        return {k: list(v) if isinstance(v, tuple) else v for k, v in value.items()}
    return value
