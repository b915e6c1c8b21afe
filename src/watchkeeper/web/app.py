"""The FastAPI application: the REST API, the pages, the status page and /metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from watchkeeper import __version__
from watchkeeper.service import Watchkeeper
from watchkeeper.views.dashboard import Dashboard
from watchkeeper.web import api, metrics, pages
from watchkeeper.web.access import AccessMiddleware
from watchkeeper.web.api.ping_lane import PingLane
from watchkeeper.web.security import Gate, SignInRequired

STATIC = Path(__file__).parent / "static"


def create_app(wk: Watchkeeper) -> FastAPI:
    """Given a running Watchkeeper, return the web application that serves it."""
    app = FastAPI(
        title="Watchkeeper",
        version=__version__,
        description="Checks, alerts and silences of a running Watchkeeper. "
        "Authenticate with `Authorization: Bearer <token>` (`watchkeeper token create`).",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.wk = wk
    app.state.dashboard = Dashboard(wk.store, lambda: wk.config)
    app.state.gate = Gate()
    app.state.metrics_registry = metrics.registry_for(wk, app.state.dashboard)
    # A tab on /checks with a thousand checks refetches it every 5 s: compress it.
    app.add_middleware(GZipMiddleware, minimum_size=2048)
    app.add_middleware(AccessMiddleware, engine=wk.store.engine)
    # Outermost: pings are answered before routing, compression and the access log (their path
    # holds the token), at thousands a second.
    app.add_middleware(PingLane)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(SignInRequired)
    async def sign_in(request: Request, exc: SignInRequired) -> RedirectResponse:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)

    @app.get("/api/health", tags=["health"])
    def health() -> dict[str, Any]:
        """Liveness of this Watchkeeper process: version, number of checks, scheduler lag."""
        return wk.health()

    app.include_router(api.router)
    app.include_router(metrics.router)
    app.include_router(pages.router)
    return app
