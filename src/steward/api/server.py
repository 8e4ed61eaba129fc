"""The FastAPI application: /health open, everything else behind a bearer token."""

from __future__ import annotations

from fastapi import Depends, FastAPI
from starlette.responses import Response

from steward import __version__
from steward.api import audit, catalog, lineage, policy, query
from steward.api.auth import principal
from steward.api.guards import refuse_nul
from steward.api.responses import Json, install_error_handlers
from steward.app import Steward


def create_app(steward: Steward) -> FastAPI:
    """The API for one `Steward`; the store must already be migrated."""
    app = FastAPI(
        title="Steward", version=__version__, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.steward = steward
    install_error_handlers(app)

    @app.get("/health", include_in_schema=False)
    def health() -> Response:
        return Json({"status": "ok", "version": __version__})

    authenticated = [Depends(principal), Depends(refuse_nul)]
    app.include_router(lineage.router, dependencies=authenticated)
    app.include_router(catalog.router, dependencies=authenticated)
    app.include_router(audit.router, dependencies=authenticated)
    app.include_router(policy.router, dependencies=authenticated)
    app.include_router(query.router, dependencies=authenticated)
    return app
