"""JSON responses rendered with orjson, and the one place errors become HTTP answers."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response

from steward.errors import StewardError, Unauthenticated

log = logging.getLogger("steward.api")


class Json(JSONResponse):
    """A JSON response rendered by orjson."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """`{"error": message}` with `status`."""
    return Json({"error": message}, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Map Steward's errors, bad parameters and unknown routes to 4xx with a message."""

    @app.exception_handler(StewardError)
    async def _steward(_request: Request, exc: StewardError) -> Response:
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthenticated) else None
        return error(exc.http_status, exc.message, headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> Response:
        problems = []
        for err in exc.errors()[:3]:
            loc = [
                str(part) for part in err.get("loc", ()) if part not in ("query", "path", "body")
            ]
            problems.append(f"{'.'.join(loc) or 'request'}: {err.get('msg')}")
        return error(400, "; ".join(problems))

    @app.exception_handler(HTTPException)
    async def _http(_request: Request, exc: HTTPException) -> Response:
        return error(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:  # pragma: no cover
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return error(500, f"internal error: {type(exc).__name__}")
