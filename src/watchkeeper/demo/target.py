"""A small web app to watch: ``/``, ``/api/health``, ``/admin``, a PWA manifest, a service worker, a log.

Parts can be made to fail or slow down through ``/_demo/fail/PART``, ``/_demo/slow/PART?ms=N`` and
``/_demo/recover``, so a user can watch Watchkeeper notice.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import sqlite3
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

PARTS = ("home", "health", "admin", "manifest", "sw")

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<link rel="manifest" href="/manifest.json"></head>
<body><h1>{title}</h1><p>{text}</p>
<script>if ('serviceWorker' in navigator) navigator.serviceWorker.register('/sw.js');</script>
</body></html>
"""

_CONTROL = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Demo controls</title></head><body>
<h1>Demo target controls</h1>
<p>State: <code>{state}</code></p>
<ul>{links}</ul>
<p><a href="/_demo/recover">recover everything</a></p>
<h2>Notifications received</h2>
<p>Watchkeeper's demo config sends its alerts here (an Apprise <code>json://</code> channel).
Newest first; reload the page to see new ones.</p>
<ol>{inbox}</ol>
</body></html>
"""


@dataclass
class TargetState:
    """Which parts fail and which are slow (milliseconds)."""

    failing: set[str] = field(default_factory=set)
    inbox: deque[dict[str, str]] = field(default_factory=lambda: deque(maxlen=50))
    slow_ms: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """Return the state as JSON-ready data."""
        return {"failing": sorted(self.failing), "slow_ms": self.slow_ms}


def create_target(directory: Path) -> web.Application:
    """Given a directory for its log and database, return the demo target application."""
    directory.mkdir(parents=True, exist_ok=True)
    log_path = directory / "app.log"
    log_path.touch()
    _create_database(directory / "app.db")
    state = TargetState()
    app = web.Application()

    def log(level: str, message: str) -> None:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
        with log_path.open("a", encoding="utf-8") as f:
            f.write(f"{stamp} {level} {message}\n")

    async def gate(part: str, request: web.Request) -> web.Response | None:
        delay = state.slow_ms.get(part, 0)
        if delay:
            await asyncio.sleep(delay / 1000)
        if part in state.failing:
            log(
                "ERROR",
                f"{request.method} {request.path} failed: database connection refused (part={part})",
            )
            if part == "health":
                return web.json_response(
                    {"status": "unhealthy", "error": "database unreachable"}, status=503
                )
            return web.Response(status=500, text="Internal Server Error")
        log("INFO", f"{request.method} {request.path} 200")
        return None

    async def home(request: web.Request) -> web.Response:
        failed = await gate("home", request)
        return failed or web.Response(
            text=_PAGE.format(title="Demo Shop", text="Everything you need, nothing you don't."),
            content_type="text/html",
        )

    async def health(request: web.Request) -> web.Response:
        failed = await gate("health", request)
        return failed or web.json_response(
            {
                "status": "healthy",
                "timestamp": datetime.now(UTC).isoformat(),
                "version": "1.4.2",
                "database": "ok",
            }
        )

    async def admin(request: web.Request) -> web.Response:
        failed = await gate("admin", request)
        return failed or web.Response(
            text=_PAGE.format(title="Admin dashboard", text="LLM providers: all Available."),
            content_type="text/html",
        )

    async def manifest(request: web.Request) -> web.Response:
        failed = await gate("manifest", request)
        return failed or web.json_response(
            {
                "name": "Demo Shop",
                "short_name": "Shop",
                "start_url": "/",
                "display": "standalone",
                "icons": [{"src": "/icon.png", "sizes": "192x192", "type": "image/png"}],
            },
            content_type="application/manifest+json",
        )

    async def service_worker(request: web.Request) -> web.Response:
        failed = await gate("sw", request)
        return failed or web.Response(
            text="self.addEventListener('fetch', () => {});\n",
            content_type="application/javascript",
        )

    async def receive(request: web.Request) -> web.Response:
        message = await request.json()
        state.inbox.appendleft(
            {"title": str(message.get("title", "")), "message": str(message.get("message", ""))}
        )
        return web.json_response({"received": len(state.inbox)})

    async def control_page(request: web.Request) -> web.Response:
        inbox = "".join(
            f"<li><b>{html.escape(m['title'])}</b><pre>{html.escape(m['message'])}</pre></li>"
            for m in state.inbox
        )
        links = "".join(
            f'<li>{p}: <a href="/_demo/fail/{p}">fail</a> · <a href="/_demo/slow/{p}?ms=3000">slow</a></li>'
            for p in PARTS
        )
        return web.Response(
            text=_CONTROL.format(
                state=html.escape(json.dumps(state.as_dict())),
                links=links,
                inbox=inbox or "<li>none yet</li>",
            ),
            content_type="text/html",
        )

    def _parts(name: str) -> list[str]:
        if name == "all":
            return list(PARTS)
        if name not in PARTS:
            raise web.HTTPNotFound(text=f"unknown part {name!r}; parts: {', '.join(PARTS)}, all\n")
        return [name]

    async def fail(request: web.Request) -> web.Response:
        for part in _parts(request.match_info["part"]):
            state.failing.add(part)
        return web.json_response(state.as_dict())

    async def slow(request: web.Request) -> web.Response:
        try:
            ms = int(request.query.get("ms", "3000"))
        except ValueError:
            raise web.HTTPBadRequest(text="ms must be a whole number of milliseconds\n") from None
        for part in _parts(request.match_info["part"]):
            state.slow_ms[part] = ms
        return web.json_response(state.as_dict())

    async def recover(request: web.Request) -> web.Response:
        state.failing.clear()
        state.slow_ms.clear()
        return web.json_response(state.as_dict())

    app.router.add_get("/", home)
    app.router.add_get("/api/health", health)
    app.router.add_get("/admin", admin)
    app.router.add_get("/manifest.json", manifest)
    app.router.add_get("/sw.js", service_worker)
    app.router.add_get("/_demo", control_page)
    app.router.add_post("/_demo/inbox", receive)
    for method in ("GET", "POST"):
        app.router.add_route(method, "/_demo/fail/{part}", fail)
        app.router.add_route(method, "/_demo/slow/{part}", slow)
        app.router.add_route(method, "/_demo/recover", recover)
    return app


def _create_database(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, email TEXT NOT NULL)")
        if db.execute("SELECT count(*) FROM users").fetchone()[0] == 0:
            db.executemany(
                "INSERT INTO users (email) VALUES (?)",
                [(f"user{i}@example.com",) for i in range(1, 43)],
            )
