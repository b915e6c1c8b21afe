"""Error fingerprints: one log message → a stable key and its normalised text, so that the same
error with different ids, numbers, quoted values or times counts as one kind of error.

Pure functions, shared by the ``log`` probe and the analytics of error patterns.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from watchkeeper.secret_rules import mask_secrets

REDACTED_MARK = "<redacted>"

MAX_TEXT = 500
"""Normalised texts are cut here before hashing: a long tail of payload rarely names another error."""

# Any run this long of key-like characters may be a token, key or password: never kept, unless
# it is CamelCase words only (ConnectionRefusedError), which a generated secret almost never is.
_LONG_TOKEN = re.compile(
    r"(?<![A-Za-z0-9_-])"
    r"(?![A-Z]+[a-z]{2,}(?:[A-Z]+[a-z]{2,})*(?![A-Za-z0-9_-]))"
    r"[A-Za-z0-9_-]{20,}"
)

# Order matters: whole timestamps and UUIDs before the numbers inside them, quoted values before
# their contents, hex before decimal. Placeholders hold no digits or quotes, so the rules are
# idempotent.
_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?"
            r"(?:Z|[+-]\d{2}(?::?\d{2})?)?)?"
        ),
        "<ts>",
    ),
    (re.compile(r"\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b"), "<ts>"),
    (
        re.compile(
            r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
        ),
        "<uuid>",
    ),
    (re.compile(r"(?<![A-Za-z0-9])'[^'\n]*'(?![A-Za-z0-9])"), "<str>"),
    (re.compile(r'"[^"\n]*"'), "<str>"),
    (_LONG_TOKEN, REDACTED_MARK),
    (re.compile(r"\b0[xX][0-9a-fA-F]+\b"), "<hex>"),
    # A hex id: eight or more hex digits, both letters and digits among them (so "accessed" is a
    # word, and an all-decimal id is a number like its shorter siblings).
    (re.compile(r"\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b"), "<hex>"),
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b"), "<ip>"),
    # Numbers, also inside paths and names (/users/42, worker-3), but not a word's suffix
    # (sha256, utf8, http2 name a thing, not an instance).
    (re.compile(r"(?<![A-Za-z0-9])[-+]?\d+(?:\.\d+)?"), "<n>"),
    (re.compile(r"\s+"), " "),
)


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """A kind of error: ``key`` a short stable hash, ``text`` the normalised message it hashes."""

    key: str
    text: str


def normalise(message: str) -> str:
    """Given a log message, return it with secrets masked, numbers, ids, quoted values, times and
    long tokens replaced by placeholders, whitespace collapsed, cut to MAX_TEXT characters."""
    text = mask_secrets(message, REDACTED_MARK)
    for pattern, placeholder in _RULES:
        text = pattern.sub(placeholder, text)
    return text.strip()[:MAX_TEXT]


def fingerprint(message: str) -> Fingerprint:
    """Given a log message, return its fingerprint: the same for messages that differ only in
    what ``normalise`` replaces."""
    text = normalise(message)
    key = hashlib.blake2b(text.encode("utf-8"), digest_size=6).hexdigest()
    return Fingerprint(key=key, text=text)


def redact_tokens(text: str) -> str:
    """Given text, return it with the secrets the secrets probe's rules find (a URL's password,
    ``password=…``) masked, and every other run of 20 or more ``[A-Za-z0-9_-]`` replaced by
    ``<redacted>`` (keys, tokens and hashes look like that), but for CamelCase words."""
    return _LONG_TOKEN.sub(REDACTED_MARK, mask_secrets(text, REDACTED_MARK))
