"""Secrets taken from the environment, and their redaction from everything shown or stored."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

REDACTED = "***"
MIN_SECRET_LENGTH = 4
"""Shorter values are not redacted: replacing every "1" or "on" in the output would hide more than it protects."""

_URL_PASSWORD = re.compile(
    r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)(?P<password>[^@/\s]+)(?=@)"
)


class Secrets:
    """The set of secret values one config drew from the environment."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(values)

    def add(self, values: Iterable[str]) -> None:
        """Add secret values; short ones are ignored (see MIN_SECRET_LENGTH)."""
        self._values.update(v for v in values if len(v) >= MIN_SECRET_LENGTH)
        longest_first = sorted(self._values, key=len, reverse=True)
        self._pattern = (
            re.compile("|".join(map(re.escape, longest_first))) if longest_first else None
        )

    @property
    def values(self) -> frozenset[str]:
        """Return the secret values (for merging, never for display)."""
        return frozenset(self._values)

    def redact(self, text: str) -> str:
        """Given text, return it with every secret value and every URL password replaced by ``***``."""
        if self._pattern is not None:
            text = self._pattern.sub(REDACTED, text)
        if "@" not in text:
            return text  # no URL password possible; this runs for every measurement of every result
        return _URL_PASSWORD.sub(lambda m: m.group("head") + REDACTED, text)

    def redact_value(self, value: Any) -> Any:
        """Given a JSON-like value (str, list, dict …), return a copy with secrets redacted in every string."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {self.redact(str(k)): self.redact_value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.redact_value(v) for v in value]
        return value


class RedactingFilter(logging.Filter):
    """A logging filter that redacts secrets from every record's final message."""

    def __init__(self, secrets: Secrets) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        """Render the message, redact it, and drop the arguments so nothing unredacted remains."""
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.secrets.redact(record.exc_text)
        record.msg = self.secrets.redact(message)
        record.args = None
        return True
