"""The log probe: error lines of log files over a recent window, grouped by fingerprint.

Files are read backwards from their end, a block at a time, and only as far as the window (and the
history before it that tells a new kind of error from an old one) reaches, so a large log costs
the size of its recent tail, and memory stays bounded by the block size and the number of kinds.

A line is dated by the ``timestamp`` pattern; a line without a date (a traceback's body, a wrapped
message) takes the date of the dated line above it. A file with no dated line at all takes its
modification time for every line, and is named in ``undated_files``. Compressed files (rotated
``.gz`` …) are skipped.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import glob
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from watchkeeper.config.specs.log import LogSpec
from watchkeeper.config.units import format_duration
from watchkeeper.probes.base import ProbeContext, ProbeError
from watchkeeper.probes.fingerprints import Fingerprint, fingerprint, redact_tokens
from watchkeeper.results import Measurements

_BLOCK = 1 << 20
_MAX_LINE = 1 << 16
_MAX_KINDS = 10_000
"""Kinds tracked per scan; errors of further kinds still count, but are not grouped."""
_TOP = 10
_MAX_LISTED = 50
_MAX_EXAMPLE = 300
_DATE_EVERY = 64
_EDGE_SLACK = 300.0
"""Seconds past the window's start that reading goes on, for lines a little out of order."""
_COMPRESSED = (".gz", ".bz2", ".xz", ".zst", ".zip")
_TRACEBACK = re.compile(r"^Traceback \(most recent call last\)")
# Python joins the tracebacks of one chained exception with these lines.
_CHAIN = re.compile(r"^(During handling of the above exception|The above exception was the direct)")


