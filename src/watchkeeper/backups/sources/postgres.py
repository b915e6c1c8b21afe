"""PostgreSQL backups: pg_dump's custom format, restored with pg_restore into a scratch database,
or over a database when a backup is put back.

The password never appears on a command line (other users can read those): it travels in
``PGPASSWORD``, and every message shown is redacted.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import URL, make_url
from sqlalchemy.exc import ArgumentError

from watchkeeper.backups.sources.base import BackupError, SourceKind
from watchkeeper.config.secrets import Secrets
from watchkeeper.config.units import format_duration

if TYPE_CHECKING:
    from psycopg import sql

DEFAULT_TIMEOUT = 3600.0
"""Seconds a dump or restore may take before it is killed."""
SCRATCH_PREFIX = "wk_restore_"
"""Scratch databases are named this plus random hex, so a leftover one is easy to recognise."""
MAINTENANCE_DATABASE = "postgres"
"""Where databases are looked up and created: the target of a restore may not exist yet."""
_ADMIN_CONNECT_TIMEOUT = 10
_STDERR_KEPT = 2000
"""Characters of a failing program's stderr kept in the error (its end, where it says why)."""


@dataclass(frozen=True)
class PostgresSource:
    """A PostgreSQL database, given by its URL (``postgresql://`` or ``postgresql+psycopg://``)."""

    url: str = field(repr=False)  # it may hold the password
    timeout: float = DEFAULT_TIMEOUT

    @property
    def kind(self) -> SourceKind:
        """Return SourceKind.POSTGRES."""
        return SourceKind.POSTGRES

    async def dump(self, target: Path) -> None:
        """Write the database to ``target`` with ``pg_dump --format=custom --no-owner``."""
        server = _Server.parse(self.url)
        await _run(
            "pg_dump",
            ["--format=custom", "--no-owner", f"--file={target.resolve()}", server.dbname_arg],
            server,
            self.timeout,
        )

    async def restore(self, archive: Path, into: str | Path) -> None:
        """Restore ``archive`` into the (empty) database at URL ``into``, stopping at the first error."""
        server = _Server.parse(str(into))
        await _run(
            "pg_restore",
            ["--no-owner", "--exit-on-error", server.dbname_arg, str(archive.resolve())],
            server,
            self.timeout,
        )


@contextlib.asynccontextmanager
async def scratch_database(url: str) -> AsyncIterator[str]:
    """Given a PostgreSQL URL, create an empty database ``wk_restore_<hex>`` on the same server,
    yield its URL, and drop it afterwards, even when the block failed."""
    from psycopg import sql  # ~10 MB: only processes that back up PostgreSQL pay for it

    server = _Server.parse(url)
    name = f"{SCRATCH_PREFIX}{secrets.token_hex(6)}"
    identifier = sql.Identifier(name)
    # template0: a restore must not meet objects someone added to template1.
    await server.admin(
        sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(identifier),
        f"creating scratch database {name}",
    )
    try:
        yield server.raw.set(database=name).render_as_string(hide_password=False)
    finally:
        await server.admin(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(identifier),
            f"dropping scratch database {name}",
        )


async def database_tables(url: str) -> int | None:
    """Given a PostgreSQL URL, return how many tables its database holds in the schema
    ``public``, or None when the database does not exist."""
    from psycopg import sql

    server = _Server.parse(url)
    if not await server.exists():
        return None
    found = await server.fetch_one(
        sql.SQL("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"),
        f"counting the tables of {server.database}",
    )
    return int(found)


