"""Lineage routes: OpenLineage ingest, graph and column graph, listings and search."""

from __future__ import annotations

import asyncio
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import unquote
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool
from starlette.responses import PlainTextResponse, Response

from steward.api.auth import require_scope, steward_of
from steward.api.consistency import (
    POSITION_COOKIE,
    POSITION_HEADER,
    refuse_when_behind,
)
from steward.api.responses import Json
from steward.errors import InvalidInput
from steward.governance.principals import UNKNOWN, principal_json, run_principals
from steward.identity.models import LINEAGE_WRITE, Principal
from steward.lineage import graph, hierarchy, nodes, queries
from steward.lineage.draw import draw
from steward.lineage.graph import Direction
from steward.lineage.ingest import IngestResult, prepare_body
from steward.lineage.models import to_utc
from steward.lineage.normaliser import normalise_pending
from steward.lineage.raw_log import Call
from steward.policy.sight import PolicySight, sight_for

if TYPE_CHECKING:
    from steward.app import Steward

router = APIRouter(prefix="/api/v1")

Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0)]
_DATETIME = TypeAdapter(datetime)


async def _body(request: Request) -> bytes:
    """The body, gunzipped if sent with `Content-Encoding: gzip`, within the size limit.

    The sent body's size is bounded before this by `api.limits.BodyLimit` (413); the limit
    here is on what it decompresses to.
    """
    limit = steward_of(request).settings.max_body_bytes
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        return bytes(data)
    if encoding != "gzip":
        raise InvalidInput(f"Content-Encoding: {encoding!r} is not supported; use gzip")
    inflater = zlib.decompressobj(wbits=31)
    try:
        body = inflater.decompress(bytes(data), limit + 1)
    except zlib.error as exc:
        raise InvalidInput(f"body: not valid gzip ({exc})") from None
    if len(body) > limit or inflater.unconsumed_tail:
        raise InvalidInput(f"body: larger than the {limit} byte limit once decompressed")
    if not inflater.eof:
        raise InvalidInput("body: gzip stream is truncated")
    return body


# Posting lineage changes what everyone reads, so it needs `lineage:write`, checked before
# the body is read.
_WRITES_LINEAGE = [Depends(require_scope(LINEAGE_WRITE))]


@router.post("/lineage", status_code=201, dependencies=_WRITES_LINEAGE)
async def post_event(request: Request) -> Response:
    """One OpenLineage event (RunEvent, DatasetEvent or JobEvent), as the clients send it."""
    result = await _ingest(request, batch=False)
    return _acknowledged(
        {"stored": result.stored, "duplicates": result.duplicates}, result.position
    )


@router.post("/lineage/batch", status_code=201, dependencies=_WRITES_LINEAGE)
async def post_batch(request: Request) -> Response:
    """Many events, as a JSON array or NDJSON, stored in one transaction: all or none."""
    result = await _ingest(request, batch=True)
    answer = {"received": result.received, "stored": result.stored}
    return _acknowledged({**answer, "duplicates": result.duplicates}, result.position)


async def _ingest(request: Request, *, batch: bool) -> IngestResult:
    """Decode and validate the body, append it through the group commit, and (with no
    normaliser worker) build the graph up to the append before answering.

    Under `steward serve` (a normaliser worker builds the graph) nothing of it runs on
    the event loop. A small body goes to the group commit's courier thread, which
    decodes and validates what arrived together, appends it as one group and wakes the
    loop once (no thread hop of the request's own: a hop costs ~0.2 ms of CPU, as much
    as validating a 14 KB event). A larger body is decoded and validated in a worker
    thread, or in the parse processes when configured, beside other requests' writes,
    so that it holds up no one else's group.
    """
    steward = steward_of(request)
    settings = steward.settings
    body = await _body(request)
    actor = request.state.principal
    now = datetime.now(UTC).replace(tzinfo=None)
    if settings.lineage_normaliser == "inline":
        accept = partial(_accept, steward, body, batch=batch, actor=actor, now=now)
        return await run_in_threadpool(accept)
    prepare = partial(
        prepare_body,
        body,
        batch=batch,
        max_future_seconds=settings.lineage_max_future_seconds,
        now=now,
    )
    max_backlog = settings.lineage_max_backlog

    def call_of(prepared: tuple[int, list[dict[str, Any]]]) -> Call:
        received, rows = prepared
        return Call(rows, received, actor, max_backlog=max_backlog)

    pool = steward.parse_pool()
    if pool is not None:
        # Not worth parsing what would be refused: check the backlog first (it is checked
        # again in the append's transaction).
        await run_in_threadpool(refuse_when_behind, steward.store, max_backlog)
        prepared = await asyncio.get_running_loop().run_in_executor(pool, prepare)
    elif len(body) > COURIER_PARSE_BYTES:
        prepared = await run_in_threadpool(prepare)
    else:
        return await steward.lineage_appender.append_async(lambda: call_of(prepare()))
    return await steward.lineage_appender.append_async(partial(call_of, prepared))


