"""Batch results from the scheduler into the store, holding them through database outages."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque

from watchkeeper.results import Result
from watchkeeper.store.store import Store, StoreError

log = logging.getLogger("watchkeeper.store")

FIRST_RETRY = 0.5
"""Seconds before the first retry after a failed write; each further failure doubles it."""
MAX_RETRY = 30.0
"""The longest wait between retries while the store is unavailable."""
INLINE_LOCK_WAIT = 0.05
"""Seconds an inline SQLite write waits for another writer's lock before backing off."""


class ResultWriter:
    """Batches results from the scheduler into the store so the store is never the bottleneck.

    Results are written at most ``max_delay`` seconds after they are submitted, in transactions of
    up to ``max_batch``. A SQLite store is written from the event loop itself, a whole batch in one
    turn: a worker thread would wait for the interpreter lock once per row while the loop is busy,
    and fall behind; a PostgreSQL store is written from a thread. When a write fails the results are kept and retried with exponential
    backoff (one error logged per outage). Memory is bounded: past ``max_pending`` waiting results
    the OLDEST are dropped, and how many is logged.
    """

    def __init__(
        self,
        store: Store,
        *,
        max_batch: int = 1000,
        max_delay: float = 0.25,
        max_pending: int = 100_000,
    ) -> None:
        self._store = store
        self._max_batch = max_batch
        self._max_delay = max_delay
        self._max_pending = max_pending
        self._queue: deque[Result] = deque()
        self._in_flight = 0
        self._writing: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._closing = False
        self._failing = False
        self._dropped = 0
        self.written = asyncio.Event()
        """Set after every successful write, for whoever reads results from the store next."""

    @property
    def pending(self) -> int:
        """Return how many submitted results are not written yet."""
        return len(self._queue) + self._in_flight

    def submit(self, result: Result) -> None:
        """Queue ``result`` for writing; never blocks, never raises."""
        self._queue.append(result)
        self._trim()
        if len(self._queue) >= self._max_batch and not self._failing:
            self._wake.set()

    async def run(self) -> None:
        """Write queued results until ``close``; retry failed writes with backoff, never raise."""
        backoff = 0.0
        while not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), backoff or self._max_delay)
            self._wake.clear()
            try:
                await self.flush()
            except Exception as exc:
                backoff = min(max(backoff * 2, FIRST_RETRY), MAX_RETRY)
                self._failed(exc, backoff)
            else:
                if self._failing:
                    log.warning("the store %s is writable again", self._store.display_url)
                    self._failing = False
                backoff = 0.0

    async def flush(self) -> None:
        """Write everything pending now; if the store fails, keep the results, raise StoreError."""
        while self.pending:
            await self._write_next()

    async def close(self) -> None:
        """Stop ``run`` and write everything pending; raises StoreError if that write fails."""
        self._closing = True
        self._wake.set()
        await self.flush()

    async def _write_next(self) -> None:
        if self._dropped:
            log.warning(
                "dropped the %d oldest results: more than %d were waiting to be written",
                self._dropped,
                self._max_pending,
            )
            self._dropped = 0
        if self._store.embedded:
            self._write_inline()
            await asyncio.sleep(0)  # let the checks run between batches
            return
        if self._writing is None:
            batch = [self._queue.popleft() for _ in range(min(self._max_batch, len(self._queue)))]
            self._in_flight = len(batch)
            self._writing = asyncio.create_task(self._write(batch))
            self._writing.add_done_callback(_retrieve)
        # Shielded: a cancelled caller must not abandon the write that decides the batch's fate.
        await asyncio.shield(self._writing)

    def _write_inline(self) -> None:
        batch = [self._queue.popleft() for _ in range(min(self._max_batch, len(self._queue)))]
        try:
            self._store.insert_results(batch, wait=INLINE_LOCK_WAIT)
        except BaseException:
            self._queue.extendleft(reversed(batch))
            self._trim()
            raise
        self.written.set()

    async def _write(self, batch: list[Result]) -> None:
        try:
            await asyncio.to_thread(self._store.insert_results, batch)
            self.written.set()
        except BaseException:
            self._queue.extendleft(reversed(batch))
            self._trim()
            raise
        finally:
            self._in_flight = 0
            self._writing = None

    def _trim(self) -> None:
        while len(self._queue) > self._max_pending:
            self._queue.popleft()
            self._dropped += 1

    def _failed(self, exc: Exception, backoff: float) -> None:
        if self._failing:
            log.debug("still cannot write results; retrying in %.1fs: %s", backoff, exc)
            return
        self._failing = True
        message = str(exc) if isinstance(exc, StoreError) else repr(exc)
        log.error("%s; keeping %d results and retrying with backoff", message, self.pending)


def _retrieve(task: asyncio.Task[None]) -> None:
    # Whoever awaited the write handles its error; this only stops asyncio reporting an orphan's.
    if not task.cancelled():
        task.exception()
