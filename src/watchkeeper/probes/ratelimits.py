"""Rate-limit headers of LLM providers, read into figures: limits, what remains, and when it resets."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from watchkeeper.config.units import UnitError, parse_duration
from watchkeeper.results import Measurements

_FAMILIES: tuple[tuple[str, str], ...] = (
    # (measurement infix, header-name pattern with {field}), first match wins per figure.
    ("requests", "x-ratelimit-{field}-requests"),
    ("tokens", "x-ratelimit-{field}-tokens"),
    ("requests", "anthropic-ratelimit-requests-{field}"),
    ("tokens", "anthropic-ratelimit-tokens-{field}"),
    ("requests", "x-ratelimit-{field}"),
)


def ratelimit_figures(headers: Mapping[str, str], now: datetime) -> Measurements:
    """Given a response's headers (names lowercased) and the time, return the rate-limit figures
    they carry: ``ratelimit_{requests,tokens}_{limit,remaining,reset_in}`` and
    ``quota_used_percent``, the most used of the known limits.

    Understands OpenAI's ``x-ratelimit-limit-requests`` family (Groq, Together, Mistral …),
    Anthropic's ``anthropic-ratelimit-*`` and the generic ``x-ratelimit-limit`` (OpenRouter).
    """
    figures: Measurements = {}
    for kind, pattern in _FAMILIES:
        for field, parse in (("limit", _count), ("remaining", _count), ("reset", None)):
            name = f"ratelimit_{kind}_{field}" + ("_in" if field == "reset" else "")
            raw = headers.get(pattern.format(field=field))
            if name in figures or raw is None:
                continue
            value = parse(raw) if parse is not None else seconds_until(raw, now)
            if value is not None:
                figures[name] = value
    used = [
        100.0 * (limit - figures[f"ratelimit_{kind}_remaining"]) / limit
        for kind in ("requests", "tokens")
        if (limit := figures.get(f"ratelimit_{kind}_limit"))
        and f"ratelimit_{kind}_remaining" in figures
    ]
    if used:
        figures["quota_used_percent"] = max(0.0, min(100.0, max(used)))
    return figures


def _count(text: str) -> int | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return int(value) if math.isfinite(value) and value >= 0 else None


def seconds_until(text: str, now: datetime) -> float | None:
    """Given a reset or retry time as providers write it, return the seconds until then.

    ``6m0s`` / ``20ms`` (OpenAI, Groq), an RFC 3339 time (Anthropic), a number of seconds, or a
    Unix time in seconds or milliseconds (OpenRouter) when the number is too large to be a wait,
    or an HTTP date (``Retry-After``).
    """
    text = text.strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(number) or number < 0:
            return None
        if number > 1e12:
            return max(0.0, number / 1000 - now.timestamp())
        if number > 1e9:
            return max(0.0, number - now.timestamp())
        return number
    try:
        return parse_duration(text)
    except UnitError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)  # Retry-After as an HTTP date
        except (ValueError, TypeError):
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - now).total_seconds())
