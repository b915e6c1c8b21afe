"""A small web app to watch, with what the five guides' checks call: a PWA front, LLM providers,
agents, a backend, Supabase, Frappe and contribux endpoints, a database, a log, and the advisory
services the demo project's dependency audits ask.

Parts can be made to fail or slow down through ``/_demo/fail/PART``, ``/_demo/slow/PART?ms=N``,
a provider's quota used up through ``/_demo/quota/PART?percent=N``, and all of it undone with
``/_demo/recover``, so a user can watch Watchkeeper notice. The pieces live in ``target_*.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import random
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

from watchkeeper.demo.target_apps import add_app_routes
from watchkeeper.demo.target_core import PARTS, QUOTA_USED, Target, TargetState
from watchkeeper.demo.target_llm import add_llm_routes
from watchkeeper.demo.target_log import TICK_SECONDS, AppLog
from watchkeeper.demo.target_registry import add_registry_routes
from watchkeeper.demo.target_web import add_web_routes

__all__ = ["PARTS", "TargetState", "create_target"]

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


def create_target(directory: Path, seed: int | None = None) -> web.Application:
    """Given a directory for its log and database, return the demo target application.

    ``seed`` makes the log's random ids and timing repeatable.
    """
    directory.mkdir(parents=True, exist_ok=True)
    _create_database(directory / "app.db")
    log = AppLog(directory / "app.log", random.Random(seed))
    log.backfill(datetime.now(UTC))
    target = Target(TargetState(), log)
    app = web.Application()
    add_web_routes(app, target)
    add_llm_routes(app, target)
    add_app_routes(app, target)
    add_registry_routes(app)
    _add_controls(app, target)

    async def traffic(app: web.Application) -> AsyncIterator[None]:
        async def keep_writing() -> None:
            while True:
                log.tick(datetime.now(UTC))
                await asyncio.sleep(TICK_SECONDS)

        task = asyncio.create_task(keep_writing())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    app.cleanup_ctx.append(traffic)
    return app


def _add_controls(app: web.Application, target: Target) -> None:
    state = target.state

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
            f'<li>{p}: <a href="/_demo/fail/{p}">fail</a> · <a href="/_demo/slow/{p}?ms=3000">slow</a>'
            + (
                f' · <a href="/_demo/quota/{p}?percent=90">use 90% of quota</a>'
                if p in QUOTA_USED
                else ""
            )
            + "</li>"
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

    def parts(name: str, among: tuple[str, ...] = PARTS) -> list[str]:
        if name == "all":
            return list(among)
        if name not in among:
            raise web.HTTPNotFound(text=f"unknown part {name!r}; parts: {', '.join(among)}, all\n")
        return [name]

    def number(request: web.Request, name: str, default: str, top: int | None = None) -> int:
        try:
            value = int(request.query.get(name, default))
        except ValueError:
            value = -1
        if value < 0 or (top is not None and value > top):
            upto = f" up to {top}" if top is not None else ""
            raise web.HTTPBadRequest(text=f"{name} must be a whole number from 0{upto}\n")
        return value

    async def fail(request: web.Request) -> web.Response:
        now = datetime.now(UTC)
        for part in parts(request.match_info["part"]):
            if part not in state.failing:
                state.failing.add(part)
                target.log.burst(now, part)
        return web.json_response(state.as_dict())

    async def slow(request: web.Request) -> web.Response:
        ms = number(request, "ms", "3000")
        for part in parts(request.match_info["part"]):
            state.slow_ms[part] = ms
        return web.json_response(state.as_dict())

    async def quota(request: web.Request) -> web.Response:
        percent = number(request, "percent", "90", top=100)
        for part in parts(request.match_info["part"], tuple(QUOTA_USED)):
            state.quota_used[part] = percent
        return web.json_response(state.as_dict())

    async def recover(request: web.Request) -> web.Response:
        state.failing.clear()
        state.slow_ms.clear()
        state.quota_used = dict(QUOTA_USED)
        return web.json_response(state.as_dict())

    app.router.add_get("/_demo", control_page)
    app.router.add_post("/_demo/inbox", receive)
    for method in ("GET", "POST"):
        app.router.add_route(method, "/_demo/fail/{part}", fail)
        app.router.add_route(method, "/_demo/slow/{part}", slow)
        app.router.add_route(method, "/_demo/quota/{part}", quota)
        app.router.add_route(method, "/_demo/recover", recover)


def _create_database(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, email TEXT NOT NULL)")
        if db.execute("SELECT count(*) FROM users").fetchone()[0] == 0:
            db.executemany(
                "INSERT INTO users (email) VALUES (?)",
                [(f"user{i}@example.com",) for i in range(1, 43)],
            )
