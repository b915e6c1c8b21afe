"""Pydantic field types shared by the config models: durations and sizes written as text."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

from watchkeeper.config.units import UnitError, format_duration, parse_duration, parse_size


def _duration(value: Any) -> float:
    try:
        return parse_duration(value)
    except UnitError as exc:
        raise ValueError(str(exc)) from None


def _size(value: Any) -> int:
    try:
        return parse_size(value)
    except UnitError as exc:
        raise ValueError(str(exc)) from None


Duration = Annotated[float, BeforeValidator(_duration), PlainSerializer(format_duration)]
"""Seconds, written in the config as ``30s``, ``5m``, ``500ms`` or a bare number of seconds."""

Size = Annotated[int, BeforeValidator(_size)]
"""Bytes, written in the config as ``512MB``, ``1GiB`` or a bare number of bytes."""
