"""How a report shows its figures: uptimes, changes, lengths of time, latencies, sizes, times."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

DASH = "\N{EN DASH}"
SPARKS = "▁▂▃▄▅▆▇█"


def percent(ratio: float | None) -> str:
    """Given a share (0.995), return ``99.50%`` rounded down (never a false 100%); a dash for None."""
    if ratio is None:
        return DASH
    if ratio >= 1:
        return "100%"
    return f"{int(ratio * 10000) / 100:.2f}%"


def change(fraction: float | None) -> str:
    """Given a relative change (0.4), return ``+40%``; a dash for None."""
    return DASH if fraction is None else f"{fraction:+.0%}"


def span_words(seconds: float | None) -> str:
    """Given seconds, return them as people say them: ``45s``, ``5m``, ``3h``, ``24h``, ``12d``."""
    if seconds is None:
        return DASH
    # Days only from two on: "24h" reads better than "1d" for a day's window.
    for unit, size in (("d", 2 * 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            value = seconds / (86400 if unit == "d" else size)
            shown = f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"
            return f"{shown}{unit}"
    return f"{seconds:.0f}s"


def ms(value: float | None) -> str:
    """Given milliseconds, return ``42 ms`` or ``1.2 s``; a dash for None."""
    if value is None:
        return DASH
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.0f} ms"


def size(value: int | None) -> str:
    """Given bytes, return ``1.5 MB``; a dash for None."""
    if value is None:
        return DASH
    amount, unit = float(value), 0
    while amount >= 1000 and unit < len(_UNITS) - 1:
        amount /= 1000
        unit += 1
    return f"{value} B" if unit == 0 else f"{amount:.1f} {_UNITS[unit]}"


_UNITS = ("B", "kB", "MB", "GB", "TB")


def when(moment: datetime | None, tz: ZoneInfo) -> str:
    """Given an aware time, return it in ``tz`` as ``2026-11-20 14:05``; a dash for None."""
    return DASH if moment is None else moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def number(value: float | None) -> str:
    """Given a figure, return it with up to 4 significant digits; a dash for None."""
    return DASH if value is None else f"{value:.4g}"


def spark(values: list[float | None]) -> str:
    """Given values (None: no data, a space), return a Unicode sparkline from their minimum to
    their maximum; a flat series is a flat line in the middle."""
    known = [v for v in values if v is not None]
    if not known:
        return DASH
    low, high = min(known), max(known)
    top = len(SPARKS) - 1
    return "".join(
        " "
        if v is None
        else SPARKS[top // 2 if high == low else round((v - low) / (high - low) * top)]
        for v in values
    )
