"""What is kept of a command's output: the end of each stream, secrets redacted, nothing half-hidden."""

from __future__ import annotations

from watchkeeper.config.secrets import Secrets
from watchkeeper.results import Measurements

LEAD = 4_096
"""Bytes read beyond what is kept of a stream cut short, then dropped from its front: a secret
cut in half at the very start would not be recognised, and no secret is this long."""


def read_limit(kept: int) -> int:
    """Given how many bytes of a stream are kept, return how many to read from its end."""
    return kept + LEAD


def kept_output(measured: Measurements, secrets: Secrets) -> tuple[str, bool]:
    """Given a command probe's measurements (read with ``read_limit`` and ``tail=True``), return
    stdout then stderr, each redacted whole before the front of a cut one is dropped, and whether
    either was cut."""
    parts = []
    cut = False
    for stream in ("stdout", "stderr"):
        text = secrets.redact(str(measured[stream]))
        if measured[f"{stream}_truncated"]:
            cut = True
            # Redacted first, so a secret straddling the new front is already ***; the secret cut
            # in half at the old front sits within the LEAD bytes dropped here.
            text = text.encode()[LEAD:].decode(errors="ignore")
        parts.append(text)
    stdout, stderr = parts
    joiner = "\n" if stdout and stderr and not stdout.endswith("\n") else ""
    return stdout + joiner + stderr, cut
