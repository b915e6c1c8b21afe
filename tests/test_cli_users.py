"""``watchkeeper user add|list|remove`` and ``token create|list|revoke``, run as a user would."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.cli_run import Ran, cli_env, run_cli
from watchkeeper.auth import accounts
from watchkeeper.auth.model import Principal, Role, Via
from watchkeeper.store.store import Store

PASSWORD = "correct horse battery"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A config whose store is a SQLite file in tmp_path."""
    path = tmp_path / "watchkeeper.yaml"
    path.write_text(f"store: sqlite:///{tmp_path}/wk.db\nchecks: []\n")
    return path


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """The engine of the store the config names, to check what the commands did."""
    store = Store.open(f"sqlite:///{tmp_path}/wk.db")
    yield store.engine
    store.close()


async def run_with_stdin(stdin: str, *args: str | Path) -> Ran:
    """Run ``python -m watchkeeper ARGS`` with ``stdin`` piped in."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "watchkeeper",
        *map(str, args),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=cli_env(),
    )
    out, err = await asyncio.wait_for(proc.communicate(stdin.encode()), 60)
    assert proc.returncode is not None
    return Ran(proc.returncode, out.decode(), err.decode())


async def add_user(config: Path, name: str, *options: str, password: str = PASSWORD) -> Ran:
    """Run ``user add NAME --password-stdin`` with ``password`` on stdin."""
    return await run_with_stdin(
        password + "\n", "user", "add", name, "--password-stdin", "-c", config, *options
    )


async def test_user_add_list_remove(config: Path, engine: Engine) -> None:
    added = await add_user(config, "ana", "--role", "operator")
    assert (added.code, added.stdout) == (0, "user ana added (operator)\n")
    assert (await add_user(config, "bob")).stdout == "user bob added (viewer)\n"

    listed = json.loads((await run_cli("user", "list", "-c", config, "--json")).stdout)
    assert [(u["name"], u["role"]) for u in listed] == [("ana", "operator"), ("bob", "viewer")]
    table = (await run_cli("user", "list", "-c", config)).stdout
    assert "ana" in table and "operator" in table
    user = accounts.check_password(engine, "ana", PASSWORD)
    assert user is not None and user.role is Role.OPERATOR

    removed = await run_cli("user", "remove", "ana", "-c", config)
    assert removed.code == 0 and "user ana removed" in removed.stdout
    assert [u.name for u in accounts.list_users(engine)] == ["bob"]
    again = await run_cli("user", "remove", "ana", "-c", config)
    assert again.code == 1 and "there is no user called 'ana'" in again.stderr


async def test_a_weak_password_is_refused(config: Path, engine: Engine) -> None:
    ran = await add_user(config, "ana", password="short")
    assert ran.code == 1 and "a password needs at least 10 characters" in ran.stderr
    assert accounts.count_users(engine) == 0


async def test_a_taken_name_is_refused(config: Path) -> None:
    await add_user(config, "ana")
    ran = await add_user(config, "ana", "--role", "admin")
    assert ran.code == 1 and "there is already a user called 'ana'" in ran.stderr


async def test_without_a_terminal_the_password_must_come_from_stdin(
    config: Path, engine: Engine
) -> None:
    ran = await run_with_stdin(PASSWORD + "\n", "user", "add", "ana", "-c", config)
    assert ran.code == 1 and "--password-stdin" in ran.stderr
    assert accounts.count_users(engine) == 0


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
async def test_on_a_terminal_the_password_is_asked_for_twice(config: Path, engine: Engine) -> None:
    assert (await type_at_terminal(config, "ana", PASSWORD, PASSWORD)).code == 0
    assert accounts.check_password(engine, "ana", PASSWORD) is not None

    mistyped = await type_at_terminal(config, "bob", PASSWORD, PASSWORD + "x")
    assert mistyped.code == 1 and "the two passwords differ" in mistyped.stderr
    weak = await type_at_terminal(config, "cat", "short")
    assert weak.code == 1 and "at least 10 characters" in weak.stderr
    assert [u.name for u in accounts.list_users(engine)] == ["ana"]


async def type_at_terminal(config: Path, name: str, *answers: str) -> Ran:
    """Run ``user add NAME`` on a pseudo-terminal, typing each answer when its prompt shows."""
    import pty

    terminal, their_end = pty.openpty()
    # A new session has no controlling terminal, so getpass reads stdin and prompts on stderr.
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "watchkeeper",
        "user",
        "add",
        name,
        "-c",
        str(config),
        stdin=their_end,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=cli_env(),
        start_new_session=True,
    )
    os.close(their_end)
    assert proc.stderr is not None
    shown = b""
    try:
        for prompt, answer in zip((b"Password: ", b"Repeat the password: "), answers, strict=False):
            shown += await asyncio.wait_for(proc.stderr.readuntil(prompt), 30)
            # getpass writes the prompt's last character once echo is off and typed-ahead input
            # is flushed, so typing now is neither echoed nor lost.
            os.write(terminal, answer.encode() + b"\n")
        out, err = await asyncio.wait_for(proc.communicate(), 30)
    finally:
        os.close(terminal)
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode is not None
    return Ran(proc.returncode, out.decode(), (shown + err).decode())


async def test_token_create_prints_the_token_once_and_list_never_shows_it(
    config: Path, engine: Engine
) -> None:
    await add_user(config, "ana", "--role", "operator")
    created = await run_cli("token", "create", "--user", "ana", "--name", "ci", "-c", config)
    assert created.code == 0
    text = created.stdout.strip()
    assert created.stdout == text + "\n" and text.startswith("wk_")
    assert "it will not be shown again" in created.stderr and text not in created.stderr
    in_90_days = datetime.now(UTC) + timedelta(days=90)
    assert in_90_days.strftime("%Y-%m-%d") in created.stderr
    assert accounts.token_principal(engine, text, datetime.now(UTC)) == Principal(
        "ana", Role.OPERATOR, Via.TOKEN
    )

    table = await run_cli("token", "list", "-c", config)
    assert text[:10] + "…" in table.stdout and "active" in table.stdout
    assert text not in table.stdout + table.stderr
    listed = await run_cli("token", "list", "-c", config, "--json")
    assert text not in listed.stdout
    (token,) = json.loads(listed.stdout)
    assert (token["name"], token["user"], token["role"]) == ("ci", "ana", "operator")
    assert (token["prefix"], token["state"], token["rotation_due"]) == (text[:10], "active", False)
    assert token["last_used_at"] is not None
    assert abs(datetime.fromisoformat(token["expires_at"]) - in_90_days) < timedelta(minutes=5)


async def test_a_token_may_be_narrower_than_its_user_but_not_wider(
    config: Path, engine: Engine
) -> None:
    await add_user(config, "ana", "--role", "operator")
    narrow = await run_cli(
        "token", "create", "--user", "ana", "--name", "ro", "--role", "viewer", "-c", config
    )
    principal = accounts.token_principal(engine, narrow.stdout.strip(), datetime.now(UTC))
    assert principal is not None and principal.role is Role.VIEWER

    wide = await run_cli(
        "token", "create", "--user", "ana", "--name", "root", "--role", "admin", "-c", config
    )
    assert wide.code == 1 and "cannot be admin" in wide.stderr and wide.stdout == ""
    unknown = await run_cli("token", "create", "--user", "bob", "--name", "ci", "-c", config)
    assert unknown.code == 1 and "no user called 'bob'" in unknown.stderr


async def test_token_expiry_can_be_chosen_or_left_out(config: Path) -> None:
    await add_user(config, "ana")
    create = ("token", "create", "--user", "ana", "-c", config, "--name")
    assert (await run_cli(*create, "short", "--expires", "7d")).code == 0
    forever = await run_cli(*create, "forever", "--no-expiry")
    assert forever.code == 0 and "never expires" in forever.stderr
    listed = json.loads((await run_cli("token", "list", "-c", config, "--json")).stdout)
    expiry = {t["name"]: t["expires_at"] for t in listed}
    assert expiry["forever"] is None
    in_a_week = datetime.fromisoformat(expiry["short"]) - datetime.now(UTC)
    assert timedelta(days=7) - timedelta(minutes=5) < in_a_week <= timedelta(days=7)

    bad = await run_cli(*create, "bad", "--expires", "soon")
    assert bad.code == 3 and "--expires" in bad.stderr
    both = await run_cli(*create, "both", "--expires", "7d", "--no-expiry")
    assert both.code == 3 and "contradict" in both.stderr


async def test_token_revoke(config: Path, engine: Engine) -> None:
    await add_user(config, "ana")
    text = (await run_cli("token", "create", "--user", "ana", "--name", "ci", "-c", config)).stdout
    revoked = await run_cli("token", "revoke", "1", "-c", config)
    assert revoked.code == 0 and revoked.stdout == "token 1 revoked\n"
    assert accounts.token_principal(engine, text.strip(), datetime.now(UTC)) is None
    (token,) = json.loads((await run_cli("token", "list", "-c", config, "--json")).stdout)
    assert token["state"] == "revoked"
    again = await run_cli("token", "revoke", "1", "-c", config)
    assert again.code == 1 and "no token 1 to revoke" in again.stderr


async def test_old_tokens_are_marked_for_rotation(config: Path, engine: Engine) -> None:
    await add_user(config, "ana")
    now = datetime.now(UTC)
    accounts.create_token(engine, "ana", "old", now - timedelta(days=100), expires_in=None)
    accounts.create_token(engine, "ana", "fresh", now, expires_in=timedelta(days=90))
    accounts.create_token(
        engine, "ana", "lapsed", now - timedelta(days=100), expires_in=timedelta(days=30)
    )

    listed = json.loads((await run_cli("token", "list", "-c", config, "--json")).stdout)
    state = {t["name"]: (t["state"], t["rotation_due"]) for t in listed}
    assert state == {
        "old": ("active", True),
        "fresh": ("active", False),
        "lapsed": ("expired", False),
    }
    table = (await run_cli("token", "list", "-c", config)).stdout
    (old_row,) = [line for line in table.splitlines() if "│ old " in line]
    assert "rotate" in old_row
    (fresh_row,) = [line for line in table.splitlines() if "│ fresh " in line]
    assert "rotate" not in fresh_row
    assert "created over 90 days ago" in table


async def test_removing_a_user_drops_their_tokens(config: Path, engine: Engine) -> None:
    await add_user(config, "ana")
    text = (await run_cli("token", "create", "--user", "ana", "--name", "ci", "-c", config)).stdout
    await run_cli("user", "remove", "ana", "-c", config)
    assert accounts.token_principal(engine, text.strip(), datetime.now(UTC)) is None
    assert "no API tokens" in (await run_cli("token", "list", "-c", config)).stdout
