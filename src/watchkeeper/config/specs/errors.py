"""The config of ``errors`` checks: error events an app posts (``POST /api/errors``), judged by
the error review of 003's guide (recurring, new, bursts, floods)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator

from watchkeeper.config.specs.base import Spec
from watchkeeper.config.specs.push import token_digest, valid_token
from watchkeeper.config.types import Duration

Level = Literal["debug", "info", "warning", "error", "critical"]
"""The levels of ``analytics.errors.ErrorLevel`` (not imported: the analytics import the probes,
which import these specs)."""

MAX_TAG_FILTERS = 20
"""Tags a check may filter on: as many as an event may carry."""


class ErrorsSpec(Spec):
    """Error events an app posts with ``token`` → ``error_count``, ``kinds``, ``top_errors``,
    ``recurring``, ``new_types``, ``burst``, ``burst_peak_per_hour``, ``clusters`` and ``verdict``
    (``none``, ``investigate``, ``escalate`` or ``critical``) over ``window``.

    By default an escalation or a critical verdict fails the check (the guide's "Escalation
    Criteria"), and one to investigate is a warning (what the daily review looks into).
    """

    default_expect: ClassVar[tuple[str, ...]] = (
        'verdict != "critical"',
        'verdict != "escalate"',
    )
    default_warn: ClassVar[tuple[str, ...]] = ('verdict == "investigate"',)
    reads_store: ClassVar[bool] = True

    token: str = Field(description="the secret the app posts with, e.g. ${APP_ERRORS_TOKEN}")
    window: Duration = Field(default=86400.0, description="the span errors are counted over")
    history: Duration = Field(
        default=7 * 86400.0,
        description="how far before the window an error kind must not have been seen to be new",
    )
    level: Level = Field(
        default="error",
        description="the least severe level counted (debug, info, warning, error, critical); "
        "the guide reviews its error log",
    )
    tags: dict[str, str] = Field(
        default_factory=dict, description="count only events carrying all these tags"
    )
    recurring_over: int = Field(default=5, ge=0, description="more of a kind is recurring")
    escalate_over: int = Field(default=10, ge=0, description="more of a kind is escalated")
    burst_over: int = Field(default=20, ge=0, description="more within an hour is a burst")
    critical_over: int = Field(default=50, ge=0, description="more in the window is critical")

    @field_validator("token")
    @classmethod
    def _valid_token(cls, v: str) -> str:
        return valid_token(v)

    @field_validator("window", "history")
    @classmethod
    def _positive(cls, v: float) -> float:
        if v <= 0:
            raise ValueError("must be longer than 0s")
        return v

    @field_validator("level", mode="before")
    @classmethod
    def _fatal_is_critical(cls, v: object) -> object:
        # Sentry calls its gravest level fatal.
        return "critical" if v == "fatal" else v

    @field_validator("tags")
    @classmethod
    def _few_tags(cls, v: dict[str, str]) -> dict[str, str]:
        if len(v) > MAX_TAG_FILTERS:
            raise ValueError(f"at most {MAX_TAG_FILTERS} tags")
        return v

    @property
    def series(self) -> str:
        """Return the key its events are stored under: every check with this token shares them."""
        return errors_series(token_digest(self.token))


def errors_series(digest: str) -> str:
    """Given a token's digest, return the key its error events are stored under."""
    return f"errors/{digest}"
