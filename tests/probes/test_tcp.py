"""The tcp probe against real sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import pytest

from watchkeeper.config.specs import TcpSpec
from watchkeeper.probes.base import ProbeContext, ProbeError
from watchkeeper.probes.tcp import probe_tcp


@pytest.fixture
async def listening() -> AsyncIterator[tuple[int, asyncio.Queue[bytes]]]:
    """A TCP server on 127.0.0.1: its port, and what each connection sent before it closed."""
    received: asyncio.Queue[bytes] = asyncio.Queue()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await received.put(await reader.read())
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1], received
    server.close()
    await server.wait_closed()


async def test_tcp_probe_measures_connect_time_and_closes_cleanly(
    listening: tuple[int, asyncio.Queue[bytes]], ctx: ProbeContext
) -> None:
    port, received = listening

    m = await probe_tcp(TcpSpec(host="127.0.0.1", port=port), ctx, timeout=5)

    assert 0 < m["connect_time"] < 1
    # The server reads an orderly end of stream, not a reset: the probe closed, sending nothing.
    assert await asyncio.wait_for(received.get(), 5) == b""


async def test_tcp_probe_reports_a_refused_connection(closed_port: int, ctx: ProbeContext) -> None:
    spec = TcpSpec(host="127.0.0.1", port=closed_port)

    with pytest.raises(ProbeError) as caught:
        await probe_tcp(spec, ctx, timeout=5)

    assert str(caught.value) == f"cannot connect to 127.0.0.1:{closed_port}: Connection refused"


async def test_tcp_probe_reports_a_failed_dns_lookup(ctx: ProbeContext) -> None:
    spec = TcpSpec(host="nonexistent.invalid", port=80)

    with pytest.raises(ProbeError, match=re.escape("DNS lookup failed for nonexistent.invalid:80")):
        await probe_tcp(spec, ctx, timeout=5)
