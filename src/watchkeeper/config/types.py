"""What the config models share: their base, and fields written as text (durations, sizes, conditions, schedules)."""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, PlainSerializer
from pydantic_core import PydanticCustomError

from watchkeeper.config.expressions import ExpressionError, parse
from watchkeeper.config.schedules import ScheduleError, parse_schedule
from watchkeeper.config.units import UnitError, format_duration, parse_duration, parse_size

MAX_DURATION = 100 * 365 * 86400.0
"""A century: anything longer is a typo, and would overflow date arithmetic."""


def _duration(value: Any) -> float:
    try:
        seconds = parse_duration(value)
    except UnitError as exc:
        raise ValueError(str(exc)) from None
    if not math.isfinite(seconds) or seconds > MAX_DURATION:
        raise ValueError(f"bad duration {value!r}: must be a finite time of at most 100 years")
    return seconds


def at_least_a_millisecond(value: float | None) -> float | None:
    """Given an interval or timeout in seconds, return it, or raise if shorter than 1ms."""
    if value is not None and value < 0.001:
        raise ValueError("must be at least 1ms")
    return value


def _size(value: Any) -> int:
    try:
        return parse_size(value)
    except UnitError as exc:
        raise ValueError(str(exc)) from None


Duration = Annotated[float, BeforeValidator(_duration), PlainSerializer(format_duration)]
"""Seconds, written in the config as ``30s``, ``5m``, ``500ms`` or a bare number of seconds."""

Size = Annotated[int, BeforeValidator(_size)]
"""Bytes, written in the config as ``512MB``, ``1GiB`` or a bare number of bytes."""


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


_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def valid_name(value: str, what: str) -> str:
    """Given the name of a procedure, runbook, backup or report and what it names, return it, or
    raise ValueError saying how such names are made."""
    if not _NAME.match(value):
        raise ValueError(
            f"bad {what} name {value!r}: use letters, digits, '-', '_' and '.', "
            "starting with a letter or digit"
        )
    return value


def one_or_more(value: Any) -> Any:
    """Given a list of names as written, return it as a list: one name alone may stand for it."""
    return (value,) if isinstance(value, str) else value