# Bodies up to this size (one event, a few) are decoded and validated by the courier.
COURIER_PARSE_BYTES = 64 * 1024


def _accept(
    steward: Steward,
    body: bytes,
    *,
    batch: bool,
    actor: Principal | None,
    now: datetime,
) -> IngestResult:
    """Decode, validate and append `body`, then build the graph up to it (no normaliser
    worker: library use, in-process apps)."""
    settings = steward.settings
    received, rows = prepare_body(
        body, batch=batch, max_future_seconds=settings.lineage_max_future_seconds, now=now
    )
    call = Call(rows, received, actor, max_backlog=settings.lineage_max_backlog)
    result = steward.lineage_appender.append(call)
    normalise_pending(steward.store)
    return result


def _acknowledged(answer: dict[str, Any], position: int) -> Response:
    """The 201, with the raw log position a read must wait for to see these events: in
    the JSON, the `Steward-Lineage-Position` header and a cookie (read-your-writes)."""
    response = Json({**answer, "position": position}, status_code=201)
    response.headers[POSITION_HEADER] = str(position)
    response.set_cookie(POSITION_COOKIE, str(position), max_age=600, httponly=True, samesite="lax")
    return response


def _depth(value: str | None) -> int | None:
    if value is None:
        return 20
    if value.lower() == "all":
        return None
    if not value.isdigit() or int(value) > 1000:
        raise InvalidInput(f"depth: {value!r} is not a whole number from 0 to 1000, or 'all'")
    return int(value)


