"""Judge measurements: ``expect`` must hold, ``critical`` and ``warn`` must not."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from watchkeeper.config.expressions import EvaluationError, Expression, parse, resolve
from watchkeeper.config.units import format_duration
from watchkeeper.results import Measurements, Status

_DURATION_HINTS = ("_time", "duration", "_expires_in", "_age", "_in")
_DURATION_NAMES = {"age", "uptime", "lcp", "time_to_limit", "alert_within"}
_SIZE_HINTS = (
    "_bytes",
    "disk_free",
    "disk_total",
    "memory_available",
    "size",
    "used_memory",
    "maxmemory",
)


@dataclass(frozen=True)
class Rules:
    """A check's conditions, parsed once."""

    expect: tuple[Expression, ...] = ()
    warn: tuple[Expression, ...] = ()
    critical: tuple[Expression, ...] = ()

    @classmethod
    def parse(
        cls,
        expect: Sequence[str],
        warn: Sequence[str] = (),
        critical: Sequence[str] = (),
        default_expect: Sequence[str] = (),
        default_warn: Sequence[str] = (),
    ) -> Rules:
        """Given condition texts (already validated), return them parsed; no ``expect`` (or no
        ``warn``) means the kind's defaults."""
        return cls(
            expect=tuple(parse(t) for t in (expect or default_expect)),
            warn=tuple(parse(t) for t in (warn or default_warn)),
            critical=tuple(parse(t) for t in critical),
        )


def judge(rules: Rules, measurements: Measurements) -> tuple[Status, str]:
    """Given rules and measurements, return the status and a message naming what failed, with values."""
    failures = []
    for expr in rules.expect:
        held, note = _holds(expr, measurements)
        if not held:
            failures.append(f"expected {expr.source} ({note or _values(expr, measurements)})")
    failures += [
        f"{e.source} ({_values(e, measurements)})"
        for e in rules.critical
        if _holds(e, measurements)[0]
    ]
    if failures:
        return Status.CRITICAL, "; ".join(failures) + _said(measurements)
    warnings = [
        f"{e.source} ({_values(e, measurements)})" for e in rules.warn if _holds(e, measurements)[0]
    ]
    if warnings:
        return Status.WARNING, "; ".join(warnings)
    return Status.OK, ""


def _said(measurements: Measurements) -> str:
    # A probe that measured a failure in words (an API's error text) puts it in `error`: the
    # conditions name the figures, this names the cause.
    error = measurements.get("error")
    return f" — {error}" if isinstance(error, str) and error else ""


def summarize(rules: Rules, measurements: Measurements, most: int = 3) -> str:
    """Given rules and measurements, return the values the rules look at, e.g. ``status = 200``."""
    paths = dict.fromkeys(p for e in (*rules.expect, *rules.critical, *rules.warn) for p in e.paths)
    shown = []
    for path in list(paths)[:most]:
        try:
            shown.append(f"{path} = {format_value(path, resolve(measurements, path))}")
        except EvaluationError:
            continue
    return ", ".join(shown)


def _holds(expr: Expression, measurements: Measurements) -> tuple[bool, str]:
    # A condition that cannot be decided (a missing measurement) does not hold; the reason is kept.
    try:
        return expr.evaluate(measurements), ""
    except EvaluationError as exc:
        return False, str(exc)


def _values(expr: Expression, measurements: Measurements) -> str:
    shown = []
    for path in expr.paths:
        try:
            shown.append(f"{path} = {format_value(path, resolve(measurements, path))}")
        except EvaluationError:
            shown.append(f"{path} missing")
    return ", ".join(shown)


def format_value(name: str, value: Any) -> str:
    """Given a measurement's name and value, return it as a person reads it (``2.3s``, ``91%``, ``12 MB``)."""
    if isinstance(value, bool) or value is None:
        return str(value).lower()
    if isinstance(value, int | float):
        leaf = name.rsplit(".", 1)[-1]
        if leaf.endswith("_percent") or leaf.endswith("_ratio"):
            return f"{value:.1f}%" if leaf.endswith("_percent") else f"{value:.3f}"
        if leaf in _DURATION_NAMES or any(leaf.endswith(h) for h in _DURATION_HINTS):
            return ("-" if value < 0 else "") + format_duration(abs(float(value)))
        if any(leaf.endswith(h) for h in _SIZE_HINTS):
            return _format_size(float(value))
        return f"{value:g}" if isinstance(value, float) else str(value)
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, str) else str(value)
    return text if len(text) <= 80 else text[:77] + "…"


def _format_size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")
