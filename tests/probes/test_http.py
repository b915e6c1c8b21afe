"""The http probe against real aiohttp servers on 127.0.0.1, plain and over TLS."""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import web

from tests.certs import CertFiles, make_certificate
from watchkeeper.config.specs import HttpSpec
from watchkeeper.probes.base import ProbeContext, ProbeError
from watchkeeper.probes.http import probe_http


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    peer_port: int


@dataclass
class Site:
    """A running test server and the requests it has received."""

    base: str
    seen: list[Seen] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"{self.base}{path}"


def build_app(seen: list[Seen], release: asyncio.Event) -> web.Application:
    @web.middleware
    async def record(request: web.Request, handler: Any) -> web.StreamResponse:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        seen.append(
            Seen(
                request.method,
                request.path,
                dict(request.headers),
                await request.read(),
                peer[1] if peer else -1,
            )
        )
        response: web.StreamResponse = await handler(request)
        return response

    async def healthy(request: web.Request) -> web.Response:
        return web.json_response({"status": "healthy", "version": 3})

    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=500, text="database unavailable")

    async def text(request: web.Request) -> web.Response:
        return web.Response(text=request.query["text"], content_type=request.query["type"])

    async def custom_headers(request: web.Request) -> web.Response:
        response = web.Response(text="ok", headers={"X-Served-By": "Node-7"})
        response.headers.add("X-Tag", "a")
        response.headers.add("X-Tag", "b")
        return response

    async def redirect(request: web.Request) -> web.Response:
        left = int(request.match_info["left"])
        raise web.HTTPFound("/healthy" if left == 0 else f"/redirect/{left - 1}")

    async def big(request: web.Request) -> web.Response:
        return web.Response(body=b"x" * 10_000)

    async def slow(request: web.Request) -> web.Response:
        await release.wait()
        return web.Response(text="too late")

    async def slow_body(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b"first part")
        await release.wait()
        return response

    app = web.Application(middlewares=[record])
    app.router.add_get("/healthy", healthy)
    app.router.add_get("/broken", broken)
    app.router.add_get("/text", text)
    app.router.add_get("/headers", custom_headers)
    app.router.add_get("/redirect/{left}", redirect)
    app.router.add_get("/big", big)
    app.router.add_get("/slow", slow)
    app.router.add_get("/slow-body", slow_body)
    app.router.add_route("*", "/echo", healthy)
    return app


