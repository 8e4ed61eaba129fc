"""`GET /api/v1/evidence/{dataset}`: the governance report with its offline proof.

The report carries audit records in full (query text, who read what) and the records
between them and their checkpoints, so it is for admins and tokens holding the
`evidence:read` scope.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, Response

from steward.api.auth import require_scope, steward_of
from steward.api.responses import Json
from steward.audit.log import parse_time
from steward.identity.models import EVIDENCE_READ, Principal

router = APIRouter()


@router.get("/api/v1/evidence/{dataset:path}")
async def get_evidence(
    request: Request,
    dataset: str,
    as_of: str | None = None,
    format: Literal["json", "md", "html"] = "json",
    caller: Principal = Depends(require_scope(EVIDENCE_READ)),
) -> Response:
    """The evidence for `dataset` (a catalog name or node id), now or `as_of` a time."""
    from steward.governance.evidence import build_evidence
    from steward.governance.evidence_render import to_html, to_markdown

    when = parse_time("as_of", as_of)
    steward = steward_of(request)
    evidence = await run_in_threadpool(
        build_evidence, steward, dataset, as_of=when, generated_by=caller.user
    )
    report = evidence.to_json()
    if format == "md":
        return Response(to_markdown(report), media_type="text/markdown; charset=utf-8")
    if format == "html":
        return HTMLResponse(to_html(report))
    return Json(report)
