"""JSON responses rendered with orjson, and the one place errors become HTTP answers."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response

from steward.errors import RegistryError, StewardError, TryLater, Unauthenticated

log = logging.getLogger("steward.api")


class Json(JSONResponse):
    """A JSON response rendered by orjson."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


# Under this prefix errors take Confluent's shape, which Kafka registry clients parse.
REGISTRY_PREFIX = "/api/v1/schema-registry"
REGISTRY_MEDIA_TYPE = "application/vnd.schemaregistry.v1+json"


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """`{"error": message}` with `status`."""
    return Json({"error": message}, status_code=status, headers=headers)


def _answer(
    request: Request,
    status: int,
    message: str,
    headers: dict[str, str] | None = None,
    error_code: int | None = None,
) -> Response:
    """`error(...)`, or Confluent's `{"error_code", "message"}` for schema registry routes."""
    if not request.url.path.startswith(REGISTRY_PREFIX):
        return error(status, message, headers)
    body = {"error_code": error_code or status, "message": message}
    return Json(body, status_code=status, headers=headers, media_type=REGISTRY_MEDIA_TYPE)


def install_error_handlers(app: FastAPI) -> None:
    """Map Steward's errors, bad parameters and unknown routes to 4xx with a message."""

    @app.exception_handler(StewardError)
    async def _steward(request: Request, exc: StewardError) -> Response:
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthenticated) else None
        if isinstance(exc, TryLater):
            headers = {"Retry-After": str(exc.retry_after)}
        code = exc.error_code if isinstance(exc, RegistryError) else None
        return _answer(request, exc.http_status, exc.message, headers, code)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = []
        for err in exc.errors()[:3]:
            loc = [
                str(part) for part in err.get("loc", ()) if part not in ("query", "path", "body")
            ]
            problems.append(f"{'.'.join(loc) or 'request'}: {err.get('msg')}")
        return _answer(request, 400, "; ".join(problems))

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        return _answer(request, exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:  # pragma: no cover
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return error(500, f"internal error: {type(exc).__name__}")
