"""The ``tcp`` probe: how long a TCP connect to host:port takes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time

from watchkeeper.config.specs import TcpSpec
from watchkeeper.config.units import format_duration
from watchkeeper.probes.base import ProbeContext, ProbeError
from watchkeeper.results import Measurements


async def probe_tcp(spec: TcpSpec, ctx: ProbeContext, timeout: float) -> Measurements:
    """Given a host and port, connect, close cleanly, and return ``connect_time`` in seconds."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            _, writer = await asyncio.open_connection(spec.host, spec.port)
    except TimeoutError:
        raise timed_out(timeout, f"connecting to {spec.host}:{spec.port}") from None
    except OSError as exc:
        raise connect_error(f"{spec.host}:{spec.port}", exc) from exc
    connect_time = time.perf_counter() - started
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return {"connect_time": connect_time}


def timed_out(timeout: float, doing: str) -> ProbeError:
    """Given the timeout and what was under way, return the error saying so."""
    return ProbeError(f"timed out after {format_duration(timeout)} {doing}")


def connect_error(address: str, exc: OSError) -> ProbeError:
    """Given a failed connect to ``host:port``, return an error naming the cause in plain words."""
    if isinstance(exc, socket.gaierror):
        return ProbeError(f"DNS lookup failed for {address}: {exc.strerror}")
    return ProbeError(f"cannot connect to {address}: {reason(exc)}")


def reason(exc: OSError) -> str:
    """Given a socket error, return why it happened, e.g. ``Connection refused``."""
    # asyncio puts the address in strerror ("Connect call failed (...)"); the errno says why.
    return os.strerror(exc.errno) if exc.errno else str(exc) or type(exc).__name__
