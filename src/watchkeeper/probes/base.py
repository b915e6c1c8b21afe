"""The probe contract: an async function from a spec to measurements, and what it may share."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, TypeVar

import aiohttp

from watchkeeper.analytics.errors import ErrorEvent
from watchkeeper.analytics.series import Point
from watchkeeper.config.specs import Spec
from watchkeeper.config.specs.trend import RollupFigure
from watchkeeper.results import Measurements, Result, Status

SpecT_contra = TypeVar("SpecT_contra", bound=Spec, contravariant=True)


class ProbeError(Exception):
    """The probe could not take its measurements (refused, unreachable, not found …).

    The message becomes the result's message, so it says what failed in a user's words.
    """


class Probe(Protocol[SpecT_contra]):
    """Measure one target. Raise ``ProbeError`` when it cannot be measured.

    ``timeout`` is the check's timeout in seconds; a probe that starts something that could
    outlive a cancellation (a process, a thread) must stop it by then.
    """

    async def __call__(
        self, spec: SpecT_contra, ctx: ProbeContext, timeout: float
    ) -> Measurements: ...


@dataclass
class ProbeContext:
    """What probes share across runs: HTTP sessions with their connection pools, and readers of
    the store, set by whoever opened it (probes never open it): a backup's figures by backup name,
    a push check's figures (pings, posted values) by its spec's ``figures_key``, and a check's results over the
    last so many seconds, oldest first."""

    backup_figures: Callable[[str], Measurements] | None = None
    push_figures: Callable[[str], Measurements] | None = None
    recent_results: Callable[[str, float], Sequence[Result]] | None = None
    error_events: Callable[[str, datetime], Sequence[ErrorEvent]] | None = None
    """An ``errors`` check's events (by its spec's ``series``) since a time, oldest first."""
    measurement_points: Callable[[str, str, datetime, datetime], Sequence[Point]] | None = None
    """A check's values of a measurement in (since, until], oldest first."""
    rollup_points: Callable[[str, RollupFigure, datetime, datetime], Sequence[Point]] | None = None
    """A check's hourly latency or failures (rollups, then raw) with since <= hour < until."""
    status_events: Callable[[str, datetime, datetime], Sequence[tuple[datetime, Status]]] | None = (
        None
    )
    """A check's result statuses in (since, until]: raw, and minute rollups before them."""
    latency_points: Callable[[str, datetime, datetime], Sequence[Point]] | None = None
    """A check's kept results' durations (seconds) in (since, until]."""
    _sessions: dict[bool, aiohttp.ClientSession] = field(default_factory=dict)

    def http_session(self, keepalive: bool = True) -> aiohttp.ClientSession:
        """Return the shared session: pooled connections, or a fresh connection per request."""
        session = self._sessions.get(keepalive)
        if session is None or session.closed:
            connector = aiohttp.TCPConnector(
                limit=0,
                force_close=not keepalive,
                ttl_dns_cache=300,
                ssl=ssl.create_default_context(),
            )
            session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=True,
                trust_env=False,
            )
            self._sessions[keepalive] = session
        return session

    async def close(self) -> None:
        """Close every session this context opened."""
        for session in self._sessions.values():
            await session.close()
        self._sessions.clear()
