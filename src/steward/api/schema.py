"""Schema routes: a dataset's versions and diffs, who a proposed schema breaks, deprecations.

A dataset is named by the `dataset` query parameter (a catalog name, a node id, or
`namespace/name`). What a non-admin sees follows the policy's `describe`: a dataset
they may not describe is not found, the columns denied to them are left out of its
versions, diffs and findings, and readers they may not describe are left out.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.engine import Connection
from starlette.responses import Response

from steward.api.auth import steward_of
from steward.api.responses import Json
from steward.audit.log import record_change
from steward.errors import Forbidden, NotFound
from steward.identity.models import Principal
from steward.lineage.scope import Sight
from steward.policy.sight import sight_for
from steward.schema.check import check
from steward.schema.deprecations import deprecate, deprecations
from steward.schema.diff import Change
from steward.schema.fields import Field as SchemaField
from steward.schema.fields import parse_proposed
from steward.schema.history import (
    capture,
    dataset_id_of,
    dataset_target,
    diff_versions,
    history,
)

router = APIRouter(prefix="/api/v1/schema")

DatasetRef = Annotated[
    str, Query(min_length=1, description="A catalog name, a node id, or namespace/name.")
]


def _caller(request: Request) -> Principal:
    caller: Principal = request.state.principal
    return caller


def _seen(conn: Connection, sight: Sight | None, ref: str) -> tuple[int, frozenset[str]]:
    """The dataset `ref` names and the columns withheld from the caller.

    Raises:
        NotFound: no such dataset, or one the caller may not describe (the same words).
    """
    dataset_id = dataset_id_of(conn, ref)
    if sight is None:
        return dataset_id, frozenset()
    withheld = sight.withheld(conn, [dataset_id])[dataset_id]
    if withheld is None or dataset_id in sight.hidden(conn).datasets:
        raise NotFound(f"dataset: no dataset {ref!r}")
    return dataset_id, frozenset(c.lower() for c in withheld)


def _shown_fields(fields: tuple[SchemaField, ...], withheld: frozenset[str]) -> list[Any]:
    return [f.to_json() for f in fields if f.name.lower() not in withheld]


def _shown_changes(changes: list[Change], withheld: frozenset[str]) -> list[Any]:
    return [
        c.to_json()
        for c in changes
        if c.path.split(".", 1)[0].lower() not in withheld and (c.old or "").lower() not in withheld
    ]


@router.get("/history")
def get_history(request: Request, dataset: DatasetRef) -> Response:
    """Every schema version of a dataset with what changed since the one before."""
    store = steward_of(request).store
    sight = sight_for(store, _caller(request))
    with store.write() as conn:
        dataset_id, withheld = _seen(conn, sight, dataset)
        capture(conn, [dataset_id])
        entries = history(conn, dataset_id)
    versions = [
        {
            **e.version.to_json(),
            "fields": _shown_fields(e.version.fields, withheld),
            "changes": None if e.changes is None else _shown_changes(e.changes, withheld),
        }
        for e in entries
    ]
    return Json({"dataset": dataset, "versions": versions})


@router.get("/diff")
def get_diff(
    request: Request,
    dataset: DatasetRef,
    v1: Annotated[int, Query(description="The older version; -1 is the latest.")],
    v2: Annotated[int, Query(description="The newer version; -1 is the latest.")],
) -> Response:
    """What changed from version v1 to version v2 of a dataset's schema."""
    store = steward_of(request).store
    sight = sight_for(store, _caller(request))
    with store.write() as conn:
        dataset_id, withheld = _seen(conn, sight, dataset)
        capture(conn, [dataset_id])
        changes = diff_versions(conn, dataset_id, v1, v2)
    return Json(
        {"dataset": dataset, "v1": v1, "v2": v2, "changes": _shown_changes(changes, withheld)}
    )


class ProposedSchema(BaseModel):
    """A proposed schema: Iceberg, Avro, JSON Schema, a list of fields, or a dbt contract."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    proposed: dict[str, Any] | list[dict[str, Any]]
    dbt_contract: bool = Field(default=False, alias="dbtContract")


@router.post("/check")
def post_check(
    request: Request, dataset: DatasetRef, body: Annotated[ProposedSchema, Body()]
) -> Response:
    """Who breaks? The changes, the rule each breaking one breaks, and the readers."""
    fields = parse_proposed(body.proposed, dbt_contract=body.dbt_contract)
    store = steward_of(request).store
    sight = sight_for(store, _caller(request))
    with store.write() as conn:
        dataset_id, withheld = _seen(conn, sight, dataset)
        result = check(conn, dataset_id, fields)
        payload = result.to_json()
        if sight is not None:
            describable = sight.describable(conn)
            payload["changes"] = [
                {**c, "readers": [r for r in c["readers"] if r["dataset"] in describable]}
                for c in payload["changes"]
                if c["path"].split(".", 1)[0].lower() not in withheld
            ]
    return Json({"dataset": dataset, **payload})


class DeprecationSpec(BaseModel):
    """`POST /api/v1/schema/deprecations`: a dataset or a column, its sunset, a replacement."""

    model_config = ConfigDict(extra="forbid")

    target: str = Field(min_length=1, description="DATASET or DATASET.COLUMN")
    sunset: date
    replacement: str | None = None


@router.post("/deprecations")
def post_deprecation(request: Request, spec: Annotated[DeprecationSpec, Body()]) -> Response:
    """Deprecate a dataset or a column (admins only); recorded in the audit log."""
    caller = _caller(request)
    if not caller.is_admin:
        raise Forbidden(f"deprecate {spec.target}: needs an admin token; {caller.user} is not")
    with steward_of(request).store.write() as conn:
        dataset_id, column, columns = dataset_target(conn, spec.target)
        made = deprecate(
            conn,
            dataset_id,
            column,
            sunset=spec.sunset,
            replacement=spec.replacement,
            author=caller.user,
            columns=columns,
        )
        record_change(
            conn,
            caller,
            "schema.deprecate",
            spec.target if column is None else spec.target.removesuffix(f".{column}"),
            (column,) if column else (),
            made.to_json(),
        )
    return Json(made.to_json(), status_code=201)


@router.get("/deprecations")
def get_deprecations(request: Request, dataset: DatasetRef) -> Response:
    """A dataset's deprecations (its own and its columns'), as the caller may see them."""
    store = steward_of(request).store
    sight = sight_for(store, _caller(request))
    with store.read() as conn:
        dataset_id, withheld = _seen(conn, sight, dataset)
        found = deprecations(conn, [dataset_id])[dataset_id]
    shown = [d.to_json() for d in found if (d.column or "").lower() not in withheld]
    return Json({"dataset": dataset, "deprecations": shown})
