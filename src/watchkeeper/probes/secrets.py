"""The secrets probe: scan files for credentials and report where they are, never what they are.

The patterns are gitleaks' (``watchkeeper.secret_rules``). A finding is ``file:line:kind``; the
matched text is dropped as soon as it has been judged, and no measurement or message holds it.
"""

from __future__ import annotations

import asyncio
import fnmatch
import glob
import os
import re
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from watchkeeper.config.specs.secrets import SecretsSpec
from watchkeeper.probes.base import ProbeContext, ProbeError
from watchkeeper.results import Measurements
from watchkeeper.secret_rules import scan_line

SKIPPED_DIRS = frozenset(
    {
        ".git",
        "node_modules",
        ".venv",
        "venv",
        "__pycache__",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".tox",
    }
)
"""Directories a recursive scan does not enter: tool caches and other people's code."""

_BINARY_SNIFF = 8192


async def probe_secrets(spec: SecretsSpec, ctx: ProbeContext, timeout: float) -> Measurements:
    """Given a secrets spec, scan its files and return ``count``, ``findings`` and file counts."""
    deadline = time.monotonic() + timeout
    # File reads block: they run in a thread that checks the deadline between files, so it
    # ends by the timeout even though a thread cannot be cancelled.
    return await asyncio.to_thread(_scan, spec, deadline)


def _scan(spec: SecretsSpec, deadline: float) -> Measurements:
    findings: list[str] = []
    scanned = skipped = 0
    unreadable: list[str] = []
    matched_any = False
    for path in _files(spec):
        matched_any = True
        if time.monotonic() > deadline:
            raise ProbeError(f"timed out after scanning {scanned} files")
        try:
            if path.stat().st_size > spec.max_file_size:
                skipped += 1
                continue
            data = path.read_bytes()
        except OSError:
            unreadable.append(str(path))
            continue
        if b"\0" in data[:_BINARY_SNIFF]:
            skipped += 1
            continue
        scanned += 1
        text = data.decode("utf-8", errors="replace")
        findings += _scan_text(str(path), text)
    if not matched_any:
        raise ProbeError(f"nothing to scan: no file matches {', '.join(spec.paths)}")
    kinds = Counter(finding.rsplit(":", 1)[1] for finding in findings)
    return {
        "count": len(findings),
        "findings": findings,
        "kinds": dict(sorted(kinds.items())),
        "files_scanned": scanned,
        "files_skipped": skipped,
        "unreadable": unreadable,
    }


def _scan_text(name: str, text: str) -> list[str]:
    lines = text.splitlines()
    found = []
    for number, line in enumerate(lines, start=1):
        for kind in scan_line(line):
            if kind == "private_key" and not _key_body_follows(lines, number):
                continue
            found.append(f"{name}:{number}:{kind}")
    return found


def _key_body_follows(lines: list[str], header: int) -> bool:
    # gitleaks wants 64+ characters of key before the END line: a bare header in code or docs
    # (a parser, a README) is not a key.
    body = ""
    for line in lines[header : header + 40]:
        if "PRIVATE KEY" in line and line.startswith("-----END"):
            break
        if ":" not in line:
            body += line.strip()
    return len(body) >= 64 and re.fullmatch(r"[A-Za-z0-9+/=]+", body) is not None


def _files(spec: SecretsSpec) -> Iterator[Path]:
    """Yield every file the spec names, once, in a stable order, without the excluded ones."""
    seen: set[Path] = set()
    for entry in spec.paths:
        if glob.has_magic(entry):
            matches = glob.glob(entry, recursive=True, include_hidden=True)
            candidates = [Path(p) for p in sorted(matches)]
        elif os.path.lexists(entry):
            candidates = [Path(entry)]
        else:
            # A file named outright must be there; only a pattern may match nothing.
            raise ProbeError(f"not found: {entry}")
        for candidate in candidates:
            for path in _walk(candidate) if candidate.is_dir() else [candidate]:
                if path in seen or not path.is_file() or _excluded(spec, path):
                    continue
                seen.add(path)
                yield path


def _walk(root: Path) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        for name in sorted(files):
            yield Path(folder) / name


def _excluded(spec: SecretsSpec, path: Path) -> bool:
    text = path.as_posix()
    return any(
        fnmatch.fnmatch(text, pattern) or fnmatch.fnmatch(path.name, pattern)
        for pattern in spec.exclude
    )
