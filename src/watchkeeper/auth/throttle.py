"""Failed sign-ins, counted per user name and per client address, so guessing is slowed to a crawl."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class LoginThrottle:
    """At most ``limit`` failed sign-ins per name and per address within ``window`` seconds."""

    def __init__(
        self, limit: int = 5, window: float = 900.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, name: str, client: str) -> float:
        """Return seconds until ``name`` may try again from ``client``; 0 if it may now."""
        now = self._clock()
        wait = 0.0
        for key in _keys(name, client):
            times = self._recent(key, now)
            if len(times) >= self.limit:
                wait = max(wait, times[0] + self.window - now)
        return wait

    def failed(self, name: str, client: str) -> None:
        """Count a failed sign-in."""
        now = self._clock()
        for key in _keys(name, client):
            self._recent(key, now).append(now)

    def succeeded(self, name: str, client: str | None = None) -> None:
        """Forget the name's failures, and take back the one attempt counted against ``client``.

        The address's other failures stay: one address guessing many names is still slowed.
        """
        self._failures.pop(f"user:{name}", None)
        if client is not None and (times := self._failures.get(f"client:{client}")):
            times.pop()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times and len(self._failures) > 10_000:
            # Bound memory under a spray of names: drop keys with nothing recent. A key is only
            # trimmed when it is looked up again, so judge each by its newest failure.
            cutoff = now - self.window
            for stale in [k for k, v in self._failures.items() if not v or v[-1] <= cutoff]:
                del self._failures[stale]
            times = self._failures.setdefault(key, deque())
        return times


def _keys(name: str, client: str) -> tuple[str, str]:
    return f"user:{name}", f"client:{client}"
