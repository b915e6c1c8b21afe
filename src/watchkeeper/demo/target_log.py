"""The demo target's application log: two days of history, steady traffic, recurring errors, bursts.

Lines read ``2026-11-22T09:00:00.123Z ERROR [payments] message``. Errors recur with varying ids and
numbers (so fingerprints group them), an unseen error type turns up now and then, and switching a
part to fail writes a burst, so a log check has something real to find.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

TICK_SECONDS = 5.0
BURST_SIZE = 25
HISTORY = timedelta(hours=48)

# Chances per tick (every TICK_SECONDS): a recurring error about every half hour, a new type
# about every three hours; the history places its own so a fresh demo has something to show.
_ERROR_CHANCE = 1 / 360
_NEW_TYPE_CHANCE = 1 / 2160


@dataclass(frozen=True)
class Template:
    """One kind of log line: its level, the component that writes it, and its message."""

    level: str
    source: str
    message: str


TRAFFIC = (
    Template("INFO", "http", "GET /products/{n} 200 in {small}ms"),
    Template("INFO", "http", "POST /cart/items 201 in {small}ms"),
    Template("INFO", "auth", "user {user} signed in"),
    Template("INFO", "worker", "job send_receipt:{hex} finished in {small}ms"),
    Template("INFO", "cache", "warmed {n} keys"),
)
RECURRING = (
    Template("ERROR", "payments", "payment webhook timed out after {ms}ms (order {n})"),
    Template("ERROR", "mailer", "could not send mail to user {user}: SMTP 421 try again later"),
    Template(
        "WARNING", "db", "slow query took {ms}ms: SELECT * FROM orders WHERE customer_id = {user}"
    ),
)
NEW_TYPES = (
    Template("ERROR", "checkout", "KeyError: 'currency' in checkout session {hex}"),
    Template("ERROR", "cache", "redis connection reset by peer (pool {small})"),
    Template("CRITICAL", "uploads", "disk quota exceeded writing /var/uploads/{hex}.jpg"),
    Template("ERROR", "search", "vector index query failed: timeout after {ms}ms (query {hex})"),
)
Line = tuple[datetime, Template, dict[str, str]]  # a time, a template, values beyond the random

# What a failing part writes, per request and as the burst when it is switched on.
FAILURES = {
    "health": Template("ERROR", "db", "could not connect to database at db:5432 (attempt {small})"),
    "backend": Template("ERROR", "db", "connection pool exhausted: {n} waiting (request {hex})"),
    "openai": Template("ERROR", "llm", "provider openai returned 503 for request {hex}"),
    "backup": Template("ERROR", "llm", "provider backup returned 503 for request {hex}"),
    "ollama": Template("ERROR", "llm", "ollama model runner stopped (request {hex})"),
    "agents": Template("ERROR", "agents", "agent content exceeded 300s on task {n}"),
}
_FAILURE = Template("ERROR", "http", "{method} {path} failed: upstream connection refused ({hex})")


class AppLog:
    """The target's log file; every method takes ``now`` so that tests choose the time."""

    def __init__(self, path: Path, rng: random.Random) -> None:
        self.path = path
        self.rng = rng
        path.touch()

    def write(self, lines: list[Line]) -> None:
        """Append lines, each a time, a template and the values it needs beyond the random ones."""
        with self.path.open("a", encoding="utf-8") as f:
            for when, template, given in sorted(lines, key=lambda line: line[0]):
                values = self._values() | given
                message = template.message.format(**values)
                f.write(f"{_stamp(when)} {template.level} [{template.source}] {message}\n")

    def backfill(self, now: datetime) -> None:
        """Write two days of history into an empty log (a log kept from an earlier run stays)."""
        if self.path.stat().st_size:
            return
        lines: list[Line] = []
        when = now - HISTORY
        while when < now:
            lines.append((when, self.rng.choice(TRAFFIC), {}))
            when += timedelta(minutes=self.rng.uniform(3, 9))
        # Per day: one error recurring six times (over the guides' "more than 5 in 24h"),
        # another twice, a slow query four times; below the "fewer than 10 a day" target.
        for day in range(HISTORY // timedelta(days=1)):
            start = now - timedelta(days=day + 1)
            for template, times in zip(RECURRING, (6, 2, 4), strict=True):
                lines += [(self._within(start), template, {}) for _ in range(times)]
        lines.append((now - timedelta(minutes=self.rng.uniform(10, 50)), NEW_TYPES[0], {}))
        self.write(lines)

    def tick(self, now: datetime) -> None:
        """Write one moment of traffic: a request line, sometimes a recurring error or a new type."""
        lines: list[Line] = [(now, self.rng.choice(TRAFFIC), {})]
        if self.rng.random() < _ERROR_CHANCE:
            lines.append((now, self.rng.choice(RECURRING[:2]), {}))
        if self.rng.random() < _NEW_TYPE_CHANCE:
            lines.append((now, self.rng.choice(NEW_TYPES[1:]), {}))
        self.write(lines)

    def request(self, now: datetime, method: str, path: str, part: str, failing: bool) -> None:
        """Write the line one request to ``part`` leaves: a 200, or its part's error."""
        given = {"method": method, "path": path}
        if failing:
            self.write([(now, FAILURES.get(part, _FAILURE), given)])
        else:
            self.write([(now, Template("INFO", "http", "{method} {path} 200"), given)])

    def burst(self, now: datetime, part: str, method: str = "GET", path: str = "/") -> None:
        """Write the burst of errors a part switched to failing produces at once."""
        given = {"method": method, "path": path}
        step = timedelta(milliseconds=40)
        self.write(
            [(now + i * step, FAILURES.get(part, _FAILURE), given) for i in range(BURST_SIZE)]
        )

    def count(self, level: str, since: datetime) -> int:
        """Return how many lines of ``level`` the log holds from ``since`` on."""
        first = _stamp(since)
        with self.path.open(encoding="utf-8") as f:
            return sum(1 for line in f if line[:24] >= first and line[25:].startswith(level + " "))

    def tail(self, level: str, limit: int) -> list[dict[str, str]]:
        """Return the newest ``limit`` lines of ``level`` as timestamp, level, source and message."""
        with self.path.open(encoding="utf-8") as f:
            lines = [line.rstrip("\n") for line in f if line[25:].startswith(level + " ")]
        return [_parsed(line) for line in lines[-limit:]] if limit > 0 else []

    def _within(self, start: datetime) -> datetime:
        return start + timedelta(days=1) * self.rng.random()

    def _values(self) -> dict[str, str]:
        r = self.rng
        return {
            "n": str(r.randint(100, 99999)),
            "small": str(r.randint(3, 240)),
            "ms": str(r.randint(1000, 30000)),
            "user": str(r.randint(1, 5000)),
            "hex": f"{r.getrandbits(32):08x}",
        }


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _parsed(line: str) -> dict[str, str]:
    stamp, level, source, message = line.split(" ", 3)
    return {"timestamp": stamp, "level": level, "source": source.strip("[]"), "message": message}
