"""Input no backend can store: refused at the edge with a 400 naming where it was."""

from __future__ import annotations

from urllib.parse import unquote

from fastapi import Request

from steward.errors import InvalidInput


async def refuse_nul(request: Request) -> None:
    """PostgreSQL text cannot hold NUL characters, so no query or path may carry one."""
    for name, value in request.query_params.multi_items():
        if "\x00" in name or "\x00" in value:
            raise InvalidInput(f"{name or 'query'}: NUL characters (\\u0000) are not allowed")
    raw = request.scope.get("raw_path") or b""
    if "\x00" in request.url.path or "\x00" in unquote(raw.decode("latin-1")):
        raise InvalidInput("path: NUL characters (\\u0000) are not allowed")
