"""Commands about access: user add|list|remove and token create|list|revoke."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.markup import escape
from rich.table import Table

from watchkeeper.auth import accounts
from watchkeeper.auth.model import ROTATE_AFTER, ROTATION_NOTICE, Role, Token
from watchkeeper.auth.passwords import weakness
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
from watchkeeper.store.store import Store

user_app = typer.Typer(
    help="People who may sign in to the dashboard, and their roles.", no_args_is_help=True
)
token_app = typer.Typer(
    help="API tokens for scripts: shown once when created, stored only as a hash.",
    no_args_is_help=True,
)
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")

DEFAULT_EXPIRY = "90d"
_STATE_STYLE = {"active": "green", "expired": "yellow", "revoked": "dim"}
_UNBROKEN = {"prefix", "created", "expires"}


@contextlib.contextmanager
def _opened(config: Path | None) -> Iterator[Store]:
    store = open_store(load(config))
    try:
        yield store
    finally:
        store.close()


def _refuse(message: str, code: int = 1) -> NoReturn:
    err.print(f"[red]{escape(message)}[/]")
    raise typer.Exit(code)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    if not sys.stdin.isatty():
        _refuse("no terminal to ask for the password: pipe it in with --password-stdin")
    # Prompts go to stderr: stdout carries only the result, for scripts.
    password: str = typer.prompt("Password", hide_input=True, err=True)
    # Refuse a weak password before asking for it again, not after.
    problem = weakness(password)
    if problem:
        _refuse(problem)
    if typer.prompt("Repeat the password", hide_input=True, err=True) != password:
        _refuse("the two passwords differ")
    return password


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="The name to sign in with.", show_default=False)],
    role: Annotated[Role, typer.Option(help="What the user may do.")] = Role.VIEWER,
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Read the password from the first line of stdin."),
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Add a user; the password is asked for twice on a terminal, or read with --password-stdin."""
    with _opened(config) as store:
        password = _read_password(password_stdin)
        try:
            user = accounts.add_user(store.engine, name, role, password, datetime.now(UTC))
        except accounts.AccountError as exc:
            _refuse(str(exc))
    out.print(f"user {escape(user.name)} added ({user.role})")


