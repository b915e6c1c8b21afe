"""The FastAPI application: the REST API and, later, the pages."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from watchkeeper import __version__
from watchkeeper.service import Watchkeeper


def create_app(wk: Watchkeeper) -> FastAPI:
    """Given a running Watchkeeper, return the web application that serves it."""
    app = FastAPI(
        title="Watchkeeper",
        version=__version__,
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )

    @app.get("/api/health", tags=["health"])
    def health() -> dict[str, Any]:
        """Liveness of this Watchkeeper process: version, number of checks, scheduler lag."""
        return wk.health()

    return app
