"""The ``tls`` probe: a TLS handshake, and what the server's certificate says about itself."""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import ssl
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from watchkeeper.config.specs import TlsSpec
from watchkeeper.probes.base import ProbeContext, ProbeError
from watchkeeper.probes.tcp import connect_error, reason, timed_out
from watchkeeper.results import Measurements

if TYPE_CHECKING:
    from cryptography import x509


async def probe_tls(spec: TlsSpec, ctx: ProbeContext, timeout: float) -> Measurements:
    """Given host, port and SNI, shake hands and return the certificate's expiry, names and trust.

    Unless ``verify_tls`` is set, an untrusted certificate is still measured (``verified`` false).
    """
    hostname = spec.sni or spec.host
    address = f"{spec.host}:{spec.port}"
    deadline = asyncio.get_running_loop().time() + timeout
    try:
        shake = await _handshake(spec, _trusting_context(), deadline, timeout)
        verified = True
    except ssl.SSLCertVerificationError as exc:
        if spec.verify_tls:
            raise ProbeError(
                f"certificate verify failed for {address}: {exc.verify_message}"
            ) from exc
        # The failed handshake left no certificate to read, so shake hands again without trust.
        shake = await _handshake(spec, _measuring_context(), deadline, timeout)
        verified = False

    from cryptography import x509  # ~8 MB: only processes that run tls checks pay for it

    cert = x509.load_der_x509_certificate(shake.der)
    matches = hostname_matches(cert, hostname)
    if spec.verify_tls and not matches:
        raise ProbeError(f"certificate verify failed for {address}: it is not valid for {hostname}")
    not_after = cert.not_valid_after_utc
    return {
        "cert_expires_in": not_after.timestamp() - time.time(),
        "not_after": not_after.isoformat(),
        "issuer": cert.issuer.rfc4514_string(),
        "subject": cert.subject.rfc4514_string(),
        "hostname_matches": matches,
        "verified": verified,
        "protocol": shake.protocol,
        "handshake_time": shake.seconds,
    }


def hostname_matches(cert: x509.Certificate, hostname: str) -> bool:
    """Given a certificate, return True when it names ``hostname`` (RFC 6125: SANs, else the CN).

    An IP address matches IP SANs only; ``*.example.com`` matches exactly one leftmost label.
    """
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        san = x509.SubjectAlternativeName([])
    try:
        ip = ipaddress.ip_address(hostname)
    except ValueError:
        pass
    else:
        return ip in san.get_values_for_type(x509.IPAddress)
    names = san.get_values_for_type(x509.DNSName)
    if not names:
        names = [
            str(attribute.value)
            for attribute in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        ]
    host = hostname.rstrip(".").lower()
    if not host.isascii():
        host = host.encode("idna").decode("ascii")
    return any(_name_matches(name.rstrip(".").lower(), host) for name in names)


def _name_matches(pattern: str, host: str) -> bool:
    if not pattern.startswith("*."):
        return pattern == host
    suffix = pattern[1:]
    label, _, rest = host.partition(".")
    # "*.com" would match every .com site: a wildcard needs at least two labels after it.
    return bool(label) and f".{rest}" == suffix and suffix.count(".") >= 2


@dataclass(frozen=True, slots=True)
class _Handshake:
    der: bytes
    protocol: str
    seconds: float


async def _handshake(
    spec: TlsSpec, context: ssl.SSLContext, deadline: float, timeout: float
) -> _Handshake:
    """Given a context, connect and shake hands by ``deadline``; a verify failure passes through."""
    address = f"{spec.host}:{spec.port}"
    try:
        async with asyncio.timeout_at(deadline):
            _, writer = await asyncio.open_connection(spec.host, spec.port)
    except TimeoutError:
        raise timed_out(timeout, f"connecting to {address}") from None
    except OSError as exc:
        raise connect_error(address, exc) from exc
    try:
        async with asyncio.timeout_at(deadline):
            started = time.perf_counter()
            await writer.start_tls(context, server_hostname=spec.sni or spec.host)
            seconds = time.perf_counter() - started
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True)
        if der is None:
            raise ProbeError(f"{address} presented no certificate")
        return _Handshake(der, ssl_object.version(), seconds)
    except TimeoutError:
        raise timed_out(timeout, f"in the TLS handshake with {address}") from None
    except ssl.SSLCertVerificationError:
        raise
    except OSError as exc:
        why = exc.reason.lower().replace("_", " ") if isinstance(exc, ssl.SSLError) else None
        raise ProbeError(f"TLS handshake with {address} failed: {why or reason(exc)}") from exc
    finally:
        # A probe has nothing more to say, so it skips the close_notify exchange. No wait_closed:
        # after a failed handshake the stream protocol never hears that the connection closed.
        writer.transport.abort()


# Built once: loading the system trust store takes tens of milliseconds on the event loop.
@functools.cache
def _trusting_context() -> ssl.SSLContext:
    """Return a context that verifies chains against the system trust store, not names."""
    context = ssl.create_default_context()
    context.check_hostname = False
    return context


@functools.cache
def _measuring_context() -> ssl.SSLContext:
    """Return a context that accepts any certificate, so an untrusted one can still be read."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context
