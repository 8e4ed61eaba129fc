"""The governed query route: `POST /api/v1/query {"sql": ...}` runs as the caller."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from steward.api.auth import steward_of
from steward.api.consistency import POSITION_COOKIE, POSITION_HEADER
from steward.api.responses import Json
from steward.policy.query import run_query
from steward.policy.wiring import access_for

router = APIRouter(prefix="/api/v1")


class QueryRequest(BaseModel):
    """One read-only SQL statement, and at most how many rows to return."""

    model_config = ConfigDict(extra="forbid")

    sql: str = Field(min_length=1, max_length=100_000)
    limit: int = Field(default=10_000, ge=1, le=100_000)


@router.post("/query")
async def post_query(request: Request, body: QueryRequest) -> Response:
    """`{"columns": [...], "rows": [[...]], "applied": [...]}`; 403 with the reason if refused."""
    steward = steward_of(request)
    caller = request.state.principal
    client = request.headers.get("x-steward-client") or None
    result = await run_in_threadpool(
        run_query,
        steward,
        body.sql,
        caller,
        access_for=access_for(steward, caller),
        limit=body.limit,
        client=client,
    )
    response = Json(result.to_json())
    if result.lineage_position is not None:
        # As ingest's 201 does: a graph read echoing it sees the query's lineage, even
        # while the normaliser process (`steward serve`) is still building it.
        position = str(result.lineage_position)
        response.headers[POSITION_HEADER] = position
        response.set_cookie(POSITION_COOKIE, position, max_age=600, httponly=True, samesite="lax")
    return response
