"""The validated shape of ``watchkeeper.yaml``."""

from __future__ import annotations

import difflib
import re
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from watchkeeper.config.expressions import ExpressionError, parse
from watchkeeper.config.schedules import ScheduleError, parse_schedule
from watchkeeper.config.specs import (
    SPEC_KINDS,
    CommandSpec,
    DatabaseSpec,
    HttpSpec,
    Spec,
    SystemSpec,
    TcpSpec,
    TlsSpec,
)
from watchkeeper.config.types import Duration

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _expression(text: str) -> str:
    try:
        parse(text)
    except ExpressionError as exc:
        raise PydanticCustomError(
            "bad_expression",
            "bad expression: {reason}",
            {"reason": exc.message, "position": exc.position},
        ) from None
    return text


def _schedule(text: str) -> str:
    try:
        parse_schedule(text)
    except ScheduleError as exc:
        raise PydanticCustomError("bad_schedule", "{reason}", {"reason": str(exc)}) from None
    return text


Condition = Annotated[str, AfterValidator(_expression)]
"""A condition in the expression language, e.g. ``response_time > 500ms``."""

ScheduleText = Annotated[str, AfterValidator(_schedule)]
"""An interval, a cron line or a phrase such as ``daily at 09:00``."""


class Model(BaseModel):
    """Base of every config model: unknown keys are errors and models do not change."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Defaults(Model):
    """What every check gets unless it says otherwise."""

    interval: Duration = 60.0
    timeout: Duration = 10.0
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown timezone {v!r}: use an IANA name such as UTC or Europe/Amsterdam"
            ) from None
        return v

    @field_validator("interval", "timeout")
    @classmethod
    def _positive(cls, v: float) -> float:
        if v <= 0:
            raise ValueError("must be greater than zero")
        return v


class Retention(Model):
    """How long results are kept: raw results, then per-minute, per-hour and per-day rollups."""

    raw: Duration = 14 * 86400.0
    minute: Duration = 30 * 86400.0
    hour: Duration = 400 * 86400.0
    day: Duration | None = None


class Server(Model):
    """Where ``watchkeeper serve`` listens and the URL people reach it at."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    base_url: str | None = None


class Check(Model):
    """One check: a probe, when it runs, and the conditions that judge its measurements."""

    name: str
    description: str = ""
    service: str | None = None
    tags: tuple[str, ...] = ()
    enabled: bool = True
    interval: Duration | None = None
    schedule: ScheduleText | None = None
    timeout: Duration | None = None
    expect: tuple[Condition, ...] = ()
    warn: tuple[Condition, ...] = ()
    critical: tuple[Condition, ...] = ()

    http: HttpSpec | None = None
    tcp: TcpSpec | None = None
    tls: TlsSpec | None = None
    command: CommandSpec | None = None
    system: SystemSpec | None = None
    database: DatabaseSpec | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_probe(cls, data: Any) -> Any:
        if isinstance(data, dict):
            kinds = [k for k in SPEC_KINDS if k in data]
            # A misspelt kind (`htp:`) is better reported as an unknown key with a did-you-mean.
            misspelt = any(
                difflib.get_close_matches(str(k), SPEC_KINDS, cutoff=0.6)
                for k in data
                if k not in cls.model_fields
            )
            if not kinds and not misspelt:
                raise ValueError(f"a check needs one probe: {', '.join(SPEC_KINDS)}")
            if len(kinds) > 1:
                raise ValueError(f"a check has one probe, this one has {' and '.join(kinds)}")
            if "interval" in data and "schedule" in data:
                raise ValueError("give either interval or schedule, not both")
        return data

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError(
                f"bad check name {v!r}: use letters, digits, '-', '_' and '.', starting with a letter or digit"
            )
        return v

    @field_validator("interval", "timeout")
    @classmethod
    def _positive(cls, v: float | None) -> float | None:
        if v is not None and v <= 0:
            raise ValueError("must be greater than zero")
        return v

    @property
    def kind(self) -> str:
        """Return the probe kind this check uses, e.g. ``http``."""
        return next(k for k in SPEC_KINDS if getattr(self, k) is not None)

    @property
    def spec(self) -> Spec:
        """Return the probe's spec."""
        spec: Spec = getattr(self, self.kind)
        return spec


class Config(Model):
    """The whole file."""

    version: Literal[1] = 1
    store: str | None = Field(default=None, description="a SQLite path or URL, or a PostgreSQL URL")
    defaults: Defaults = Defaults()
    retention: Retention = Retention()
    server: Server = Server()
    checks: tuple[Check, ...] = ()
