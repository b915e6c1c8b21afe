"""What the analytics share: a measurement point, the length of a day, and the rule that times are
timezone-aware (a naive time would silently compare as local time)."""

from __future__ import annotations

from datetime import datetime

Point = tuple[datetime, float]
"""One measurement: when, and its value."""

DAY = 86400.0
"""Seconds in a day."""


def aware(now: datetime) -> datetime:
    """Given a time, return it; raise ValueError when it is naive (has no timezone)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("times must be timezone-aware (e.g. datetime.now(UTC))")
    return now
