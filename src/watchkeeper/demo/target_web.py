"""The demo target's web front: a PWA home page, its JavaScript bundle, manifest, service worker,
icons, and the admin page that lists the LLM providers."""

from __future__ import annotations

import hashlib
import struct
import zlib

from aiohttp import web

from watchkeeper.demo.target_core import Target

BUNDLE_SIZE = 106 * 1024  # the size 000's dashboard shows ("bundleSize: 106KB")
PROVIDERS = (("openai", "OpenAI"), ("backup", "Backup (OpenAI-compatible)"), ("ollama", "Ollama"))


def _bundle() -> bytes:
    # Minified-looking modules until the bundle reaches its size; deterministic, so its hash is too.
    head = "const e=document.querySelector('#app');e.dataset.ready='1';e.textContent='Demo Shop ready';\n"
    parts, size, i = [head], len(head), 0
    while size < BUNDLE_SIZE:
        chunk = (
            f"export function c{i}(t,n){{return t.filter(r=>r.w>{i % 97}).map(r=>({{id:r.id+{i},"
            f"label:n[r.k]??'item-{i}',price:(r.p*{1 + i % 13}/100).toFixed(2)}}))}}\n"
        )
        parts.append(chunk)
        size += len(chunk)
        i += 1
    return "".join(parts).encode()


BUNDLE = _bundle()
BUNDLE_PATH = f"/assets/index-{hashlib.sha256(BUNDLE).hexdigest()[:8]}.js"
_CACHE_FOREVER = {"Cache-Control": "public, max-age=31536000, immutable"}

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="theme-color" content="#2f6f4f">
<link rel="manifest" href="/manifest.json">
<link rel="icon" href="/icon-192.png">
<script type="module" src="{bundle}"></script></head>
<body><h1>{title}</h1><p>{text}</p><div id="app"></div>
<script>if ('serviceWorker' in navigator) navigator.serviceWorker.register('/sw.js');</script>
</body></html>
"""

_SERVICE_WORKER = """const CACHE = 'demo-shop-v1';
const SHELL = ['/', '/manifest.json', '{bundle}', '/icon-192.png'];
self.addEventListener('install', (event) => {{
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)));
}});
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
self.addEventListener('fetch', (event) => {{
  event.respondWith(fetch(event.request).catch(() => caches.match(event.request)));
}});
"""

_MANIFEST = {
    "name": "Demo Shop",
    "short_name": "Shop",
    "start_url": "/",
    "display": "standalone",
    "background_color": "#ffffff",
    "theme_color": "#2f6f4f",
    "icons": [
        {"src": "/icon-192.png", "sizes": "192x192", "type": "image/png"},
        {"src": "/icon-512.png", "sizes": "512x512", "type": "image/png"},
    ],
}


def png(size: int, rgb: tuple[int, int, int]) -> bytes:
    """Given a side and a colour, return a square PNG of that colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * size  # filter type 0, then the pixels
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * size, 9))
        + chunk(b"IEND", b"")
    )


_ICONS = {f"/icon-{side}.png": png(side, (47, 111, 79)) for side in (192, 512)}


def add_web_routes(app: web.Application, target: Target) -> None:
    """Add the home page, bundle, manifest, service worker, icons and admin page to ``app``."""

    def failed() -> web.Response:
        return web.Response(status=500, text="Internal Server Error")

    async def home(request: web.Request) -> web.Response:
        if await target.enter("home", request):
            return failed()
        text = "Everything you need, nothing you don't."
        page = _PAGE.format(title="Demo Shop", text=text, bundle=BUNDLE_PATH)
        return web.Response(text=page, content_type="text/html")

    async def admin(request: web.Request) -> web.Response:
        if await target.enter("admin", request):
            return failed()
        rows = "".join(
            f"<li>{label}: <b>{'Unavailable' if part in target.state.failing else 'Available'}</b></li>"
            for part, label in PROVIDERS
        )
        page = _PAGE.format(
            title="Admin dashboard",
            text=f"LLM providers:</p><ul>{rows}</ul><p>",
            bundle=BUNDLE_PATH,
        )
        return web.Response(text=page, content_type="text/html")

    async def manifest(request: web.Request) -> web.Response:
        if await target.enter("manifest", request):
            return failed()
        return web.json_response(_MANIFEST, content_type="application/manifest+json")

    async def service_worker(request: web.Request) -> web.Response:
        if await target.enter("sw", request):
            return failed()
        return web.Response(
            text=_SERVICE_WORKER.format(bundle=BUNDLE_PATH), content_type="application/javascript"
        )

    async def bundle(request: web.Request) -> web.Response:
        if await target.enter("bundle", request):
            return failed()
        return web.Response(
            body=BUNDLE, content_type="application/javascript", headers=_CACHE_FOREVER
        )

    async def icon(request: web.Request) -> web.Response:
        return web.Response(body=_ICONS[request.path], content_type="image/png")

    app.router.add_get("/", home)
    app.router.add_get("/admin", admin)
    app.router.add_get("/manifest.json", manifest)
    app.router.add_get("/sw.js", service_worker)
    app.router.add_get(BUNDLE_PATH, bundle)
    for path in _ICONS:
        app.router.add_get(path, icon)
