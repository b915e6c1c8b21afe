"""The tls probe against real TLS servers on 127.0.0.1, with certificates made for each test."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.certs import CA_NAME, CertFiles, make_certificate
from watchkeeper.config.specs import TlsSpec
from watchkeeper.probes import tls
from watchkeeper.probes.base import ProbeContext, ProbeError
from watchkeeper.probes.tls import hostname_matches, probe_tls

Serve = Callable[[CertFiles | None], Awaitable[int]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Start a server on 127.0.0.1 presenting the given certificate (or not speaking TLS at all)."""
    servers: list[asyncio.Server] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            await reader.read()
        writer.close()

    async def start(cert: CertFiles | None) -> int:
        context = cert.server_context() if cert else None
        server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
        servers.append(server)
        port: int = server.sockets[0].getsockname()[1]
        return port

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


@pytest.fixture
def trust(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[CertFiles], None]]:
    """Make a certificate's CA the system trust store for the tls probe."""

    def trust_ca(cert: CertFiles) -> None:
        # OpenSSL reads SSL_CERT_FILE when the (cached) verifying context is built.
        monkeypatch.setenv("SSL_CERT_FILE", str(cert.ca))
        tls._trusting_context.cache_clear()

    yield trust_ca
    tls._trusting_context.cache_clear()


async def test_tls_probe_reports_expiry_issuer_and_subject(
    serve: Serve, ctx: ProbeContext, tmp_path: Path
) -> None:
    cert = make_certificate(tmp_path, days=30)
    port = await serve(cert)

    m = await probe_tls(TlsSpec(host="127.0.0.1", port=port), ctx, timeout=5)

    assert m["cert_expires_in"] == pytest.approx(30 * 86400, abs=60)
    assert m["not_after"] == cert.not_after.isoformat()
    assert m["issuer"] == f"CN={CA_NAME}"
    assert m["subject"] == "CN=localhost"
    assert m["protocol"] == "TLSv1.3"
    assert 0 < m["handshake_time"] < 1


async def test_tls_probe_reports_a_self_signed_chain_as_not_verified(
    serve: Serve, ctx: ProbeContext, tmp_path: Path
) -> None:
    port = await serve(make_certificate(tmp_path))

    m = await probe_tls(TlsSpec(host="127.0.0.1", port=port), ctx, timeout=5)

    assert m["verified"] is False


async def test_tls_probe_reports_a_chain_from_a_trusted_ca_as_verified(
    serve: Serve, ctx: ProbeContext, tmp_path: Path, trust: Callable[[CertFiles], None]
) -> None:
    cert = make_certificate(tmp_path)
    trust(cert)
    port = await serve(cert)

    m = await probe_tls(TlsSpec(host="127.0.0.1", port=port, verify_tls=True), ctx, timeout=5)

    assert m["verified"] is True
    assert m["hostname_matches"] is True


async def test_tls_probe_reports_an_expired_certificate_with_negative_expiry(
    serve: Serve, ctx: ProbeContext, tmp_path: Path
) -> None:
    port = await serve(make_certificate(tmp_path, days=-2))

    m = await probe_tls(TlsSpec(host="127.0.0.1", port=port), ctx, timeout=5)

    assert m["cert_expires_in"] == pytest.approx(-2 * 86400, abs=60)
    assert m["verified"] is False


@pytest.mark.parametrize(
    ("host", "sni"), [("127.0.0.1", None), ("127.0.0.1", "localhost"), ("localhost", None)]
)
async def test_tls_probe_matches_the_name_it_connects_by(
    serve: Serve, ctx: ProbeContext, tmp_path: Path, host: str, sni: str | None
) -> None:
    port = await serve(make_certificate(tmp_path, hostname="localhost", ip="127.0.0.1"))

    m = await probe_tls(TlsSpec(host=host, port=port, sni=sni), ctx, timeout=5)

    assert m["hostname_matches"] is True


