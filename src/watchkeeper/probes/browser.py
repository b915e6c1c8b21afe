"""The browser probe: load a page in headless Chromium and read what its user would live with.

Web vitals come from the page's own PerformanceObserver entries, sizes from the DevTools
protocol (bytes on the wire, cross-origin included), console errors from the page's console
and uncaught exceptions. Each run launches its own Chromium and closes it by the timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from watchkeeper.config.specs.browser import BrowserSpec
from watchkeeper.config.units import format_duration
from watchkeeper.probes.base import ProbeContext, ProbeError
from watchkeeper.results import Measurements

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page

# No sandbox: services often run as root in a container. The rest keeps chromium off the
# network except for the page, and quiet.
CHROMIUM_ARGS = (
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
)


def chromium_args() -> list[str]:
    """Return Chromium's arguments: its sandbox stays on, except as root, where it cannot start."""
    as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    return [*CHROMIUM_ARGS, *(["--no-sandbox"] if as_root else [])]


_SETTLE = 3.0
"""Seconds to wait after the load event for the network to go quiet (late shifts, lazy images);
a page that never goes quiet is measured after this."""

_CLOSE_GRACE = 5.0
"""Seconds closing the browser may take after the timeout; the driver kills it after that."""

_MAX_MESSAGES = 10
_MAX_MESSAGE_LENGTH = 300

_REQUIRED_MANIFEST = ("name", "icons", "start_url", "display")

_VITALS_JS = """() => {
  const out = {lcp: null, cls: 0};
  // buffered: true hands over the entries recorded before the observer existed.
  const lcp = new PerformanceObserver(() => {});
  lcp.observe({type: 'largest-contentful-paint', buffered: true});
  for (const e of lcp.takeRecords()) out.lcp = (e.renderTime || e.loadTime || e.startTime) / 1000;
  lcp.disconnect();
  const cls = new PerformanceObserver(() => {});
  cls.observe({type: 'layout-shift', buffered: true});
  for (const e of cls.takeRecords()) if (!e.hadRecentInput) out.cls += e.value;
  cls.disconnect();
  const nav = performance.getEntriesByType('navigation')[0];
  out.load_time = nav && nav.loadEventEnd > 0 ? nav.loadEventEnd / 1000 : null;
  out.manifest = document.querySelector('link[rel~="manifest"]')?.href ?? null;
  return out;
}"""

_SERVICE_WORKER_JS = """async (ms) => {
  if (!('serviceWorker' in navigator)) return false;
  const late = new Promise((resolve) => setTimeout(() => resolve(null), ms));
  const registration = await Promise.race([navigator.serviceWorker.ready, late]);
  return Boolean(registration && registration.active);
}"""


async def probe_browser(spec: BrowserSpec, ctx: ProbeContext, timeout: float) -> Measurements:
    """Given a browser spec, load its page and return ``load_time``, ``lcp``, ``cls``,
    ``console_errors``, ``console_messages``, ``transfer_size``, ``js_size``, ``status``, and with
    ``pwa`` also ``manifest_ok``, ``manifest_problems`` and ``service_worker``."""
    try:
        from playwright.async_api import Error as PlaywrightError
        from playwright.async_api import TimeoutError as PlaywrightTimeoutError
        from playwright.async_api import async_playwright
    except ImportError:
        raise ProbeError(
            "browser checks need Playwright: pip install 'watchkeeper[browser]'"
        ) from None
    if not Path(spec.chromium).exists():
        raise ProbeError(f"chromium not found at {spec.chromium} (apt-get install chromium)")
    deadline = time.monotonic() + timeout
    try:
        async with async_playwright() as playwright:
            browser: Browser | None = None
            try:
                async with asyncio.timeout(timeout):
                    browser = await playwright.chromium.launch(
                        executable_path=spec.chromium,
                        args=chromium_args(),
                        timeout=timeout * 1000,
                    )
                    return await _measure(browser, spec, deadline)
            finally:
                if browser is not None:
                    await _close(browser)
    except TimeoutError:
        raise ProbeError(f"timed out after {format_duration(timeout)}") from None
    except PlaywrightError as exc:
        if isinstance(exc, PlaywrightTimeoutError) or time.monotonic() >= deadline:
            raise ProbeError(f"timed out after {format_duration(timeout)}") from None
        raise ProbeError(f"browser: {_first_line(exc.message)}") from None


