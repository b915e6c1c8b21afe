"""The browser probe loads real pages, served on loopback, in Debian's headless Chromium."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import psutil
import pytest
from aiohttp import web

from watchkeeper.config.specs.browser import BrowserSpec
from watchkeeper.engine.evaluator import Rules, judge
from watchkeeper.probes.base import ProbeContext, ProbeError
from watchkeeper.probes.browser import probe_browser
from watchkeeper.results import Status

BIG_SCRIPT = "// padding\n" + "/* " + "x" * 200_000 + " */\n" + "window.bigLoaded = true;\n"

# The banner arrives after the first paint and pushes the text down: one layout shift.
PAGE = """<!doctype html>
<html><head><title>app</title>
<link rel="manifest" href="/manifest.webmanifest">
<script src="/big.js"></script>
</head><body style="margin:0">
<div id="top"></div>
<p style="font-size:40px;width:900px">The largest text on this page, painted first and then
pushed down by a banner that arrives late, as so many banners do.</p>
<script>
console.error("widget failed: quota exceeded");
navigator.serviceWorker.register("/sw.js");
requestAnimationFrame(() => setTimeout(async () => {
  const text = await (await fetch("/banner")).text();
  document.getElementById("top").innerHTML =
    '<div style="height:300px;background:#c00">' + text + '</div>';
}, 0));
</script>
<script>throw new Error("kaboom at startup");</script>
</body></html>
"""

PLAIN = """<!doctype html><html><head><link rel="manifest" href="/bad.webmanifest">
</head><body><h1>No worker here</h1></body></html>"""

HANGING = """<!doctype html><html><body><p>Waiting…</p><script src="/never.js"></script>
</body></html>"""

MANIFEST = {
    "name": "Meta3 Ventures",
    "short_name": "M3V",
    "start_url": "/",
    "display": "standalone",
    "icons": [{"src": "/icon.png", "sizes": "192x192", "type": "image/png"}],
}

SERVICE_WORKER = """
self.addEventListener("install", (event) => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));
"""


def make_app(never: asyncio.Event) -> web.Application:
    """The test site; ``/never.js`` answers only once ``never`` is set."""

    async def html(text: str) -> web.Response:
        return web.Response(text=text, content_type="text/html")

    async def index(request: web.Request) -> web.Response:
        return await html(PAGE)

    async def plain(request: web.Request) -> web.Response:
        return await html(PLAIN)

    async def hanging(request: web.Request) -> web.Response:
        return await html(HANGING)

    async def big(request: web.Request) -> web.Response:
        return web.Response(text=BIG_SCRIPT, content_type="application/javascript")

    async def worker(request: web.Request) -> web.Response:
        return web.Response(text=SERVICE_WORKER, content_type="application/javascript")

    async def banner(request: web.Request) -> web.Response:
        return web.Response(text="Sale!")

    async def manifest(request: web.Request) -> web.Response:
        return web.json_response(MANIFEST, content_type="application/manifest+json")

    async def bad_manifest(request: web.Request) -> web.Response:
        return web.json_response({"name": "half an app", "start_url": "/"})

    async def never_answers(request: web.Request) -> web.Response:
        await never.wait()
        return web.Response(status=503)

    async def missing(request: web.Request) -> web.Response:
        return web.Response(status=404, text="<p>not here</p>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/", index)
    app.router.add_get("/plain", plain)
    app.router.add_get("/hanging", hanging)
    app.router.add_get("/big.js", big)
    app.router.add_get("/sw.js", worker)
    app.router.add_get("/banner", banner)
    app.router.add_get("/manifest.webmanifest", manifest)
    app.router.add_get("/bad.webmanifest", bad_manifest)
    app.router.add_get("/never.js", never_answers)
    app.router.add_get("/missing", missing)
    return app


@pytest.fixture
async def site() -> AsyncIterator[str]:
    """The test site on a free loopback port; its base URL."""
    never = asyncio.Event()
    runner = web.AppRunner(make_app(never), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    yield f"http://{host}:{port}"
    never.set()  # or a hanging request would hold cleanup for its whole shutdown timeout
    await runner.cleanup()


def chromium_children() -> list[psutil.Process]:
    """Every live chromium process this test process started, however deep."""
    return [p for p in psutil.Process().children(recursive=True) if _is_live(p, "chrom")]


async def assert_no_chromium_left(since: float) -> None:
    """Assert that no chromium process of this test survives: none below this process, and no
    crash handler started since ``since`` (chromium detaches those into their own session, so
    they are not its descendants; they exit with the browser they watch)."""
    assert chromium_children() == []
    async with asyncio.timeout(10):
        while handlers := [
            p
            for p in psutil.process_iter()
            if _is_live(p, "crashpad") and p.create_time() >= since - 1
        ]:
            await asyncio.sleep(0.05)
    assert handlers == []


def _is_live(proc: psutil.Process, name: str) -> bool:
    try:
        return name in proc.name().lower() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


async def test_a_pwa_page_is_measured(site: str, ctx: ProbeContext) -> None:
    since = time.time()

    measured = await probe_browser(BrowserSpec(url=f"{site}/", pwa=True), ctx, timeout=30)

    assert measured["status"] == 200
    assert 0 < measured["load_time"] < 30
    assert 0 < measured["lcp"] < 30
    assert measured["cls"] > 0.05
    # Chromium asks for /favicon.ico, which this site lacks: DevTools shows that as an error too.
    assert measured["console_errors"] == 3
    assert measured["console_messages"] == [
        f"widget failed: quota exceeded (at {site}/)",
        "uncaught Error: kaboom at startup",
        "Failed to load resource: the server responded with a status of 404 (Not Found)"
        f" (at {site}/favicon.ico)",
    ]
    assert measured["js_size"] > len(BIG_SCRIPT)
    assert measured["transfer_size"] > measured["js_size"] + len(PAGE)
    assert measured["manifest_ok"] is True
    assert measured["manifest_problems"] == []
    assert measured["service_worker"] is True
    await assert_no_chromium_left(since)


async def test_the_guides_targets_apply(site: str, ctx: ProbeContext) -> None:
    measured = await probe_browser(BrowserSpec(url=f"{site}/"), ctx, timeout=30)
    # 000: "no JavaScript errors in console", Core Web Vitals, a bundle budget.
    rules = Rules.parse(
        expect=["console_errors == 0", "lcp < 2.5s"],
        warn=["cls > 0.1", "transfer_size > 150KB"],
    )

    status, message = judge(rules, measured)

    assert status is Status.CRITICAL
    assert "expected console_errors == 0" in message
    assert "lcp" not in message
    assert "manifest_ok" not in measured


async def test_a_broken_pwa_is_reported(site: str, ctx: ProbeContext) -> None:
    since, started = time.time(), time.perf_counter()

    measured = await probe_browser(BrowserSpec(url=f"{site}/plain", pwa=True), ctx, timeout=4)

    assert measured["manifest_ok"] is False
    assert measured["manifest_problems"] == ["manifest has no icons", "manifest has no display"]
    assert measured["service_worker"] is False
    assert measured["console_messages"] == [
        "Failed to load resource: the server responded with a status of 404 (Not Found)"
        f" (at {site}/favicon.ico)"
    ]
    assert measured["cls"] == 0
    assert time.perf_counter() - started < 8
    await assert_no_chromium_left(since)


async def test_an_error_status_is_measured(site: str, ctx: ProbeContext) -> None:
    measured = await probe_browser(BrowserSpec(url=f"{site}/missing"), ctx, timeout=30)

    assert measured["status"] == 404
    assert judge(Rules.parse([], default_expect=BrowserSpec.default_expect), measured)[0] is (
        Status.CRITICAL
    )


async def test_a_page_that_never_loads_times_out_and_leaves_no_chromium(
    site: str, ctx: ProbeContext
) -> None:
    since, started = time.time(), time.perf_counter()

    with pytest.raises(ProbeError, match="timed out after 3s"):
        await probe_browser(BrowserSpec(url=f"{site}/hanging"), ctx, timeout=3)

    assert time.perf_counter() - started < 3 + 6
    await assert_no_chromium_left(since)


async def test_a_cancelled_run_leaves_no_chromium(site: str, ctx: ProbeContext) -> None:
    since = time.time()
    run = asyncio.create_task(probe_browser(BrowserSpec(url=f"{site}/hanging"), ctx, timeout=60))
    async with asyncio.timeout(30):
        while not chromium_children():
            await asyncio.sleep(0.05)

    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run

    await assert_no_chromium_left(since)


async def test_a_refused_connection_is_a_clear_error(closed_port: int, ctx: ProbeContext) -> None:
    since = time.time()

    with pytest.raises(ProbeError, match="ERR_CONNECTION_REFUSED"):
        await probe_browser(BrowserSpec(url=f"http://127.0.0.1:{closed_port}/"), ctx, timeout=30)

    await assert_no_chromium_left(since)


async def test_a_missing_chromium_is_named(ctx: ProbeContext) -> None:
    spec = BrowserSpec(url="http://127.0.0.1/", chromium="/nonexistent/chromium")

    with pytest.raises(ProbeError, match="chromium not found at /nonexistent/chromium"):
        await probe_browser(spec, ctx, timeout=5)
