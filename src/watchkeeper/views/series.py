"""A check's latency and failures over a chosen range, at a resolution that keeps charts small."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from watchkeeper.store.rollups import Bucket, Resolution, bucket_series, raw_buckets

RANGES = {
    "1h": timedelta(hours=1),
    "6h": timedelta(hours=6),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
}


Point = Bucket
"""One bucket (or one raw result): how many ran, how many failed, and their latency."""


@dataclass(frozen=True)
class Series:
    """Points oldest first; ``resolution`` is "raw" or a rollup width."""

    check: str
    since: datetime
    until: datetime
    resolution: str
    points: list[Point]


def resolution_for(span: timedelta) -> Resolution | None:
    """Given a range, return the rollup to draw it from, or None for raw results."""
    if span <= RANGES["6h"]:
        return None
    if span <= RANGES["24h"]:
        return Resolution.MINUTE
    return Resolution.HOUR


def read_series(connection: Connection, check: str, since: datetime, until: datetime) -> Series:
    """Return ``check``'s points with since <= start < until: rollups, then raw results after them."""
    resolution = resolution_for(until - since)
    if resolution is None:
        return Series(check, since, until, "raw", raw_buckets(connection, check, since, until))
    points = bucket_series(connection, check, resolution, since, until)
    return Series(check, since, until, resolution.value, points)
