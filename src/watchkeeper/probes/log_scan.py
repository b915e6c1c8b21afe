"""The log probe's reading of one file: backwards from its end, a block at a time, into errors
dated by the line above them, newest first.

A line is dated by the ``timestamp`` pattern; a line without a date (a traceback's body, a wrapped
message) takes the date of the dated line above it. A file with no dated line at all takes its
modification time for every line.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field, replace

from watchkeeper.analytics.fingerprints import Fingerprint, fingerprint
from watchkeeper.config.specs.log import LogSpec
from watchkeeper.probes.base import ProbeError

MAX_KINDS = 10_000
"""Kinds tracked per scan; errors of further kinds still count, but are not grouped."""
_BLOCK = 1 << 20
_MAX_LINE = 1 << 16
_DATE_EVERY = 64
_TRACEBACK = re.compile(r"^Traceback \(most recent call last\)")
# Python joins the tracebacks of one chained exception with these lines.
_CHAIN = re.compile(r"^(During handling of the above exception|The above exception was the direct)")


@dataclass(frozen=True, slots=True)
class Sighting:
    """``count`` errors of one kind (None: beyond MAX_KINDS) at ``at`` (epoch seconds), and the
    newest one's line as read: whoever keeps it as an example masks it first."""

    at: float
    kind: Fingerprint | None
    example: str
    count: int = 1


@dataclass
class BackwardScan:
    """One file read from its end: its errors newest first, resumable at a lower floor."""

    path: str
    mtime: float
    spec: LogSpec
    check: Callable[[], None]
    undated: bool = False
    _lines: Generator[str, None, None] | None = None
    _pending: dict[str, Sighting] = field(default_factory=dict)
    """Undated errors by kind ("" for kinds beyond MAX_KINDS), until a dated line dates them."""
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

    def sightings(self, floor: float) -> Iterator[Sighting]:
        """Yield errors newest first, until a dated line older than ``floor`` (found within
        _DATE_EVERY lines past it) or the file's start."""
        if self._done:
            return
        if self._lines is None:
            self._lines = lines_backwards(self.path, self.check)
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
        if key not in self._pending and len(self._pending) >= MAX_KINDS:
            key, seen = "", Sighting(0.0, None, "")
        before = self._pending.get(key)
        # Read backwards, the first one met is the newest: its example is kept.
        self._pending[key] = replace(before or seen, count=1 + (before.count if before else 0))

    def _flush(self, at: float) -> Iterator[Sighting]:
        if self._held is not None:
            self._pend(self._held)
            self._held, self._chained = None, False
        for seen in self._pending.values():
            yield Sighting(at, seen.kind, seen.example, seen.count)
        self._pending.clear()

    def _sighting(self, at: float, text: str, example: str) -> Sighting:
        return Sighting(at, fingerprint(text), example)

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


def lines_backwards(path: str, check: Callable[[], None]) -> Generator[str, None, None]:
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