@dataclass(frozen=True, slots=True)
class _Sighting:
    """``count`` errors of one kind (None: beyond _MAX_KINDS) at ``at`` (epoch seconds)."""

    at: float
    kind: Fingerprint | None
    example: str
    count: int = 1


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
        _BackwardScan(path, mtime, spec, check)
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

    def add(self, seen: _Sighting) -> None:
        self.count += seen.count
        self.per_minute[int(seen.at // 60)] += seen.count
        if seen.kind is None:
            return
        tally = self.kinds.get(seen.kind.key)
        if tally is None:
            if len(self.kinds) >= _MAX_KINDS:
                return
            tally = self.kinds[seen.kind.key] = _Tally(seen.kind, seen.example)
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


@dataclass
class _BackwardScan:
    """One file read from its end: its errors newest first, resumable at a lower floor."""

    path: str
    mtime: float
    spec: LogSpec
    check: Callable[[], None]
    undated: bool = False
    _lines: Generator[str, None, None] | None = None
    _pending: dict[str, _Sighting] = field(default_factory=dict)
    """Undated errors by kind ("" for kinds beyond _MAX_KINDS), until a dated line dates them."""
    _held: str | None = None
    """A traceback's exception line, until the dated line above says whose detail it is."""
    _chained: bool = False
    _below: str = ""
    """The nearest unindented line below the current one: after a traceback, its exception."""
    _oldest: float | None = None
    _dated: bool = False
    _unparsed: int = 0
    _done: bool = False

    def __post_init__(self) -> None:
        self._level = re.compile(self.spec.level)
        self._stamp = re.compile(self.spec.timestamp)
        self._last_stamp: tuple[str, float | None] = ("", None)

    def sightings(self, floor: float) -> Iterator[_Sighting]:
        """Yield errors newest first, until a dated line older than ``floor`` (found within
        _DATE_EVERY lines past it) or the file's start."""
        if self._done:
            return
        if self._lines is None:
            self._lines = _lines_backwards(self.path, self.check)
        for line in self._lines:
            if not line or line.isspace():
                continue
            stamp = self._stamp.search(line)
            error = self._level.search(line) is not None
            if stamp is not None:
                self._dated = True
                # Parsing dates is most of the cost of a quiet line: when no error waits for its
                # date, only one line in _DATE_EVERY is dated, to see where the floor is.
                if not error and not self._pending and self._held is None:
                    self._unparsed += 1
                    if self._unparsed < _DATE_EVERY:
                        self._below = line
                        continue
                self._unparsed = 0
            at = self._date(stamp)
            if at is None or stamp is None:
                self._undated(line, error)
                continue
            if error:
                self._held, self._chained = None, False  # the traceback below is its detail
                yield self._sighting(at, line[: stamp.start()] + line[stamp.end() :], line)
            yield from self._flush(at)
            self._below, self._oldest = line, at
            if at < floor:
                return
        self._done = True
        self.undated = not self._dated
        yield from self._flush(self.mtime if self._oldest is None else self._oldest)

    def close(self) -> None:
        """Close the file, if it is open."""
        if self._lines is not None:
            self._lines.close()

    def _undated(self, line: str, error: bool) -> None:
        if error and _TRACEBACK.match(line):
            # A traceback chained to the one below is part of it; else the one below stands alone.
            if self._held is None or not self._chained:
                if self._held is not None:
                    self._pend(self._held)
                self._held = self._below or line
            self._chained = False
        elif _CHAIN.match(line):
            self._chained = True
            return
        elif error:
            self._pend(line)
        if not line[0].isspace():
            self._below = line.strip()

    def _pend(self, text: str) -> None:
        # Aggregated by kind, so a long undated stretch costs one entry per kind.
        seen = self._sighting(0.0, text, text)
        key = seen.kind.key if seen.kind is not None else ""
        if key not in self._pending and len(self._pending) >= _MAX_KINDS:
            key, seen = "", _Sighting(0.0, None, "")
        before = self._pending.get(key)
        # Read backwards, the first one met is the newest: its example is kept.
        self._pending[key] = replace(before or seen, count=1 + (before.count if before else 0))

    def _flush(self, at: float) -> Iterator[_Sighting]:
        if self._held is not None:
            self._pend(self._held)
            self._held, self._chained = None, False
        for seen in self._pending.values():
            yield _Sighting(at, seen.kind, seen.example, seen.count)
        self._pending.clear()

    def _sighting(self, at: float, text: str, example: str) -> _Sighting:
        return _Sighting(at, fingerprint(text), redact_tokens(example.strip())[:_MAX_EXAMPLE])

    def _date(self, stamp: re.Match[str] | None) -> float | None:
        if stamp is None:
            return None
        text = stamp.group(1) if stamp.re.groups else stamp.group(0)
        if text == self._last_stamp[0]:
            return self._last_stamp[1]
        try:
            if self.spec.timestamp_format:
                parsed = dt.datetime.strptime(text, self.spec.timestamp_format)
            else:
                parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            parsed = None
        # A date without a zone is local time, as the host that wrote the file kept it.
        at = None if parsed is None else parsed.timestamp()
        self._last_stamp = (text, at)
        return at


def _lines_backwards(path: str, check: Callable[[], None]) -> Generator[str, None, None]:
    """Given a file, yield its lines last first (each cut to _MAX_LINE characters, without line
    ends), reading and decoding it a block at a time from its end."""
    try:
        # Opened outside the `with` so that only opening failures become a ProbeError.
        file = open(path, "rb")  # noqa: SIM115
    except OSError as exc:
        raise ProbeError(f"cannot read {path}: {exc.strerror or exc}") from None
    with file:
        position = file.seek(0, os.SEEK_END)
        carry = b""
        while position > 0:
            check()
            step = min(_BLOCK, position)
            position -= step
            file.seek(position)
            data = file.read(step) + carry
            first_end = data.find(b"\n")
            # The first line may continue in the block before; its start is what matters.
            carry = data[: first_end if first_end >= 0 else len(data)][:_MAX_LINE]
            if first_end >= 0:
                # Whole lines only: a newline byte never falls inside a UTF-8 character.
                text = data[first_end + 1 :].decode("utf-8", errors="replace")
                for line in reversed(text.split("\n")):
                    yield line[:_MAX_LINE].rstrip("\r")
        yield carry.decode("utf-8", errors="replace").rstrip("\r")
