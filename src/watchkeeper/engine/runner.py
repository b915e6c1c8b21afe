"""Run one check: probe it within its timeout, judge the measurements, and return a redacted Result."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any

from watchkeeper.config.secrets import Secrets
from watchkeeper.config.units import format_duration
from watchkeeper.engine.evaluator import judge, summarize
from watchkeeper.engine.plan import CheckPlan
from watchkeeper.probes import ProbeContext, ProbeError
from watchkeeper.results import Measurements, Result, Status

log = logging.getLogger("watchkeeper.runner")

MAX_STORED_TEXT = 2000
"""Longer strings in measurements (bodies, command output) are cut before they are kept."""


class Runner:
    """Runs checks with shared probe resources and the config's secrets."""

    def __init__(
        self, ctx: ProbeContext, secrets: Secrets | None = None, *, compact: bool = False
    ) -> None:
        self.ctx = ctx
        self.secrets = secrets or Secrets()
        self.compact = compact
        """Keep only small measurements of passing results (what ``serve`` stores many of)."""

    async def run(self, plan: CheckPlan) -> Result:
        """Given a plan, run it once and return its result; never raises for a failing check."""
        started_at = datetime.now(UTC)
        t0 = time.perf_counter()
        measurements: Measurements = {}
        try:
            # The probe applies the timeout itself for a precise message; this is the backstop.
            async with asyncio.timeout(plan.timeout + 1.0):
                measurements = await plan.probe(plan.spec, self.ctx, plan.timeout)
            status, message = judge(plan.rules, measurements)
        except ProbeError as exc:
            status, message = Status.ERROR, str(exc) or type(exc).__name__
        except TimeoutError:
            status, message = Status.ERROR, f"timed out after {format_duration(plan.timeout)}"
        except Exception as exc:
            # A bug in one probe must not stop the others: record it as this check's error.
            log.exception("check %s: probe %s failed unexpectedly", plan.name, plan.kind)
            status, message = Status.ERROR, f"probe failed: {type(exc).__name__}: {exc}"
        duration_ms = (time.perf_counter() - t0) * 1000
        if status is Status.OK and not self.compact:
            # Stored passing results get theirs when shown: this runs thousands of times a second.
            message = summarize(plan.rules, measurements)
        kept = (
            _scalars(measurements) if self.compact and not status.failing else _trim(measurements)
        )
        return Result(
            check=plan.name,
            started_at=started_at,
            status=status,
            duration_ms=round(duration_ms, 3),
            message=self.secrets.redact(message),
            measurements=self.secrets.redact_value(kept),
        )


def _scalars(measurements: Measurements) -> Measurements:
    """Given a passing result's measurements, return the small ones worth keeping for history.

    Bodies, headers and parsed JSON are kept only for failing results, where they explain the failure.
    """
    return {
        k: v
        for k, v in measurements.items()
        if v is None or isinstance(v, int | float | bool) or (isinstance(v, str) and len(v) <= 200)
    }


def _trim(value: Any) -> Any:
    if isinstance(value, str):
        return value if len(value) <= MAX_STORED_TEXT else value[:MAX_STORED_TEXT] + "…"
    if isinstance(value, dict):
        return {k: _trim(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_trim(v) for v in value[:200]]
    return value