async def restore_database(archive: Path, url: str, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Restore ``archive`` over the database at ``url``, created first when it does not exist.

    ``pg_restore --clean --if-exists --no-owner --single-transaction``: the dump's objects are
    dropped and recreated, objects the dump does not have stay, and a failure changes nothing.
    """
    from psycopg import sql

    server = _Server.parse(url)
    if not await server.exists():
        # template0: a restore must not meet objects someone added to template1.
        await server.admin(
            sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(
                sql.Identifier(server.database)
            ),
            f"creating database {server.database}",
            database=MAINTENANCE_DATABASE,
        )
    await _run(
        "pg_restore",
        [
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            server.dbname_arg,
            str(archive.resolve()),
        ],
        server,
        timeout,
    )


@dataclass(frozen=True)
class _Server:
    """A parsed URL: libpq's form of it without the password, and the password apart."""

    raw: URL
    libpq: str
    password: str | None

    @classmethod
    def parse(cls, text: str) -> _Server:
        try:
            url = make_url(text)
        except ArgumentError:
            raise BackupError(f"not a PostgreSQL URL: {Secrets().redact(text)}") from None
        if url.get_backend_name() not in ("postgres", "postgresql"):
            raise BackupError(f"not a PostgreSQL URL: {url.render_as_string(hide_password=True)}")
        password = url.password or url.query.get("password")
        libpq = (
            # Not url.set(): it reads password=None as "leave the password as it is".
            url._replace(drivername="postgresql", password=None)
            .difference_update_query(["password"])
            .render_as_string(hide_password=False)
        )
        return cls(url, libpq, str(password) if password else None)

    @property
    def dbname_arg(self) -> str:
        # The = form: nothing in the URL can be read as another option.
        return f"--dbname={self.libpq}"

    @property
    def database(self) -> str:
        if not self.raw.database:
            raise BackupError(
                f"the URL names no database: {self.raw.render_as_string(hide_password=True)}"
            )
        return self.raw.database

    @property
    def secrets(self) -> Secrets:
        return Secrets([self.password] if self.password else [])

    def environment(self) -> dict[str, str]:
        if self.password is None:
            return dict(os.environ)  # PGPASSWORD or ~/.pgpass may still supply one
        return os.environ | {"PGPASSWORD": self.password}

    async def admin(
        self, statement: sql.Composed, action: str, database: str | None = None
    ) -> None:
        """Run one statement on this server outside a transaction (CREATE/DROP DATABASE), in
        ``database`` (default: the URL's)."""
        await self._execute(statement, action, database)

    async def fetch_one(
        self, statement: sql.SQL | sql.Composed, action: str, database: str | None = None
    ) -> Any:
        """Return the first value of the first row ``statement`` returns (None when no row)."""
        return await self._execute(statement, action, database)

    async def exists(self) -> bool:
        """Return whether the URL's database exists on this server."""
        from psycopg import sql

        found = await self.fetch_one(
            sql.SQL("SELECT 1 FROM pg_database WHERE datname = {}").format(
                sql.Literal(self.database)
            ),
            f"looking up database {self.database}",
            database=MAINTENANCE_DATABASE,
        )
        return found is not None

    async def _execute(
        self, statement: sql.SQL | sql.Composed, action: str, database: str | None
    ) -> Any:
        import psycopg
        from psycopg.conninfo import make_conninfo

        try:
            conn = await psycopg.AsyncConnection.connect(
                make_conninfo(self.libpq, dbname=database) if database else self.libpq,
                password=self.password,
                autocommit=True,
                connect_timeout=_ADMIN_CONNECT_TIMEOUT,
            )
            async with conn:
                cursor = await conn.execute(statement)
                row = await cursor.fetchone() if cursor.description else None
        except psycopg.Error as exc:
            raise BackupError(f"{action} failed: {self.secrets.redact(str(exc))}") from None
        return row[0] if row else None


async def _run(program: str, args: list[str], server: _Server, timeout: float) -> None:
    """Run a PostgreSQL client program without a shell; raise BackupError if it fails."""
    executable = shutil.which(program)
    if executable is None:
        raise BackupError(f"{program} not found: install the PostgreSQL client programs")
    proc = await asyncio.create_subprocess_exec(
        executable,
        # Never wait for a password prompt nobody can answer.
        "--no-password",
        *args,
        env=server.environment(),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(timeout):
            _, stderr = await proc.communicate()
    except TimeoutError:
        raise BackupError(f"{program} timed out after {format_duration(timeout)}") from None
    finally:
        if proc.returncode is None:
            proc.kill()
            # Reap it and drain its pipe, whether we timed out or were cancelled.
            with contextlib.suppress(ProcessLookupError):
                await proc.communicate()
    if proc.returncode != 0:
        said = server.secrets.redact(stderr.decode("utf-8", errors="replace").strip())
        if len(said) > _STDERR_KEPT:
            said = "…" + said[-_STDERR_KEPT:]
        raise BackupError(f"{program} failed (exit {proc.returncode}): {said or 'no message'}")
