"""The ``http`` probe: one HTTP(S) request on the shared session, timed up to the full body."""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Mapping
from functools import lru_cache

import aiohttp
from yarl import URL

from watchkeeper.config.specs import HttpSpec
from watchkeeper.probes.base import ProbeContext, ProbeError
from watchkeeper.probes.tcp import connect_error, timed_out
from watchkeeper.results import Measurements

_LOOKS_LIKE_JSON = re.compile(r"\s*[\[{]")


async def probe_http(spec: HttpSpec, ctx: ProbeContext, timeout: float) -> Measurements:
    """Given an HTTP spec, make the request and return its status, timing, headers and body.

    An error status (500) is a measurement; only a request that gets no response is an error.
    """
    session = ctx.http_session(spec.keepalive)
    doing = "waiting for a response from"
    started = time.perf_counter()
    try:
        async with session.request(
            spec.method,
            spec.url,
            headers=spec.headers,
            data=spec.body,
            json=spec.json_body,
            allow_redirects=spec.follow_redirects,
            ssl=spec.verify_tls,
            timeout=_client_timeout(timeout),
        ) as response:
            doing = "reading the body from"
            cert = _peer_certificate(response)
            raw = await read_at_most(response.content, spec.max_body)
            response_time = time.perf_counter() - started
    except TimeoutError:
        raise timed_out(timeout, f"{doing} {_address(spec.url)}") from None
    except aiohttp.ClientError as exc:
        raise _request_error(spec.url, exc) from exc

    body = _decode(raw, response.charset)
    measurements: Measurements = {
        "status": response.status,
        "response_time": response_time,
        "headers": _lowercased(response.headers),
        "body": body,
        "size": len(raw),
        "redirects": len(response.history),
        "url": str(response.url),
    }
    if "json" in response.content_type or _LOOKS_LIKE_JSON.match(body):
        with contextlib.suppress(ValueError, RecursionError):
            measurements["json"] = json.loads(body)
    if cert is not None:
        measurements["cert_expires_in"] = _not_after(cert) - time.time()
    return measurements


def _peer_certificate(response: aiohttp.ClientResponse) -> bytes | None:
    """Return the server's DER certificate, or None for plain HTTP or a closed connection."""
    if response.url.scheme != "https":
        return None
    # A response whose body is already complete (HEAD, 204) has released its connection, so
    # ``response.connection`` is None; the protocol keeps the transport until it is closed,
    # which without keep-alive has already happened: then there is no certificate to read.
    protocol = response._protocol
    transport = protocol.transport if protocol is not None else None
    ssl_object = transport.get_extra_info("ssl_object") if transport is not None else None
    if ssl_object is None:
        return None
    der: bytes | None = ssl_object.getpeercert(binary_form=True)
    return der


@lru_cache(maxsize=64)
def _client_timeout(seconds: float) -> aiohttp.ClientTimeout:
    """Return the (immutable) aiohttp timeout for ``seconds``, built once per distinct value."""
    return aiohttp.ClientTimeout(total=seconds)


# Cached because pooled connections present the same certificate on every request.
@lru_cache(maxsize=256)
def _not_after(der: bytes) -> float:
    """Given a DER certificate, return its notAfter as a Unix time."""
    from cryptography import x509  # ~8 MB: only processes that check https pay for it

    return x509.load_der_x509_certificate(der).not_valid_after_utc.timestamp()


async def read_at_most(content: aiohttp.StreamReader, limit: int) -> bytes:
    """Return a response body's first ``limit`` bytes, reading no further."""
    chunks = []
    remaining = limit
    while remaining > 0:
        chunk = await content.read(remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _decode(raw: bytes, charset: str | None) -> str:
    try:
        return raw.decode(charset or "utf-8", errors="replace")
    except LookupError:
        return raw.decode("utf-8", errors="replace")


def _lowercased(headers: Mapping[str, str]) -> dict[str, str]:
    # Repeated headers are combined as RFC 9110 allows: one value, comma-separated.
    merged: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        merged[key] = f"{merged[key]}, {value}" if key in merged else value
    return merged


def _address(url: str) -> str:
    parsed = URL(url)
    return f"{parsed.host}:{parsed.port}"


def _request_error(url: str, exc: aiohttp.ClientError) -> ProbeError:
    """Given the error of a request to ``url``, return a ProbeError in a user's words."""
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        reason = getattr(exc.certificate_error, "verify_message", None) or exc.certificate_error
        return ProbeError(f"certificate verify failed for {_address(url)}: {reason}")
    if isinstance(exc, aiohttp.ClientSSLError):
        return ProbeError(f"TLS handshake with {_address(url)} failed: {exc.os_error}")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return connect_error(f"{exc.host}:{exc.port}", exc.os_error)
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return ProbeError(f"{_address(url)} closed the connection without a response")
    if isinstance(exc, aiohttp.TooManyRedirects):
        return ProbeError(f"too many redirects from {url}")
    return ProbeError(f"request to {url} failed: {str(exc) or type(exc).__name__}")
