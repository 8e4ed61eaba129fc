"""Catalog routes: one dataset's page and its edits, search, sources and their sync."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from starlette.responses import Response

from steward.api.auth import steward_of
from steward.api.responses import Json
from steward.audit.log import record_change
from steward.catalog import pii
from steward.catalog.edits import DatasetEdit, edit_dataset
from steward.catalog.search import SearchFilters, search
from steward.catalog.views import dataset_page
from steward.errors import Forbidden
from steward.identity.models import Principal
from steward.policy.sight import sight_for
from steward.quality.openlineage import dataset_quality_view
from steward.schema.catalog_sync import sync_source
from steward.schema.deprecations import by_catalog_name, deprecations, shown_with
from steward.schema.history import dataset_id_of

router = APIRouter(prefix="/api/v1")


def _caller(request: Request) -> Principal:
    caller: Principal = request.state.principal
    return caller


def _admin(request: Request, what: str) -> None:
    caller = _caller(request)
    if not caller.is_admin:
        raise Forbidden(f"{what}: needs an admin token; {caller.user} is not an admin")


@router.get("/catalog/search")
def get_catalog_search(
    request: Request,
    q: Annotated[str, Query(max_length=500)] = "",
    source: str | None = None,
    tag: str | None = None,
    owner: str | None = None,
    domain: str | None = None,
    deleted: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
) -> Response:
    """Datasets by full text over names, descriptions, columns, tags and owners; best first.

    Only datasets the caller may describe are searched (admins: all).
    """
    filters = SearchFilters(source=source, tag=tag, owner=owner, domain=domain)
    store = steward_of(request).store
    sight = sight_for(store, _caller(request))
    only = None
    if sight is not None:
        with store.read() as conn:
            only = sight.describable(conn)
    found = search(store, q, filters=filters, limit=limit, include_deleted=deleted, only=only)
    with store.read() as conn:
        marks = by_catalog_name(conn, [r["name"] for r in found])
    for result in found:
        # Search shows a dataset's own deprecation; its columns' are on its page.
        own = [d for d in marks.get(result["name"], []) if d.column is None]
        result["deprecation"] = own[0].to_json() if own else None
    return Json({"results": found, "totalCount": len(found)})


@router.get("/sources")
def get_sources(request: Request) -> Response:
    """The catalog's sources and when each was last synced."""
    steward = steward_of(request)
    return Json({"sources": pii.source_status(steward.store, steward.source_names())})


@router.post("/sources/{name}/sync")
def post_sync(request: Request, name: str) -> Response:
    """Discover one source's tables now (admins only)."""
    from steward.policy.drift import active_drift

    _admin(request, f"sync of source {name}")
    steward = steward_of(request)
    source = steward.source(name)
    try:
        synced = sync_source(steward.store, source, actor=_caller(request))
    finally:
        source.close()
    result, classified = synced.result, synced.classified
    shown: dict[str, Any] = {k: v for k, v in result.__dict__.items() if k != "columns"}
    shown["columns"] = [
        {"table": c.table, "column": c.column, "fieldId": c.field_id, "renamedFrom": c.was}
        for c in result.columns
    ]
    shown["classified"] = [r.as_json() for r in classified]
    shown["policyWarnings"] = [
        {"kind": d.kind, "rule": d.rule, "table": d.table, "column": d.column, "message": d.message}
        for d in active_drift(steward.store)
    ]
    return Json(shown)


@router.post("/catalog/classify")
def post_classify(request: Request, dataset: str | None = None, sample: int = 200) -> Response:
    """Tag PII columns of one dataset (owners, admins) or of every dataset (admins)."""
    steward = steward_of(request)
    if dataset is None:
        _admin(request, "classification of every dataset")
    results = pii.classify(
        steward.store,
        steward.source,
        dataset,
        principal=_caller(request),
        sample_size=sample,
        record=record_change,
    )
    return Json({"results": [r.as_json() for r in results]})


@router.get("/datasets/{ref:path}")
def get_dataset(request: Request, ref: str) -> Response:
    """What the catalog knows of one dataset that the caller may see: a name or a node id.

    404 when the policy does not let the caller describe it; without the columns it
    denies them; quality values only where they may read the check's columns clear.
    """
    store = steward_of(request).store
    sight = sight_for(store, _caller(request))
    with store.read() as conn:
        page = dataset_page(conn, ref, sight)
        # A page shown to a non-admin is a catalog dataset's: only those can be described.
        access = None if sight is None else sight.access(conn, page["name"])
        dataset_id = dataset_id_of(conn, ref)
        # Each check's latest result (Steward's and producers'), metrics and facets.
        page.update(dataset_quality_view(conn, page["id"], dataset_id, access=access))
        found = deprecations(conn, [dataset_id])[dataset_id]
        shown = shown_with(found, [c["name"] for c in page["columns"]])
        page["deprecations"] = [d.to_json() for d in shown]
        return Json(page)


@router.patch("/datasets/{ref:path}")
def patch_dataset(request: Request, ref: str, edit: Annotated[DatasetEdit, Body()]) -> Response:
    """Edit a dataset's description, owners, tags, terms and domain (owners and admins)."""
    store = steward_of(request).store
    edit_dataset(store, ref, edit, _caller(request), record=record_change)
    with store.read() as conn:
        return Json(dataset_page(conn, ref))
