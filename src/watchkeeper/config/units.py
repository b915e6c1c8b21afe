"""Durations (``500ms``, ``2s``, ``14d``) and sizes (``512MB``) as the config and expressions write them."""

from __future__ import annotations

import re

DURATION_UNITS: dict[str, float] = {
    "ms": 0.001,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    "w": 604800.0,
}
SIZE_UNITS: dict[str, int] = {
    "B": 1,
    "KB": 1000,
    "MB": 1000**2,
    "GB": 1000**3,
    "TB": 1000**4,
    "KIB": 1024,
    "MIB": 1024**2,
    "GIB": 1024**3,
    "TIB": 1024**4,
}

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)$", re.IGNORECASE)


class UnitError(ValueError):
    """A duration or size that cannot be read."""


def parse_duration(text: str | float | int) -> float:
    """Given ``30s``, ``1h30m``, ``500ms`` or a number of seconds, return seconds as a float."""
    if isinstance(text, bool):
        raise UnitError(f"bad duration {text!r}: expected e.g. 30s, 5m, 500ms")
    if isinstance(text, int | float):
        if text < 0:
            raise UnitError(f"bad duration {text!r}: must not be negative")
        return float(text)
    s = text.strip().replace(" ", "")
    pos, total = 0, 0.0
    for m in _DURATION_PART.finditer(s):
        if m.start() != pos:
            break
        total += float(m.group(1)) * DURATION_UNITS[m.group(2)]
        pos = m.end()
    if pos == 0 or pos != len(s):
        raise UnitError(
            f"bad duration {text!r}: expected a number with a unit (ms, s, m, h, d, w), e.g. 30s or 1h30m"
        )
    return total


def parse_size(text: str | int) -> int:
    """Given ``512MB``, ``1.5GiB`` or a number of bytes, return bytes."""
    if isinstance(text, bool):
        raise UnitError(f"bad size {text!r}: expected e.g. 512MB")
    if isinstance(text, int):
        return text
    m = _SIZE.match(text.strip())
    if not m:
        raise UnitError(
            f"bad size {text!r}: expected a number with a unit (B, KB, MB, GB, KiB, MiB, GiB)"
        )
    return int(float(m.group(1)) * SIZE_UNITS[m.group(2).upper()])


def format_duration(seconds: float) -> str:
    """Given seconds, return a short human form such as ``850ms``, ``42s``, ``3h5m`` or ``14d``."""
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.3g}s"
    parts = []
    rest = round(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size:
            parts.append(f"{rest // size}{unit}")
            rest %= size
        if len(parts) == 2:
            break
    return "".join(parts)
