"""`/lineage` (the lineage explorer) and `/lineage/impact.csv` (what lies downstream).

The page is a shell: its script (`/static/lineage.js`, built from `web/frontend/`)
reads the graph from `GET /api/v1/lineage`, `/api/v1/column-lineage` and the job
routes with the session cookie, so the viewer sees what the API shows them. The page
itself resolves the start as the API does (`lineage.nodes.resolve_named`, then
`lineage.graph.lineage_graph` with the caller's sight), so a node the API would not
show is "not found" here too.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from steward.audit.reports import csv_cell
from steward.errors import InvalidInput
from steward.identity.sessions import WebSession
from steward.lineage import graph, nodes
from steward.lineage.impact import impact_rows
from steward.policy.sight import sight_for
from steward.store import Store
from steward.web.auth import signed_in, steward_of
from steward.web.render import SECURITY_HEADERS, page

router = APIRouter(include_in_schema=False)

Direction = Literal["both", "upstream", "downstream"]
NodeParam = Annotated[str, Query(max_length=2000)]
DepthParam = Annotated[str, Query(pattern=r"^(all|\d{1,4})$")]
AsOfParam = Annotated[str, Query(max_length=64)]
_DATETIME = TypeAdapter(datetime)
IMPACT_COLUMNS = ("depth", "type", "node_id", "namespace", "name", "owners", "described")


def _as_of(value: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = _DATETIME.validate_python(value)
    except ValidationError:
        raise InvalidInput(f"asOf: {value!r} is not an ISO 8601 timestamp") from None
    if moment.tzinfo is None:
        raise InvalidInput(f"asOf: {value!r} needs a time zone (for example Z)")
    return moment


def _depth(value: str) -> int | None:
    if value == "all":
        return None
    if int(value) > 1000:
        raise InvalidInput(f"depth: {value!r} is more than 1000")
    return int(value)


def _start(store: Store, session: WebSession, node: str, as_of: datetime | None) -> dict[str, Any]:
    """The start node as `GET /api/v1/lineage?depth=0` shows it to this principal."""
    sight = sight_for(store, session.principal)
    with store.read() as conn:
        start = nodes.resolve_named(conn, node)
        answer = graph.lineage_graph(
            conn, start, depth=0, direction="both", as_of=as_of, sight=sight
        )
    first: dict[str, Any] = answer["graph"][0]
    return first


@router.get("/lineage")
async def get_lineage_page(
    request: Request,
    session: Annotated[WebSession, Depends(signed_in)],
    node: NodeParam = "",
    direction: Direction = "both",
    depth: DepthParam = "3",
    asOf: AsOfParam = "",
) -> Response:
    """The explorer around `node` (a node id, a catalog name or NAMESPACE/NAME)."""
    moment = _as_of(asOf)
    _depth(depth)
    start = None
    if node:
        store = steward_of(request).store
        start = await run_in_threadpool(_start, store, session, node, moment)
    context = {
        "node": node,
        "start": start,
        "direction": direction,
        "depth": depth,
        "as_of": asOf,
        "directions": ("both", "upstream", "downstream"),
    }
    title = f"Lineage of {start['data']['name']}" if start else "Lineage"
    return page(request, "lineage.html", context, session=session, title=title)


def _impact(store: Store, session: WebSession, node: str, as_of: datetime | None) -> str:
    sight = sight_for(store, session.principal)
    with store.read() as conn:
        start = nodes.resolve_named(conn, node)
        answer = graph.lineage_graph(
            conn, start, depth=None, direction="downstream", as_of=as_of, sight=sight
        )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(IMPACT_COLUMNS)
    for row in impact_rows(answer):
        writer.writerow([csv_cell(row[c]) for c in IMPACT_COLUMNS])
    return out.getvalue()


@router.get("/lineage/impact.csv")
async def get_impact_csv(
    request: Request,
    session: Annotated[WebSession, Depends(signed_in)],
    node: NodeParam,
    asOf: AsOfParam = "",
) -> Response:
    """Every dataset and job downstream of `node`, with depth and owners, as CSV."""
    if not node:
        raise InvalidInput("node: name the dataset or job whose impact to list")
    store = steward_of(request).store
    text = await run_in_threadpool(_impact, store, session, node, _as_of(asOf))
    safe = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in node)[-80:]
    headers = {
        **SECURITY_HEADERS,
        "Content-Disposition": f'attachment; filename="impact-{safe}.csv"',
    }
    return Response(text, media_type="text/csv; charset=utf-8", headers=headers)