async def _close(browser: Browser) -> None:
    # Even a cancelled or timed-out run ends here; leaving the driver (async_playwright's exit)
    # kills whatever this could not close.
    with contextlib.suppress(Exception):
        async with asyncio.timeout(_CLOSE_GRACE):
            await browser.close()


async def _measure(browser: Browser, spec: BrowserSpec, deadline: float) -> Measurements:
    context = await browser.new_context(
        viewport={"width": spec.viewport[0], "height": spec.viewport[1]},
        extra_http_headers=spec.headers,
        service_workers="allow",
    )
    context.set_default_timeout(_remaining_ms(deadline))
    page = await context.new_page()
    messages: list[str] = []
    page.on("console", lambda m: messages.append(_console_text(m)) if m.type == "error" else None)
    page.on("pageerror", lambda exc: messages.append(f"uncaught {exc.name}: {exc.message}"))
    sizes, scripts = await _watch_network(context, page)

    response = await page.goto(spec.url, wait_until="load")
    with contextlib.suppress(Exception):
        await page.wait_for_load_state(
            "networkidle", timeout=min(_SETTLE * 1000, _remaining_ms(deadline))
        )
    vitals: dict[str, Any] = await page.evaluate(_VITALS_JS)
    measured: Measurements = {
        "status": response.status if response is not None else None,
        "load_time": vitals["load_time"],
        "lcp": vitals["lcp"],
        "cls": vitals["cls"],
        "console_errors": len(messages),
        "console_messages": [_truncate(m) for m in messages[:_MAX_MESSAGES]],
        "transfer_size": sum(sizes.values()),
        "js_size": sum(size for rid, size in sizes.items() if rid in scripts),
        "requests": len(sizes),
    }
    if spec.pwa:
        problems = await _manifest_problems(context, vitals["manifest"])
        measured["manifest_ok"] = not problems
        measured["manifest_problems"] = problems
        measured["service_worker"] = bool(
            await page.evaluate(_SERVICE_WORKER_JS, _remaining_ms(deadline) * 0.9)
        )
    return measured


async def _watch_network(context: BrowserContext, page: Page) -> tuple[dict[str, int], set[str]]:
    """Start counting the page's bytes on the wire; return the live sizes by request and the
    requests that fetched scripts."""
    sizes: dict[str, int] = {}
    scripts: set[str] = set()
    cdp = await context.new_cdp_session(page)

    def received(params: dict[str, Any]) -> None:
        if params.get("type") == "Script":
            scripts.add(params["requestId"])

    def finished(params: dict[str, Any]) -> None:
        sizes[params["requestId"]] = int(params.get("encodedDataLength", 0))

    cdp.on("Network.responseReceived", received)
    cdp.on("Network.loadingFinished", finished)
    await cdp.send("Network.enable")
    return sizes, scripts


async def _manifest_problems(context: BrowserContext, href: str | None) -> list[str]:
    """Given the page's manifest link, fetch it and return what is wrong with it (nothing: [])."""
    from playwright.async_api import Error as PlaywrightError

    if href is None:
        return ["no <link rel=manifest> on the page"]
    try:
        response = await context.request.get(href)
    except PlaywrightError as exc:
        return [f"manifest {href} could not be fetched: {_first_line(exc.message)}"]
    if not response.ok:
        return [f"manifest {href} answered {response.status}"]
    try:
        manifest = await response.json()
    except ValueError:
        return [f"manifest {href} is not JSON"]
    if not isinstance(manifest, dict):
        return [f"manifest {href} is not a JSON object"]
    return [f"manifest has no {key}" for key in _REQUIRED_MANIFEST if not manifest.get(key)]


def _console_text(message: ConsoleMessage) -> str:
    # "Failed to load resource" names no resource: its location does.
    url = message.location.get("url")
    return f"{message.text} (at {url})" if url else message.text


def _remaining_ms(deadline: float) -> float:
    return max(1.0, (deadline - time.monotonic()) * 1000)


def _truncate(text: str) -> str:
    return text if len(text) <= _MAX_MESSAGE_LENGTH else text[: _MAX_MESSAGE_LENGTH - 1] + "…"


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else "failed"