@pytest.mark.parametrize(
    ("sni", "matches"), [(None, False), ("localhost", False), ("db.example.com", True)]
)
async def test_tls_probe_reports_a_certificate_for_another_host(
    serve: Serve, ctx: ProbeContext, tmp_path: Path, sni: str | None, matches: bool
) -> None:
    port = await serve(make_certificate(tmp_path, hostname="db.example.com", ip=None))

    m = await probe_tls(TlsSpec(host="127.0.0.1", port=port, sni=sni), ctx, timeout=5)

    assert m["hostname_matches"] is matches
    assert m["subject"] == "CN=db.example.com"


async def test_tls_probe_with_verification_rejects_an_untrusted_certificate(
    serve: Serve, ctx: ProbeContext, tmp_path: Path
) -> None:
    port = await serve(make_certificate(tmp_path))
    spec = TlsSpec(host="127.0.0.1", port=port, verify_tls=True)

    with pytest.raises(ProbeError) as caught:
        await probe_tls(spec, ctx, timeout=5)

    assert str(caught.value) == (
        f"certificate verify failed for 127.0.0.1:{port}: unable to get local issuer certificate"
    )


async def test_tls_probe_with_verification_rejects_a_trusted_certificate_for_another_host(
    serve: Serve, ctx: ProbeContext, tmp_path: Path, trust: Callable[[CertFiles], None]
) -> None:
    cert = make_certificate(tmp_path, hostname="db.example.com", ip=None)
    trust(cert)
    port = await serve(cert)

    with pytest.raises(ProbeError, match=r"it is not valid for 127\.0\.0\.1$"):
        await probe_tls(TlsSpec(host="127.0.0.1", port=port, verify_tls=True), ctx, timeout=5)


async def test_tls_probe_times_out_on_a_server_that_never_answers_the_handshake(
    serve: Serve, ctx: ProbeContext
) -> None:
    port = await serve(None)
    started = time.perf_counter()

    with pytest.raises(ProbeError) as caught:
        await probe_tls(TlsSpec(host="127.0.0.1", port=port), ctx, timeout=0.3)

    assert time.perf_counter() - started < 0.8
    assert str(caught.value) == f"timed out after 300ms in the TLS handshake with 127.0.0.1:{port}"


async def test_tls_probe_reports_a_server_that_does_not_speak_tls(ctx: ProbeContext) -> None:
    async def reply_in_plain_http(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(reply_in_plain_http, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(
            ProbeError, match=re.escape(f"TLS handshake with 127.0.0.1:{port} failed")
        ):
            await probe_tls(TlsSpec(host="127.0.0.1", port=port), ctx, timeout=5)
    finally:
        server.close()
        await server.wait_closed()


def test_a_wildcard_matches_exactly_one_leftmost_label(tmp_path: Path) -> None:
    cert = load(make_certificate(tmp_path, hostname="*.example.com", ip=None))

    assert hostname_matches(cert, "api.example.com")
    assert hostname_matches(cert, "API.Example.COM.")
    assert not hostname_matches(cert, "example.com")
    assert not hostname_matches(cert, "a.b.example.com")
    assert not hostname_matches(cert, "api.example.org")


def test_a_wildcard_over_a_public_suffix_matches_nothing(tmp_path: Path) -> None:
    cert = load(make_certificate(tmp_path, hostname="*.com", ip=None))

    assert not hostname_matches(cert, "example.com")


def test_an_ip_address_matches_ip_names_only(tmp_path: Path) -> None:
    cert = load(make_certificate(tmp_path, hostname="127.0.0.2", ip="::1"))

    assert hostname_matches(cert, "::1")
    assert hostname_matches(cert, "0:0::1")
    assert not hostname_matches(cert, "127.0.0.2")


@pytest.mark.parametrize(("dns_names", "matches"), [([], True), (["www.example.com"], False)])
def test_the_common_name_counts_only_without_dns_names(dns_names: list[str], matches: bool) -> None:
    cert = self_signed("legacy.example.com", dns_names)

    assert hostname_matches(cert, "legacy.example.com") is matches


def self_signed(common_name: str, dns_names: list[str]) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
    )
    if dns_names:
        san = x509.SubjectAlternativeName([x509.DNSName(n) for n in dns_names])
        builder = builder.add_extension(san, critical=False)
    return builder.sign(key, hashes.SHA256())


def load(cert: CertFiles) -> x509.Certificate:
    return x509.load_pem_x509_certificate(cert.cert.read_bytes())
