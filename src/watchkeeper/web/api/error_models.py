"""The API's bodies for error events: the patterns ``GET /api/errors`` answers with."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from watchkeeper.analytics.errors import ErrorLevel, ErrorPattern, PatternVerdict, Trigger


class ErrorPatternOut(BaseModel):
    """One kind of error over the span: how often, first and last seen (first over the history
    too), the newest example (secrets masked), its gravest level, flags, triggers and verdict."""

    fingerprint: str
    text: str
    count: int
    first_seen: datetime
    last_seen: datetime
    example: str
    level: ErrorLevel
    peak_per_hour: int
    recurring: bool
    new: bool
    burst: bool
    triggers: list[Trigger]
    verdict: PatternVerdict

    @classmethod
    def of(cls, pattern: ErrorPattern) -> ErrorPatternOut:
        """Given an error pattern, return its JSON form."""
        return cls(
            fingerprint=pattern.fingerprint.key,
            text=pattern.fingerprint.text,
            count=pattern.count,
            first_seen=pattern.first_seen,
            last_seen=pattern.last_seen,
            example=pattern.example,
            level=pattern.level,
            peak_per_hour=pattern.peak,
            recurring=pattern.recurring,
            new=pattern.new,
            burst=pattern.burst,
            triggers=list(pattern.triggers),
            verdict=pattern.verdict,
        )


class ErrorsOut(BaseModel):
    """The error patterns between ``since`` and ``until``, gravest first (at most 200), and how
    many errors of how many kinds there were in all."""

    since: datetime
    until: datetime
    count: int
    kinds: int
    patterns: list[ErrorPatternOut]


class AcceptedOut(BaseModel):
    """How many posted error events were stored."""

    accepted: int
