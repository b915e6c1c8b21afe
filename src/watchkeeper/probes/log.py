"""The log probe: error lines of log files over a recent window, grouped by fingerprint.

Files are read backwards from their end, a block at a time, and only as far as the window (and the
history before it that tells a new kind of error from an old one) reaches, so a large log costs
the size of its recent tail, and memory stays bounded by the block size and the number of kinds.

How lines are dated and grouped is in ``log_scan``. A file with no dated line at all is named in
``undated_files``. Compressed files (rotated ``.gz`` …) are skipped.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import glob
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from watchkeeper.analytics.fingerprints import Fingerprint, redact_tokens
from watchkeeper.config.specs.log import LogSpec
from watchkeeper.config.units import format_duration
from watchkeeper.probes.base import ProbeContext, ProbeError
from watchkeeper.probes.log_scan import MAX_KINDS, BackwardScan, Sighting
from watchkeeper.results import Measurements

_TOP = 10
_MAX_LISTED = 50
_MAX_EXAMPLE = 300
_EDGE_SLACK = 300.0
"""Seconds past the window's start that reading goes on, for lines a little out of order."""
_COMPRESSED = (".gz", ".bz2", ".xz", ".zst", ".zip")


@dataclass(slots=True)
class _Tally:
    kind: Fingerprint
    example: str
    count: int = 0


async def probe_log(
    spec: LogSpec, ctx: ProbeContext, timeout: float, *, now: dt.datetime | None = None
) -> Measurements:
    """Given a log spec, return ``error_count``, ``top_errors``, ``recurring``, ``max_recurrence``,
    ``burst``, ``burst_peak_per_hour``, ``new_types``, ``files`` and ``undated_files``.

    ``now`` (tests) replaces the clock.
    """
    moment = (now or dt.datetime.now(dt.UTC)).timestamp()
    # A thread cannot be cancelled, so the scan checks this flag (and its deadline) per block.
    stop = threading.Event()
    try:
        return await asyncio.to_thread(scan_logs, spec, moment, timeout, stop)
    except asyncio.CancelledError:
        stop.set()
        raise


def scan_logs(
    spec: LogSpec, now: float, timeout: float, stop: threading.Event | None = None
) -> Measurements:
    """Given a log spec and the time (epoch seconds), return the log measurements; raise
    ProbeError once ``timeout`` seconds have passed or ``stop`` is set."""
    deadline = time.monotonic() + timeout

    def check() -> None:
        if time.monotonic() > deadline or (stop is not None and stop.is_set()):
            raise ProbeError(f"timed out after {format_duration(timeout)}")

    start = now - spec.window
    horizon = start - spec.history
    scans = [
        BackwardScan(path, mtime, spec, check)
        for path, mtime in _files(spec.paths)
        if mtime >= horizon
    ]
    window = _Window()
    earlier: set[str] = set()
    try:
        # First every file's window, so that all kinds in it are known before looking further back.
        for scan in scans:
            if scan.mtime < start:
                continue
            for seen in scan.sightings(floor=start - _EDGE_SLACK):
                if seen.at >= start:
                    window.add(seen)
                elif seen.at >= horizon and seen.kind is not None:
                    earlier.add(seen.kind.key)
        # Then back through the history, only until every kind in the window has been met before.
        unmet = window.kinds.keys() - earlier
        for scan in scans:
            if not unmet:
                break
            for seen in scan.sightings(floor=horizon):
                if seen.at >= horizon and seen.kind is not None:
                    earlier.add(seen.kind.key)
                    unmet.discard(seen.kind.key)
                    if not unmet:
                        break
    finally:
        for scan in scans:
            scan.close()
    return window.measurements(spec, earlier) | {
        "files": len(scans),
        "undated_files": [scan.path for scan in scans if scan.undated],
    }


def _files(patterns: tuple[str, ...]) -> list[tuple[str, float]]:
    """Given globs, return the regular, uncompressed files they match with their mtimes."""
    found: dict[str, float] = {}
    for pattern in patterns:
        for name in sorted(glob.glob(os.path.expanduser(pattern), recursive=True)):
            if name.endswith(_COMPRESSED) or name in found:
                continue
            try:
                st = os.stat(name)
            except OSError:
                continue  # rotated away between the glob and the stat
            if Path(name).is_file():
                found[name] = st.st_mtime
    if not found:
        raise ProbeError(f"no log file matches {', '.join(patterns)}")
    return list(found.items())


class _Window:
    """What was seen inside the window: kinds with counts, and errors per minute."""

    def __init__(self) -> None:
        self.kinds: dict[str, _Tally] = {}
        self.count = 0
        self.per_minute: Counter[int] = Counter()

    def add(self, seen: Sighting) -> None:
        self.count += seen.count
        self.per_minute[int(seen.at // 60)] += seen.count
        if seen.kind is None:
            return
        tally = self.kinds.get(seen.kind.key)
        if tally is None:
            if len(self.kinds) >= MAX_KINDS:
                return
            # Masked once per kind, not per line: the scan's costliest step after the dates.
            example = redact_tokens(seen.example.strip())[:_MAX_EXAMPLE]
            tally = self.kinds[seen.kind.key] = _Tally(seen.kind, example)
        tally.count += seen.count

    def measurements(self, spec: LogSpec, earlier: set[str]) -> Measurements:
        ranked = sorted(self.kinds.values(), key=lambda t: (-t.count, t.kind.key))
        peak = _peak_per_hour(self.per_minute)
        return {
            "error_count": self.count,
            "top_errors": [
                {
                    "fingerprint": t.kind.key,
                    "text": t.kind.text,
                    "count": t.count,
                    "example": t.example,
                }
                for t in ranked[:_TOP]
            ],
            "recurring": [t.kind.key for t in ranked if t.count > spec.recurring_over][
                :_MAX_LISTED
            ],
            "max_recurrence": ranked[0].count if ranked else 0,
            "burst": peak > spec.burst_over,
            "burst_peak_per_hour": peak,
            "new_types": [t.kind.key for t in ranked if t.kind.key not in earlier][:_MAX_LISTED],
        }


def _peak_per_hour(per_minute: Counter[int]) -> int:
    """Given error counts per minute, return the most errors within any 60 consecutive minutes."""
    minutes = sorted(per_minute.items())
    peak = total = left = 0
    for minute, count in minutes:
        total += count
        while minutes[left][0] <= minute - 60:
            total -= minutes[left][1]
            left += 1
        peak = max(peak, total)
    return peak
