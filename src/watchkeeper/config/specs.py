"""The config of each probe kind: what a user writes under ``http:``, ``tcp:``, ``command:`` …

These are plain validated data; the code that runs them lives in ``watchkeeper.probes``.
"""

from __future__ import annotations

import shlex
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from watchkeeper.config.types import Duration


class Spec(BaseModel):
    """Base of every probe spec: unknown keys are errors, and a default ``expect``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    default_expect: ClassVar[tuple[str, ...]] = ()


class HttpSpec(Spec):
    """An HTTP(S) request → ``status``, ``response_time``, ``headers``, ``body``, ``json``, ``cert_expires_in``."""

    default_expect: ClassVar[tuple[str, ...]] = ("status < 400",)

    url: str
    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] = "GET"
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None
    json_body: object | None = Field(default=None, alias="json")
    follow_redirects: bool = True
    verify_tls: bool = True
    keepalive: bool = True
    max_body: int = 1_000_000

    @field_validator("url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError(f"url must start with http:// or https://, got {v!r}")
        return v

    @model_validator(mode="after")
    def _one_body(self) -> HttpSpec:
        if self.body is not None and self.json_body is not None:
            raise ValueError("give either body or json, not both")
        return self

    @field_validator("method", mode="before")
    @classmethod
    def _upper(cls, v: object) -> object:
        return v.upper() if isinstance(v, str) else v


class TcpSpec(Spec):
    """A TCP connect → ``connect_time``."""

    host: str
    port: int = Field(ge=1, le=65535)


class TlsSpec(Spec):
    """A TLS handshake → ``cert_expires_in``, ``issuer``, ``subject``, ``hostname_matches``."""

    # The handshake itself does not verify, so an expiring or untrusted certificate can still be
    # measured; by default the check then fails unless the chain verifies and the name matches.
    default_expect: ClassVar[tuple[str, ...]] = ("verified == true", "hostname_matches == true")

    host: str
    port: int = Field(default=443, ge=1, le=65535)
    sni: str | None = None
    verify_tls: bool = False


class CommandSpec(Spec):
    """A program run without a shell → ``exit_code``, ``stdout``, ``stderr``, ``duration``."""

    default_expect: ClassVar[tuple[str, ...]] = ("exit_code == 0",)

    argv: tuple[str, ...]
    cwd: str | None = None
    env: dict[str, str] = Field(default_factory=dict)
    max_output: int = 65_536

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: object) -> object:
        # `command: "git status"` and `command: [git, status]` are shorthands for `argv`.
        if isinstance(data, str):
            return {"argv": shlex.split(data)}
        if isinstance(data, list):
            return {"argv": data}
        if isinstance(data, dict) and isinstance(data.get("argv"), str):
            return {**data, "argv": shlex.split(data["argv"])}
        return data

    @field_validator("argv")
    @classmethod
    def _not_empty(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v:
            raise ValueError("argv must name a program")
        return v


class SystemSpec(Spec):
    """Host figures from psutil → ``cpu_percent``, ``memory_used_percent``, ``disk_used_percent`` …"""

    disk: str = "/"
    cpu_sample: Duration = 0.2


class DatabaseSpec(Spec):
    """A database round trip → ``connect_time``, ``query_time``, ``value``, ``connections`` …"""

    url: str = Field(description="a PostgreSQL URL, or sqlite:///path, or a path to a SQLite file")
    query: str | None = None

    @property
    def is_postgres(self) -> bool:
        """Return True when the URL names a PostgreSQL server."""
        return self.url.startswith(("postgres://", "postgresql://", "postgresql+psycopg://"))

    @property
    def sqlite_path(self) -> str:
        """Return the file path of a SQLite URL or bare path."""
        return (
            self.url.removeprefix("sqlite:///") if self.url.startswith("sqlite:///") else self.url
        )


class BackupSpec(Spec):
    """A configured backup's catalogue → ``age``, ``size``, ``count``, ``last_failed``,
    ``verify_failed``, ``last_verified_age``, ``last_restore_time``, ``max_age``."""

    default_expect: ClassVar[tuple[str, ...]] = ("not last_failed", "not verify_failed")

    name: str = Field(description="the name of a backup under `backups:`")


SPEC_KINDS: dict[str, type[Spec]] = {
    "http": HttpSpec,
    "tcp": TcpSpec,
    "tls": TlsSpec,
    "command": CommandSpec,
    "system": SystemSpec,
    "database": DatabaseSpec,
    "backup": BackupSpec,
}
"""Every probe kind by the key a check names it with."""
