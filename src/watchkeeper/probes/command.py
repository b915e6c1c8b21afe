"""The command probe: run a program without a shell and report its exit code and output."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time

from watchkeeper.config.specs import CommandSpec
from watchkeeper.config.units import format_duration
from watchkeeper.probes.base import ProbeContext, ProbeError
from watchkeeper.results import Measurements

_GRACE = 1.0
"""Seconds a timed-out command gets to exit on SIGTERM before its group is sent SIGKILL."""

_CHUNK = 65_536


async def probe_command(
    spec: CommandSpec, ctx: ProbeContext, timeout: float, *, tail: bool = False
) -> Measurements:
    """Given a command spec, run it and return ``exit_code``, ``stdout``, ``stderr``, ``duration``.

    Each stream keeps its first ``spec.max_output`` bytes, or with ``tail`` its last (where a
    failing script says why). On timeout or cancellation the command's whole process group is
    killed and reaped.
    """
    started = time.perf_counter()
    proc = await _spawn(spec)
    try:
        async with asyncio.timeout(timeout):
            (stdout, stdout_cut), (stderr, stderr_cut) = await asyncio.gather(
                _read_capped(proc.stdout, spec.max_output, tail),
                _read_capped(proc.stderr, spec.max_output, tail),
            )
            exit_code = await proc.wait()
    except TimeoutError:
        await _stop_group(proc)
        raise ProbeError(
            f"timed out after {format_duration(timeout)}; killed process group {proc.pid}"
        ) from None
    except BaseException:
        await _stop_group(proc)
        raise
    return {
        "exit_code": exit_code,
        "stdout": stdout.decode("utf-8", errors="replace"),
        "stderr": stderr.decode("utf-8", errors="replace"),
        "stdout_truncated": stdout_cut,
        "stderr_truncated": stderr_cut,
        "duration": time.perf_counter() - started,
    }


async def _spawn(spec: CommandSpec) -> asyncio.subprocess.Process:
    program = spec.argv[0]
    try:
        # A new session makes the command the leader of its own process group, so a timeout
        # can kill everything it started, grandchildren included.
        return await asyncio.create_subprocess_exec(
            *spec.argv,
            cwd=spec.cwd,
            env=os.environ | spec.env,
            start_new_session=True,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as exc:
        if spec.cwd is not None and exc.filename == spec.cwd:
            raise ProbeError(f"cannot use working directory {spec.cwd}: {exc.strerror}") from None
        if isinstance(exc, FileNotFoundError):
            raise ProbeError(f"command not found: {program}") from None
        if isinstance(exc, PermissionError):
            raise ProbeError(f"command not executable: {program}") from None
        raise ProbeError(f"cannot run {program}: {exc.strerror or exc}") from None


async def _read_capped(
    stream: asyncio.StreamReader | None, limit: int, tail: bool = False
) -> tuple[bytes, bool]:
    """Given a pipe, read it to its end; return its first (or last) ``limit`` bytes and whether
    more came."""
    if stream is None:
        return b"", False
    kept = bytearray()
    truncated = False
    # Keep reading past the limit so a chatty command never blocks on a full pipe.
    while chunk := await stream.read(_CHUNK):
        if tail:
            kept += chunk
            if len(kept) > limit:
                truncated = True
                del kept[: len(kept) - limit]
            continue
        room = limit - len(kept)
        if len(chunk) > room:
            truncated = True
            chunk = chunk[: max(room, 0)]
        kept += chunk
    return bytes(kept), truncated


async def _stop_group(proc: asyncio.subprocess.Process) -> None:
    """SIGTERM the process group, SIGKILL it after a grace period, and reap the leader."""
    _signal_group(proc.pid, signal.SIGTERM)
    try:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_GRACE):
                await proc.wait()
    finally:
        # Even if this cleanup is itself cancelled, nothing of the group may survive.
        _signal_group(proc.pid, signal.SIGKILL)
    # Drain the pipes too, so the transport sees their end and closes.
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(_GRACE):
            await proc.communicate()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)