Serve = Callable[..., Awaitable[Site]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Start the test app on 127.0.0.1, over TLS when given a server context."""
    release = asyncio.Event()
    runners: list[web.AppRunner] = []

    async def start(ssl_context: ssl.SSLContext | None = None) -> Site:
        seen: list[Seen] = []
        runner = web.AppRunner(build_app(seen, release))
        await runner.setup()
        runners.append(runner)
        await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context).start()
        scheme = "https" if ssl_context else "http"
        return Site(f"{scheme}://127.0.0.1:{runner.addresses[0][1]}", seen)

    yield start
    release.set()
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
async def site(serve: Serve) -> Site:
    return await serve()


@pytest.fixture
def cert(tmp_path: Path) -> CertFiles:
    return make_certificate(tmp_path, days=30)


@pytest.fixture
async def tls_site(serve: Serve, cert: CertFiles) -> Site:
    return await serve(cert.server_context())


async def test_http_probe_measures_a_json_endpoint(site: Site, ctx: ProbeContext) -> None:
    m = await probe_http(HttpSpec(url=site.url("/healthy")), ctx, timeout=5)

    assert m["status"] == 200
    assert m["json"] == {"status": "healthy", "version": 3}
    assert json.loads(m["body"]) == m["json"]
    assert m["size"] == len(m["body"].encode())
    assert 0 < m["response_time"] < 1
    assert m["redirects"] == 0
    assert m["url"] == site.url("/healthy")
    assert "cert_expires_in" not in m


async def test_http_probe_reports_a_server_error_as_a_status(site: Site, ctx: ProbeContext) -> None:
    m = await probe_http(HttpSpec(url=site.url("/broken")), ctx, timeout=5)

    assert m["status"] == 500
    assert m["body"] == "database unavailable"


@pytest.mark.parametrize(
    ("text", "content_type", "parsed"),
    [
        ('{"a": 1}', "text/plain", {"a": 1}),
        ("  [1, 2]", "text/plain", [1, 2]),
        ("42", "application/problem+json", 42),
        ("{not json", "application/json", None),
        ("42", "text/plain", None),
    ],
)
async def test_http_probe_parses_json_only_when_it_looks_like_json(
    site: Site, ctx: ProbeContext, text: str, content_type: str, parsed: object
) -> None:
    query = urlencode({"text": text, "type": content_type})

    m = await probe_http(HttpSpec(url=site.url(f"/text?{query}")), ctx, timeout=5)

    assert m["body"] == text
    assert m.get("json") == parsed


async def test_http_probe_sends_head_without_reading_a_body(site: Site, ctx: ProbeContext) -> None:
    m = await probe_http(HttpSpec(url=site.url("/echo"), method="HEAD"), ctx, timeout=5)

    assert m["status"] == 200
    assert site.seen[-1].method == "HEAD"
    assert m["body"] == ""
    assert m["size"] == 0


async def test_http_probe_posts_a_json_body(site: Site, ctx: ProbeContext) -> None:
    spec = HttpSpec.model_validate(
        {"url": site.url("/echo"), "method": "post", "json": {"ping": [1, 2]}}
    )

    await probe_http(spec, ctx, timeout=5)

    request = site.seen[-1]
    assert request.method == "POST"
    assert json.loads(request.body) == {"ping": [1, 2]}
    assert request.headers["Content-Type"] == "application/json"


async def test_http_probe_puts_a_text_body(site: Site, ctx: ProbeContext) -> None:
    await probe_http(HttpSpec(url=site.url("/echo"), method="PUT", body="hello"), ctx, timeout=5)

    assert (site.seen[-1].method, site.seen[-1].body) == ("PUT", b"hello")


async def test_http_probe_sends_custom_headers(site: Site, ctx: ProbeContext) -> None:
    spec = HttpSpec(url=site.url("/echo"), headers={"Authorization": "Bearer s3cret", "X-Id": "7"})

    await probe_http(spec, ctx, timeout=5)

    assert site.seen[-1].headers["Authorization"] == "Bearer s3cret"
    assert site.seen[-1].headers["X-Id"] == "7"


async def test_http_probe_lowercases_header_names_and_joins_repeats(
    site: Site, ctx: ProbeContext
) -> None:
    m = await probe_http(HttpSpec(url=site.url("/headers")), ctx, timeout=5)

    assert m["headers"]["x-served-by"] == "Node-7"
    assert m["headers"]["x-tag"] == "a, b"
    assert m["headers"]["content-type"].startswith("text/plain")
    assert all(name == name.lower() for name in m["headers"])


async def test_http_probe_follows_and_counts_redirects(site: Site, ctx: ProbeContext) -> None:
    m = await probe_http(HttpSpec(url=site.url("/redirect/3")), ctx, timeout=5)

    assert m["status"] == 200
    assert m["redirects"] == 4
    assert m["url"] == site.url("/healthy")
    assert m["json"]["status"] == "healthy"


async def test_http_probe_reports_a_redirect_when_not_following(
    site: Site, ctx: ProbeContext
) -> None:
    spec = HttpSpec(url=site.url("/redirect/3"), follow_redirects=False)

    m = await probe_http(spec, ctx, timeout=5)

    assert m["status"] == 302
    assert m["redirects"] == 0
    assert m["headers"]["location"] == "/redirect/2"
    assert [request.path for request in site.seen] == ["/redirect/3"]


async def test_http_probe_reads_at_most_max_body(site: Site, ctx: ProbeContext) -> None:
    m = await probe_http(HttpSpec(url=site.url("/big"), max_body=100), ctx, timeout=5)

    assert m["size"] == 100
    assert m["body"] == "x" * 100
    assert m["headers"]["content-length"] == "10000"


@pytest.mark.parametrize(
    ("path", "doing"),
    [("/slow", "waiting for a response from"), ("/slow-body", "reading the body from")],
)
async def test_http_probe_times_out_with_a_precise_message(
    site: Site, ctx: ProbeContext, path: str, doing: str
) -> None:
    started = time.perf_counter()

    with pytest.raises(ProbeError) as caught:
        await probe_http(HttpSpec(url=site.url(path)), ctx, timeout=0.5)

    assert time.perf_counter() - started < 1.0
    assert str(caught.value) == f"timed out after 500ms {doing} {site.base.removeprefix('http://')}"


async def test_http_probe_reports_a_refused_connection(closed_port: int, ctx: ProbeContext) -> None:
    spec = HttpSpec(url=f"http://127.0.0.1:{closed_port}/")

    with pytest.raises(
        ProbeError, match=f"cannot connect to 127.0.0.1:{closed_port}: Connection refused"
    ):
        await probe_http(spec, ctx, timeout=5)


async def test_http_probe_reports_a_failed_dns_lookup(ctx: ProbeContext) -> None:
    with pytest.raises(ProbeError, match=r"DNS lookup failed for nonexistent\.invalid:80: "):
        await probe_http(HttpSpec(url="http://nonexistent.invalid/"), ctx, timeout=5)


async def test_https_probe_rejects_an_untrusted_certificate_by_default(
    tls_site: Site, ctx: ProbeContext
) -> None:
    with pytest.raises(
        ProbeError,
        match=r"certificate verify failed for 127\.0\.0\.1:\d+: unable to get local issuer",
    ):
        await probe_http(HttpSpec(url=tls_site.url("/healthy")), ctx, timeout=5)

    assert tls_site.seen == []


async def test_https_probe_without_verification_reports_cert_expiry(
    tls_site: Site, ctx: ProbeContext
) -> None:
    spec = HttpSpec(url=tls_site.url("/healthy"), verify_tls=False)

    m = await probe_http(spec, ctx, timeout=5)

    assert m["status"] == 200
    assert m["cert_expires_in"] == pytest.approx(30 * 86400, abs=60)


async def test_https_probe_reports_cert_expiry_for_a_response_without_body(
    tls_site: Site, ctx: ProbeContext
) -> None:
    spec = HttpSpec(url=tls_site.url("/echo"), method="HEAD", verify_tls=False)

    m = await probe_http(spec, ctx, timeout=5)

    assert m["cert_expires_in"] == pytest.approx(30 * 86400, abs=60)


async def test_https_probe_verifies_a_certificate_from_a_trusted_ca(
    tls_site: Site, cert: CertFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    # OpenSSL reads the trust store from SSL_CERT_FILE when the session's context is built.
    monkeypatch.setenv("SSL_CERT_FILE", str(cert.ca))
    ctx = ProbeContext()
    try:
        m = await probe_http(HttpSpec(url=tls_site.url("/healthy")), ctx, timeout=5)
    finally:
        await ctx.close()

    assert m["status"] == 200
    assert m["cert_expires_in"] == pytest.approx(30 * 86400, abs=60)


@pytest.mark.parametrize(("keepalive", "connections"), [(True, 1), (False, 3)])
async def test_http_probe_reuses_connections_only_with_keepalive(
    site: Site, ctx: ProbeContext, keepalive: bool, connections: int
) -> None:
    spec = HttpSpec(url=site.url("/healthy"), keepalive=keepalive)

    for _ in range(3):
        await probe_http(spec, ctx, timeout=5)

    assert len({request.peer_port for request in site.seen}) == connections
