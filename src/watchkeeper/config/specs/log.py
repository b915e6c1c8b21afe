"""The config of ``log`` checks."""

from __future__ import annotations

import re
from typing import Annotated, ClassVar

from pydantic import AfterValidator, Field, field_validator, model_validator

from watchkeeper.config.specs.base import Spec, paths_shorthand
from watchkeeper.config.types import Duration

DEFAULT_LEVEL = (
    r"[ECFT](?:(?<=\bE)RROR\b|(?<=\bC)RITICAL\b|(?<=\bF)ATAL\b"
    r"|(?<=^T)raceback \(most recent call last\))"
)
"""The words ERROR, CRITICAL or FATAL, or a line starting a Python traceback. (That is
``\b(?:ERROR|CRITICAL|FATAL)\b|^Traceback …``, written to start with a character class, which
Python's regex engine searches five times faster than an alternation.)"""

DEFAULT_TIMESTAMP = (
    r"^\[?(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)"
)
"""An ISO-8601 date and time at the start of a line, optionally in brackets."""


def _regex(text: str) -> str:
    try:
        re.compile(text)
    except re.error as exc:
        raise ValueError(f"bad regular expression {text!r}: {exc}") from None
    return text


Regex = Annotated[str, AfterValidator(_regex)]


class LogSpec(Spec):
    """Log files (globs) → ``error_count``, ``top_errors``, ``recurring``, ``burst``,
    ``burst_peak_per_hour``, ``new_types`` over a recent window."""

    default_expect: ClassVar[tuple[str, ...]] = ("not burst",)

    path_fields: ClassVar[tuple[str, ...]] = ("paths",)

    paths: tuple[str, ...] = Field(
        description="files or globs; rotated files (app.log.1 …) count when a glob names them"
    )
    window: Duration = Field(default=86400.0, description="how far back errors count")
    history: Duration = Field(
        default=7 * 86400.0,
        description="how far before the window to look for earlier occurrences of an error, "
        "to tell a new kind of error from an old one",
    )
    level: Regex = Field(default=DEFAULT_LEVEL, description="a line matching this is an error")
    recurring_over: int = Field(default=5, ge=0, description="more in the window is recurring")
    burst_over: int = Field(default=20, ge=0, description="more within an hour is a burst")
    timestamp: Regex = Field(
        default=DEFAULT_TIMESTAMP,
        description="finds a line's date: its first group (or the whole match) is the date text;"
        " a date without a zone is in this host's local time",
    )
    timestamp_format: str | None = Field(
        default=None, description="a strptime format for the date text; ISO-8601 when unset"
    )

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: object) -> object:
        # `log: /var/log/app/*.log` is a shorthand for `paths`.
        return paths_shorthand(data)

    @field_validator("paths")
    @classmethod
    def _not_empty(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v:
            raise ValueError("paths must name at least one file or glob")
        return v
