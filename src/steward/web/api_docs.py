"""The API's description for signed-in users: `/api/openapi.json` and a page of routes.

The page is rendered here from the OpenAPI document, so nothing is fetched from a CDN
(FastAPI's own docs page loads Swagger UI from one).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from steward.api.auth import principal
from steward.api.responses import Json
from steward.identity.sessions import WebSession
from steward.web.auth import session_of, signed_in
from steward.web.render import page

router = APIRouter(include_in_schema=False)
METHODS = ("get", "post", "put", "patch", "delete")


def _document(request: Request) -> dict[str, Any]:
    document: dict[str, Any] = request.app.openapi()
    return document


@router.get("/api/openapi.json")
async def get_openapi(request: Request) -> Response:
    """The OpenAPI document: to a web session, or to a bearer token as every API route."""
    if await session_of(request) is None:
        await principal(request)  # 401 without a valid token
    return Json(_document(request))


def _parameters(operation: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "name": p.get("name"),
            "where": p.get("in"),
            "required": bool(p.get("required")),
            "description": p.get("description") or "",
        }
        for p in operation.get("parameters", [])
    ]


@router.get("/api/docs")
def get_docs(request: Request, session: Annotated[WebSession, Depends(signed_in)]) -> Response:
    """Every API route with its summary and parameters, grouped by its first path part."""
    document = _document(request)
    groups: dict[str, list[dict[str, Any]]] = {}
    for path, item in sorted(document.get("paths", {}).items()):
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            section = path.removeprefix("/api/v1/").split("/", 1)[0] or "api"
            groups.setdefault(section, []).append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": operation.get("summary") or "",
                    "description": operation.get("description") or "",
                    "parameters": _parameters(operation),
                    "body": "requestBody" in operation,
                    "anchor": f"{method}-{path}".replace("/", "-")
                    .replace("{", "")
                    .replace("}", ""),
                }
            )
    return page(
        request,
        "api_docs.html",
        {"groups": sorted(groups.items()), "api_version": document.get("info", {}).get("version")},
        session=session,
        title="API",
    )
