"""Audit routes: read and filter the log, verify it, reports, checkpoints, Trino's event
listener, and Prometheus `/metrics`. Reads are for admins (`/metrics` also for a token with
the `metrics:read` scope); Trino's listener posts with an
admin token, or as a user in `trino_reporter_users` or a member of `trino_reporter_groups`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, FastAPI, Query, Request
from pydantic import TypeAdapter
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from steward.api.auth import steward_of
from steward.api.responses import Json
from steward.audit import reports
from steward.audit.checkpoints import Signer, list_checkpoints
from steward.audit.log import AuditFilter, list_records, parse_time
from steward.audit.metrics import metrics_text
from steward.audit.trino import may_report, record_trino_query
from steward.audit.verify import verify
from steward.audit.worker import AuditWorker
from steward.catalog.views import pii_columns
from steward.errors import Forbidden, InvalidInput
from steward.identity.models import METRICS_READ, Principal

_DATETIME = TypeAdapter(datetime)


@asynccontextmanager
async def _duties(app: FastAPI) -> AsyncIterator[None]:
    """Checkpoints, exports and retention run beside the server, never in a request."""
    steward = app.state.steward
    worker = AuditWorker(steward.store, steward.settings)
    worker.start()
    try:
        yield
    finally:
        await run_in_threadpool(worker.stop)


router = APIRouter(lifespan=_duties)


def _admin(request: Request) -> Principal:
    caller: Principal = request.state.principal
    if not caller.is_admin:
        raise Forbidden("the audit log is for admins")
    return caller


@router.get("/api/v1/audit")
def get_audit(
    request: Request,
    user: str | None = None,
    dataset: str | None = None,
    column: str | None = None,
    action: str | None = None,
    decision: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """A page of records, newest first, filtered by any of the parameters."""
    _admin(request)
    where = AuditFilter.parse(
        user=user,
        dataset=dataset,
        column=column,
        action=action,
        decision=decision,
        since=since,
        until=until,
    )
    with steward_of(request).store.read() as conn:
        found = list_records(conn, where, limit=limit + 1, offset=offset)
    more = len(found) > limit
    return Json(
        {
            "records": [r.to_json() for r in found[:limit]],
            "limit": limit,
            "offset": offset,
            "next_offset": offset + limit if more else None,
        }
    )


@router.get("/api/v1/audit/verify")
def get_verify(request: Request, archive: bool = False) -> Response:
    """Walk the chain and the checkpoints: `ok`, or the first bad sequence number and why."""
    _admin(request)
    steward = steward_of(request)
    home = steward.settings.home
    result = verify(steward.store, Signer.load(home), home, archive=archive)
    return Json(result.to_json())


@router.get("/api/v1/audit/checkpoints")
def get_checkpoints(request: Request) -> Response:
    """Every signed checkpoint and the public key that verifies them, to keep elsewhere."""
    _admin(request)
    steward = steward_of(request)
    signer = Signer.load(steward.settings.home)
    with steward.store.read() as conn:
        found = list_checkpoints(conn)
    return Json(
        {
            "key_id": signer.key_id,
            "public_key": signer.public_pem,
            "checkpoints": [c.to_json() for c in found],
        }
    )


@router.get("/api/v1/audit/reports/{name}")
def get_report(
    request: Request,
    name: str,
    since: str | None = None,
    until: str | None = None,
    format: Literal["json", "csv"] = "json",
) -> Response:
    """One report: queries-per-day, pii-access, denied or top-datasets; JSON or CSV."""
    _admin(request)
    start, end = parse_time("since", since), parse_time("until", until)
    with steward_of(request).store.read() as conn:
        report = reports.build_report(conn, name, pii_columns=pii_columns, since=start, until=end)
    if format == "csv":
        return Response(report.to_csv(), media_type="text/csv; charset=utf-8")
    return Json(report.to_json())


@router.post("/api/v1/audit/trino", status_code=201)
async def post_trino(request: Request) -> Response:
    """A Trino QueryCompletedEvent from its HTTP event listener."""
    caller: Principal = request.state.principal
    settings = steward_of(request).settings
    if not may_report(
        caller, users=settings.trino_reporter_users, groups=settings.trino_reporter_groups
    ):
        raise Forbidden(
            "posting Trino events needs an admin token, or a user named in"
            " trino_reporter_users or a member of trino_reporter_groups"
        )
    body = await request.body()
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"body: not valid JSON ({exc})") from None
    steward = steward_of(request)
    seq, query = await run_in_threadpool(
        record_trino_query,
        steward.store,
        payload,
        reporter=caller,
        namespace=steward.settings.audit_trino_namespace,
    )
    return Json(
        {"seq": seq, "decision": query.decision, "lineage": query.lineage is not None},
        status_code=201,
    )


@router.get("/metrics", include_in_schema=False)
def get_metrics(request: Request) -> Response:
    """Prometheus metrics: queries, denials, ingestion counts, export lag; for admins and
    tokens with the `metrics:read` scope (a scraper needs no admin token)."""
    caller: Principal = request.state.principal
    if not caller.may(METRICS_READ):
        raise Forbidden(
            f"/metrics needs the {METRICS_READ!r} scope: a token made with"
            f" `steward token create --user prometheus --scope {METRICS_READ}`, or an admin token"
        )
    text, content_type = metrics_text(steward_of(request).store)
    return Response(text, media_type=content_type)
