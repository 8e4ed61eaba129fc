"""The web UI's edge: server-rendered pages served by `steward serve` beside the API.

Routes (each file one topic): `login` (/login, /login/oidc, /logout), `catalog`
(/ search, /datasets/{ref}), `lineage` (/lineage, the explorer), `policies`
(/policies), `audit` (/audit, the dashboard), `api_docs` (/api/docs,
/api/openapi.json); static files under /static.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from steward.errors import StewardError, Unauthenticated
from steward.web import api_docs, audit, catalog, lineage, login, policies
from steward.web.auth import SignInNeeded, login_redirect, session_of
from steward.web.render import STATIC, environment, page

API_PREFIX = "/api/v1"
Handler = Callable[[Request, Exception], Awaitable[Response]]


# Paths outside /api/v1 that machines read: their errors stay JSON (a scraper gets a 401
# or 403 with a message, not a sign-in redirect).
MACHINE_PATHS = frozenset({"/api/openapi.json", "/metrics"})


def _is_page(request: Request) -> bool:
    return not request.url.path.startswith(API_PREFIX) and request.url.path not in MACHINE_PATHS


def install(app: FastAPI) -> None:
    """Add the pages, the static files and HTML error pages to the API's app."""
    app.state.web_templates = environment()
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (login, catalog, lineage, policies, api_docs, audit):
        app.include_router(module.router)
    _html_errors(app)


def _html_errors(app: FastAPI) -> None:
    """Errors on pages render as pages; the API's answers stay JSON."""
    handlers: dict[Any, Any] = app.exception_handlers
    as_json: dict[type[Exception], Handler] = {
        kind: handlers[kind] for kind in (StewardError, HTTPException)
    }
    invalid_json: Handler = handlers[RequestValidationError]

    async def error_page(request: Request, status: int, message: str) -> Response:
        session = await session_of(request)
        title = {403: "Not allowed", 404: "Not found"}.get(status, "Something is wrong")
        return page(
            request,
            "error.html",
            {"status": status, "message": message, "heading": title},
            session=session,
            status=status,
            title=title,
        )

    async def steward_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StewardError)
        if not _is_page(request):
            return await as_json[StewardError](request, exc)
        if isinstance(exc, Unauthenticated):
            return RedirectResponse(login_redirect(request.url.path), status_code=303)
        return await error_page(request, exc.http_status, exc.message)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if not _is_page(request):
            return await as_json[HTTPException](request, exc)
        message = "no such page" if exc.status_code == 404 else str(exc.detail)
        return await error_page(request, exc.status_code, message)

    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if not _is_page(request):
            return await invalid_json(request, exc)
        problems = [
            f"{'.'.join(str(p) for p in e.get('loc', ()) if p not in ('query', 'path'))}:"
            f" {e.get('msg')}"
            for e in exc.errors()[:3]
        ]
        return await error_page(request, 400, "; ".join(problems))

    async def sign_in_needed(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignInNeeded)
        return RedirectResponse(login_redirect(exc.next_path), status_code=303)

    app.add_exception_handler(StewardError, steward_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(SignInNeeded, sign_in_needed)
