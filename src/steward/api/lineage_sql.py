"""`POST /api/v1/lineage/sql`: the table and column lineage of SQL text, computed, not stored."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from steward.api.responses import Json

router = APIRouter(prefix="/api/v1")

MAX_SCHEMA_NAMES = 100_000  # tables and columns together


class SqlLineageRequest(BaseModel):
    """SQL (one statement or a script), its dialect, and optionally the tables it reads."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    sql: str = Field(min_length=1, max_length=100_000)
    dialect: str | None = Field(default=None, max_length=64)
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    default_catalog: str | None = Field(default=None, alias="defaultCatalog", max_length=512)
    default_schema: str | None = Field(default=None, alias="defaultSchema", max_length=512)

    @field_validator("schema_")
    @classmethod
    def _bounded(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and _names(value, depth=0) > MAX_SCHEMA_NAMES:
            raise ValueError(f"more than {MAX_SCHEMA_NAMES} tables and columns")
        return value


def _names(node: dict[str, Any], depth: int) -> int:
    if depth > 4:
        raise ValueError("nested deeper than catalog.schema.table.column")
    count = 0
    for key, value in node.items():
        if len(key) > 1024:
            raise ValueError("a name longer than 1024 characters")
        count += 1
        if isinstance(value, dict):
            count += _names(value, depth + 1)
        elif not isinstance(value, str | None):
            raise ValueError(f"{key}: a column type must be a string")
        if count > MAX_SCHEMA_NAMES:
            break
    return count


@router.post("/lineage/sql")
async def post_sql_lineage(body: SqlLineageRequest) -> Response:
    """The JSON of `steward lineage sql`: per statement its inputs, outputs and columns."""
    from steward.lineage.sql import analyze

    result = await run_in_threadpool(
        analyze,
        body.sql,
        dialect=body.dialect,
        schema=body.schema_,
        default_catalog=body.default_catalog,
        default_schema=body.default_schema,
    )
    return Json(result.to_json())
