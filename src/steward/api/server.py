"""The FastAPI application: /health open, everything else behind a bearer token."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from steward import __version__
from steward.api import audit, catalog, evidence, lineage, policy, query, schema, schema_registry
from steward.api.auth import principal
from steward.api.consistency import consistent_read
from steward.api.guards import refuse_nul
from steward.api.limits import BodyLimit
from steward.api.lineage_sql import router as sql_lineage_router
from steward.api.request_log import RequestLog, configure_logging
from steward.api.responses import Json, install_error_handlers
from steward.app import Steward
from steward.audit.refusals import RefusedTokens, write
from steward.lineage.ingest import warm_up

# How often the summaries of refused tokens in minutes that are over are written.
REFUSALS_FLUSH_SECONDS = 5.0


@asynccontextmanager
async def _refusal_summaries(app: FastAPI) -> AsyncIterator[None]:
    """Write the summaries of refused tokens as minutes end, and what is left at shutdown."""
    steward: Steward = app.state.steward
    refusals: RefusedTokens = app.state.refusals

    async def every_few_seconds() -> None:
        while True:
            await asyncio.sleep(REFUSALS_FLUSH_SECONDS)
            due = refusals.finished()
            if due:
                await run_in_threadpool(write, steward.audit, due)

    pool = steward.parse_pool()
    if pool is not None:
        # Start the lineage parse processes now, not on the first event.
        pool.submit(warm_up)
    task = asyncio.create_task(every_few_seconds())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        left = refusals.everything()
        if left:
            await run_in_threadpool(write, steward.audit, left)


def create_app(steward: Steward) -> FastAPI:
    """The API for one `Steward`; the store must already be migrated."""
    app = FastAPI(
        title="Steward",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=_refusal_summaries,
    )
    app.state.steward = steward
    app.state.refusals = RefusedTokens()
    install_error_handlers(app)
    # Before routing and authentication: no route reads a body larger than this.
    app.add_middleware(BodyLimit, max_bytes=steward.settings.max_body_bytes)
    # Outermost: every request is logged once, refusals by the body limit included.
    app.add_middleware(RequestLog)

    @app.get("/health", include_in_schema=False)
    def health() -> Response:
        """Liveness: the process answers. Never touches the store."""
        return Json({"status": "ok", "version": __version__})

    @app.get("/health/ready", include_in_schema=False)
    def ready() -> Response:
        """Readiness: the store answers and is migrated to this version's schema, so a
        load balancer sends no request to a worker that would fail it (503 otherwise)."""
        try:
            current = steward.store.is_current()
        except SQLAlchemyError as exc:
            detail = f"store unreachable: {type(exc).__name__}"
            return Json({"status": "unavailable", "detail": detail}, status_code=503)
        if not current:
            detail = "store not migrated: run `steward db upgrade`"
            return Json({"status": "unavailable", "detail": detail}, status_code=503)
        return Json({"status": "ready", "version": __version__})

    # A request that echoes a lineage position, or asks `?consistent=true`, waits for the
    # normaliser to reach it first (docs/lineage.md, "Consistency").
    authenticated = [Depends(principal), Depends(refuse_nul), Depends(consistent_read)]
    app.include_router(sql_lineage_router, dependencies=authenticated)
    app.include_router(lineage.router, dependencies=authenticated)
    app.include_router(catalog.router, dependencies=authenticated)
    app.include_router(audit.router, dependencies=authenticated)
    app.include_router(evidence.router, dependencies=authenticated)
    app.include_router(policy.router, dependencies=authenticated)
    app.include_router(query.router, dependencies=authenticated)
    app.include_router(schema.router, dependencies=authenticated)
    app.include_router(schema_registry.router, dependencies=authenticated)
    # The web UI (docs/web.md): pages, static files, HTML error pages; sessions, not tokens.
    from steward.web import install

    install(app)
    return app


def create_app_from_env() -> FastAPI:
    """The API for a `Steward` built from the environment: what each of `steward serve
    --workers N`'s processes runs (uvicorn imports it by name in every worker)."""
    tune_gc_for_serving()
    steward = Steward()
    configure_logging(steward.settings)
    return create_app(steward)


def tune_gc_for_serving() -> None:
    """Make the garbage collector run rarely, in the process that serves requests.

    Ingest allocates many short-lived objects; the default thresholds make the collector
    scan the whole heap every few hundred events (measured: 4x slower validation).
    """
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
