"""The config of push checks: ``heartbeat`` (a job pings us) and ``metric`` (an app posts values)."""

from __future__ import annotations

import hashlib
import re
from enum import StrEnum
from typing import ClassVar

from pydantic import Field, field_validator

from watchkeeper.config.specs.base import Spec
from watchkeeper.config.types import Duration

MIN_TOKEN_LENGTH = 16
"""A token is the only credential of a ping: short ones could be guessed."""

_TOKEN = re.compile(r"[A-Za-z0-9_~.-]+")
_METRIC_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

METRIC_FIGURES = ("count", "mean", "min", "max", "p95", "age", "silent", "error")
"""The figures a metric check measures besides its latest value (named after the metric)."""


class PingKind(StrEnum):
    """What a heartbeat ping says: the job succeeded, started, or failed."""

    SUCCESS = "success"
    START = "start"
    FAIL = "fail"


def token_digest(token: str) -> str:
    """Given a push token, return its SHA-256 (hex): what the store keeps instead of the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def _longer_than_zero(v: float) -> float:
    if v <= 0:
        raise ValueError("must be longer than 0s")
    return v


def valid_token(value: str) -> str:
    """Given a push token from the config, return it, or raise ValueError saying what is wrong."""
    # Tokens travel in URL paths (/api/ping/<token>), so only characters a path keeps as they are.
    if len(value) < MIN_TOKEN_LENGTH:
        raise ValueError(f"a push token needs at least {MIN_TOKEN_LENGTH} characters")
    if not _TOKEN.fullmatch(value):
        raise ValueError("a push token may hold letters, digits, '-', '_', '.' and '~' only")
    return value


class HeartbeatSpec(Spec):
    """Pings from a job or agent (``/api/ping/<token>``, ``/start``, ``/fail``) → ``down``,
    ``last_ping_age``, ``last_ping_kind``, ``running``, ``last_duration``, ``pings_24h`` (and
    ``error`` when it was never pinged within ``period + grace``)."""

    default_expect: ClassVar[tuple[str, ...]] = ("down == false",)
    reads_store: ClassVar[bool] = True

    token: str = Field(description="the secret the job pings with, e.g. ${BACKUP_JOB_TOKEN}")
    period: Duration = Field(description="how often the job pings (or runs)")
    grace: Duration = Field(
        default=3600.0, description="how late a ping (or a started run's end) may be"
    )

    @field_validator("token")
    @classmethod
    def _valid_token(cls, v: str) -> str:
        return valid_token(v)

    _positive = field_validator("period", "grace")(_longer_than_zero)

    @property
    def series(self) -> str:
        """Return the key its pings are stored under: every check with this token shares them."""
        return f"heartbeat/{token_digest(self.token)}"

    @property
    def figures_key(self) -> str:
        """Return what the probe asks ``ProbeContext.push_figures`` for."""
        return self.series


class MetricSpec(Spec):
    """Values an app posts under ``name`` (``POST /api/metrics``) → ``<name>`` (the latest),
    ``count``, ``mean``, ``min``, ``max``, ``p95`` over ``window``, ``age`` of the latest.

    An app posting several names (execution time, memory …) has one ``metric`` check per name,
    all with the same token, so each name has its own thresholds and alerts. ``silent``: nothing
    was ever posted under ``name`` in a ``window`` since the check started watching.
    """

    default_expect: ClassVar[tuple[str, ...]] = ("silent == false",)
    reads_store: ClassVar[bool] = True

    token: str = Field(description="the secret the app posts with, e.g. ${AGENT_TOKEN}")
    name: str = Field(description="the posted value's name, e.g. agent_execution_time")
    window: Duration = Field(default=3600.0, description="the span count, mean, max and p95 cover")

    @field_validator("token")
    @classmethod
    def _valid_token(cls, v: str) -> str:
        return valid_token(v)

    @field_validator("name")
    @classmethod
    def _valid_name(cls, v: str) -> str:
        # The name becomes a measurement that conditions refer to, so it must read as one.
        if not _METRIC_NAME.fullmatch(v) or len(v) > 100:
            raise ValueError(
                f"bad metric name {v!r}: use letters, digits and '_', starting with a letter"
            )
        if v in METRIC_FIGURES:
            raise ValueError(f"{v!r} names one of the figures of a metric; pick another name")
        return v

    _positive = field_validator("window")(_longer_than_zero)

    @property
    def series(self) -> str:
        """Return the key its values are stored under: every check with this token and name
        shares them."""
        return metric_series(token_digest(self.token), self.name)

    @property
    def figures_key(self) -> str:
        """Return what the probe asks ``ProbeContext.push_figures`` for: the series and window."""
        return f"{self.series}/{self.window!r}"


def metric_series(digest: str, name: str) -> str:
    """Given a token's digest and a posted value's name, return the key its values are stored under."""
    return f"metric/{digest}/{name}"