def _time(name: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return to_utc(_DATETIME.validate_python(value))
    except ValidationError:
        raise InvalidInput(f"{name}: {value!r} is not an ISO 8601 timestamp") from None


@dataclass(frozen=True)
class GraphQuestion:
    """The query parameters both graph routes take."""

    nodeId: str  # a node id, a catalog name or NAMESPACE/NAME (DATASET.COLUMN for columns)
    depth: str | None = None
    direction: Direction = "both"
    asOf: str | None = None
    format: Literal["json", "mermaid", "dot"] = "json"


def _answer(result: dict[str, Any], fmt: str) -> Response:
    """The graph as JSON, or drawn as a Mermaid or DOT diagram (text/plain)."""
    if fmt == "json":
        return Json(result)
    return PlainTextResponse(draw(result, "dot" if fmt == "dot" else "mermaid"))


def _sight(request: Request) -> PolicySight | None:
    """What the caller may see of the metadata (None: everything, for admins)."""
    return sight_for(steward_of(request).store, request.state.principal)


@router.get("/lineage")
def get_lineage(request: Request, q: Annotated[GraphQuestion, Depends()]) -> Response:
    """The graph around a dataset or job; `depth` in steps (default 20, or `all`).

    `nodeId` is a node id, a catalog name or NAMESPACE/NAME; `format=mermaid|dot` draws it.
    """
    with steward_of(request).store.read() as conn:
        start = nodes.resolve_named(conn, q.nodeId)
        result = graph.lineage_graph(
            conn,
            start,
            depth=_depth(q.depth),
            direction=q.direction,
            as_of=_time("asOf", q.asOf),
            sight=_sight(request),
        )
    return _answer(result, q.format)


@router.get("/column-lineage")
def get_column_lineage(request: Request, q: Annotated[GraphQuestion, Depends()]) -> Response:
    """The graph of columns around a column, with transformations.

    `nodeId` is `datasetField:NS:NAME:FIELD` or DATASET.COLUMN (DATASET as `/lineage` takes it).
    """
    with steward_of(request).store.read() as conn:
        start = nodes.resolve_field_named(conn, q.nodeId)
        result = graph.column_lineage_graph(
            conn,
            start,
            depth=_depth(q.depth),
            direction=q.direction,
            as_of=_time("asOf", q.asOf),
            sight=_sight(request),
        )
    return _answer(result, q.format)


@router.get("/events/lineage")
def get_events(
    request: Request,
    runId: str | None = None,
    after: str | None = None,
    before: str | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Response:
    """Raw events as received, newest first; `after`/`before` bound the event time.

    Admins read every event; others the events of the jobs they sent events for.
    """
    since, until = _time("after", after), _time("before", before)
    sight = _sight(request)
    with steward_of(request).store.read() as conn:
        answer = queries.list_events(
            conn, run_id=runId, after=since, before=until, limit=limit, offset=offset, sight=sight
        )
    return Json(answer)


@router.get("/namespaces")
def get_namespaces(request: Request) -> Response:
    """Every namespace, with counts of datasets and jobs."""
    with steward_of(request).store.read() as conn:
        return Json({"namespaces": queries.list_namespaces(conn, _sight(request))})


@router.get("/datasets")
def get_datasets(
    request: Request, namespace: str | None = None, limit: Limit = 100, offset: Offset = 0
) -> Response:
    """A page of datasets, optionally of one namespace."""
    with steward_of(request).store.read() as conn:
        answer = queries.list_datasets(
            conn, namespace=namespace, limit=limit, offset=offset, sight=_sight(request)
        )
        return Json(answer)


@router.get("/jobs")
def get_jobs(
    request: Request, namespace: str | None = None, limit: Limit = 100, offset: Offset = 0
) -> Response:
    """A page of jobs, optionally of one namespace."""
    with steward_of(request).store.read() as conn:
        answer = queries.list_jobs(
            conn, namespace=namespace, limit=limit, offset=offset, sight=_sight(request)
        )
        return Json(answer)


_JOB_PATHS = (None, "runs", "graph")


@router.get("/jobs/{path:path}")
def get_job(request: Request, path: str, limit: Limit = 100, offset: Offset = 0) -> Response:
    """`/jobs/{namespace}/{name}`: one job with its facets, latest run, inputs, outputs,
    parent and child jobs; `/jobs/{namespace}/{name}/runs`: its runs, newest first;
    `/jobs/{namespace}/{name}/graph`: its tasks (child jobs) and what they read and write.

    Namespace and name are percent-encoded path segments (`postgres%3A%2F%2Fh%3A5432`),
    read from the raw path so an encoded `/` stays inside its segment.
    """
    raw = request.scope.get("raw_path") or request.url.path.encode()
    tail = raw.decode("latin-1").split("/api/v1/jobs/", 1)[-1].split("?", 1)[0]
    segments = tail.split("/")
    what = segments[2] if len(segments) == 3 else None
    if len(segments) not in (2, 3) or what not in _JOB_PATHS or not all(segments[:2]):
        raise InvalidInput(
            "path: expected /api/v1/jobs/{namespace}/{name}, .../runs or .../graph with"
            f" namespace and name percent-encoded, got /api/v1/jobs/{path}"
        )
    namespace, name = unquote(segments[0]), unquote(segments[1])
    sight = _sight(request)
    with steward_of(request).store.read() as conn:
        if what == "runs":
            answer = queries.list_runs(
                conn, namespace, name, limit=limit, offset=offset, sight=sight
            )
            _with_principals(request, conn, answer["runs"])
        elif what == "graph":
            answer = hierarchy.job_graph(conn, namespace, name, sight)
        else:
            answer = hierarchy.job_answer(conn, namespace, name, sight)
        return Json(answer)


@router.get("/runs/{runId}")
def get_run(request: Request, runId: str) -> Response:
    """One run: facets, state history, inputs, outputs, job, parent and root runs, children."""
    try:
        run_id = str(UUID(runId))
    except ValueError:
        raise InvalidInput(f"runId: {runId!r} is not a UUID") from None
    sight = _sight(request)
    with steward_of(request).store.read() as conn:
        answer = hierarchy.run_answer(conn, run_id, sight)
        _with_principals(request, conn, [answer])
        return Json(answer)


def _with_principals(request: Request, conn: Connection, answers: list[dict[str, Any]]) -> None:
    """Each run's principal (`principal`): a `[[lineage.principals]]` mapping, else its poster."""
    mappings = steward_of(request).settings.lineage_principals
    found = run_principals(conn, [a["runId"] for a in answers], mappings)
    for answer in answers:
        answer["principal"] = principal_json(found.get(answer["runId"], UNKNOWN))


@router.get("/search")
def get_search(
    request: Request, q: Annotated[str, Query(min_length=1, max_length=500)], limit: Limit = 50
) -> Response:
    """Datasets and jobs by name, description or field name; exact names first."""
    with steward_of(request).store.read() as conn:
        return Json(queries.search(conn, q, limit=limit, sight=_sight(request)))