@user_app.command("list")
def user_list(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """List users with their roles."""
    with _opened(config) as store:
        users = accounts.list_users(store.engine)
    if as_json:
        out.print_json(
            json.dumps(
                [
                    {"name": u.name, "role": u.role.value, "created_at": u.created_at.isoformat()}
                    for u in users
                ]
            )
        )
        return
    table = Table(title="Users", title_justify="left")
    for column in ("name", "role", "created"):
        table.add_column(column, overflow="fold")
    for u in users:
        table.add_row(escape(u.name), u.role, _when(u.created_at))
    out.print(table if users else "no users: add one with `watchkeeper user add NAME`")


@user_app.command("remove")
def user_remove(
    name: Annotated[str, typer.Argument(help="The user's name.", show_default=False)],
    config: ConfigOption = None,
) -> None:
    """Remove a user, signing them out and deleting their API tokens."""
    with _opened(config) as store:
        removed = accounts.remove_user(store.engine, name)
    if not removed:
        _refuse(f"there is no user called {name!r}")
    out.print(f"user {escape(name)} removed, with their sessions and tokens")


@token_app.command("create")
def token_create(
    user: Annotated[str, typer.Option("--user", help="Whose token it is.", show_default=False)],
    label: Annotated[
        str, typer.Option("--name", help="What it is for, e.g. ci-deploy.", show_default=False)
    ],
    role: Annotated[
        Role | None,
        typer.Option(
            help="A narrower role than the user's (default: the user's).", show_default=False
        ),
    ] = None,
    expires: Annotated[
        str | None,
        typer.Option(
            help=f"How long it works, e.g. 30d (default {DEFAULT_EXPIRY}).", show_default=False
        ),
    ] = None,
    no_expiry: Annotated[
        bool, typer.Option("--no-expiry", help="Never expire (revoke it by hand).")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Create an API token and print it once, alone on stdout; only its hash is kept."""
    if no_expiry and expires is not None:
        _refuse("--expires and --no-expiry contradict each other", EXIT_CANNOT_RUN)
    expires_in = None if no_expiry else _lifetime(expires or DEFAULT_EXPIRY)
    with _opened(config) as store:
        try:
            text, token = accounts.create_token(
                store.engine, user, label, datetime.now(UTC), expires_in=expires_in, role=role
            )
        except accounts.AccountError as exc:
            _refuse(str(exc))
    # Only the token goes to stdout, so `TOKEN=$(watchkeeper token create …)` captures it alone.
    out.print(text, markup=False)
    until = f"expires {_when(token.expires_at)} UTC" if token.expires_at else "never expires"
    err.print(
        f"token {token.id} ({escape(token.name)}) for {escape(token.user)} as {token.role}, {until}.\n"
        "[bold]Copy it now: it will not be shown again.[/] "
        f"Replace it every {ROTATE_AFTER.days} days: create a new one, then revoke this one."
    )


@token_app.command("list")
def token_list(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """List API tokens (never the tokens themselves), marking those due for rotation."""
    with _opened(config) as store:
        tokens = accounts.list_tokens(store.engine)
    now = datetime.now(UTC)
    if as_json:
        out.print_json(json.dumps([_token_json(t, now) for t in tokens]))
        return
    table = Table(title="API tokens", title_justify="left")
    for column in ("id", "name", "prefix", "user", "role", "created", "expires", "last used"):
        table.add_column(column, overflow="fold", no_wrap=column in _UNBROKEN)
    table.add_column("state")
    for t in tokens:
        state = _state(t, now)
        table.add_row(
            str(t.id),
            escape(t.name),
            f"{t.prefix}…",
            escape(t.user),
            t.role,
            f"{t.created_at:%Y-%m-%d}",
            f"{t.expires_at:%Y-%m-%d}" if t.expires_at else "never",
            _ago(t.last_used_at, now),
            f"[{_STATE_STYLE[state]}]{state}[/]"
            + (" [yellow]rotate[/]" if t.rotation_due(now) else ""),
        )
    if not tokens:
        out.print(
            "no API tokens: create one with `watchkeeper token create --user NAME --name FOR`"
        )
        return
    out.print(table)
    if any(t.rotation_due(now) for t in tokens):
        out.print(
            f"rotate: created over {ROTATE_AFTER.days} days ago or expiring within "
            f"{ROTATION_NOTICE.days} days; create a replacement, then revoke the old one."
        )


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(help="The token's id (see `token list`).")],
    config: ConfigOption = None,
) -> None:
    """Revoke an API token: requests with it are refused from now on."""
    with _opened(config) as store:
        revoked = accounts.revoke_token(store.engine, token_id, datetime.now(UTC))
    if not revoked:
        _refuse(f"no token {token_id} to revoke (unknown or already revoked)")
    out.print(f"token {token_id} revoked")


def _lifetime(text: str) -> timedelta:
    try:
        seconds = parse_duration(text)
    except UnitError as exc:
        _refuse(f"--expires: {exc}", EXIT_CANNOT_RUN)
    if seconds <= 0:
        _refuse("--expires: must be longer than 0s (or use --no-expiry)", EXIT_CANNOT_RUN)
    return timedelta(seconds=seconds)


def _state(token: Token, now: datetime) -> str:
    if token.revoked_at is not None:
        return "revoked"
    return "active" if token.active(now) else "expired"


def _token_json(t: Token, now: datetime) -> dict[str, Any]:
    return {
        "id": t.id,
        "name": t.name,
        "prefix": t.prefix,
        "user": t.user,
        "role": t.role.value,
        "created_at": t.created_at.isoformat(),
        "expires_at": t.expires_at.isoformat() if t.expires_at else None,
        "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
        "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
        "state": _state(t, now),
        "rotation_due": t.rotation_due(now),
    }


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M}"


def _ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    return format_duration(max(1.0, round((now - moment).total_seconds()))) + " ago"
