"""Trino's HTTP event listener: a QueryCompletedEvent becomes an audit record, and the
tables a query read and wrote become lineage.

The fields read (Trino SPI `io.trino.spi.eventlistener`, serialized by Jackson):
`metadata.queryId`, `metadata.query`, `metadata.queryState`, `metadata.tables[]`
(`TableInfo`: `catalog`, `schema`, `table`, `filters[]`, `columns[]` of `ColumnInfo`
`{column, masks[]}`), `context.user`, `context.groups`, `context.serverAddress`,
`ioMetadata.inputs[]` (`QueryInputMetadata`: `catalogName`, `schema`, `table`,
`columns[]`), `ioMetadata.output` (`QueryOutputMetadata`: `catalogName`, `schema`,
`table`, `columns[]` of `{columnName, sourceColumns[]}`), `failureInfo.errorCode.name`,
`createTime`, `endTime`. Everything else is ignored.

Datasets are named `catalog.schema.table` in the namespace `trino://<serverAddress>`,
as the OpenLineage naming spec names Trino tables. A query that writes a table gives one
OpenLineage COMPLETE event (job: the query id, as Trino's OpenLineage plugin names it)
with its inputs, output and column lineage; a query that only reads has no lineage edge
to draw, and is in the audit log alone.

Column lineage is Trino's own (`sourceColumns`) wherever it gives any. For a written
column it gives none of (or when the output lists no columns), `metadata.query` is
traced by the SQL lineage engine (`steward.lineage.sql.analyze`, Trino dialect, the
session's `context.catalog` and `context.schema` as defaults, the columns each input
was read for as the schema), with transformation types. Query text the engine cannot
parse gives no column lineage; the audit record and the table lineage stay.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from steward.audit.log import record
from steward.audit.models import Resource
from steward.errors import InvalidInput
from steward.identity.models import Principal
from steward.store import Store

PRODUCER = "https://github.com/trinodb/trino/tree/master/plugin/trino-http-event-listener"
RUN_EVENT_SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
COLUMN_LINEAGE_SCHEMA = "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json"
DENIED_ERRORS = {"PERMISSION_DENIED"}

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrinoQuery:
    """What Steward keeps of one QueryCompletedEvent."""

    query_id: str
    user: str
    groups: tuple[str, ...]
    namespace: str
    decision: str
    details: dict[str, Any]
    resource: Resource
    lineage: dict[str, Any] | None


def _field(data: Any, path: str, kind: type | tuple[type, ...], *, required: bool = True) -> Any:
    value = data
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if value is None and not required:
        return None
    if not isinstance(value, kind):
        expected = (
            kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        )
        raise InvalidInput(f"{path}: expected {expected}, got {type(value).__name__}")
    return value


def _table(item: Mapping[str, Any], catalog_key: str, where: str) -> str:
    parts = [item.get(catalog_key), item.get("schema"), item.get("table")]
    if not all(isinstance(p, str) and p for p in parts):
        raise InvalidInput(f"{where}: needs {catalog_key}, schema and table")
    return ".".join(str(p) for p in parts)


def read_query(payload: Any, *, namespace: str | None = None) -> TrinoQuery:
    """Validate a QueryCompletedEvent and turn it into what the audit log and lineage keep."""
    if not isinstance(payload, Mapping):
        raise InvalidInput("body: expected a QueryCompletedEvent JSON object")
    query_id = _field(payload, "metadata.queryId", str)
    user = _field(payload, "context.user", str)
    groups = _field(payload, "context.groups", list, required=False) or []
    server = _field(payload, "context.serverAddress", str, required=False) or "trino"
    namespace = namespace or f"trino://{server}"
    masks: dict[str, dict[str, list[str]]] = {}
    filters: dict[str, list[str]] = {}
    for index, table in enumerate(_field(payload, "metadata.tables", list, required=False) or []):
        if not isinstance(table, Mapping):
            raise InvalidInput(f"metadata.tables[{index}]: expected an object")
        name = _table(table, "catalog", f"metadata.tables[{index}]")
        if table.get("filters"):
            filters[name] = [str(f) for f in table["filters"]]
        for column in table.get("columns") or []:
            if isinstance(column, Mapping) and column.get("masks"):
                masks.setdefault(name, {})[str(column.get("column"))] = [
                    str(m) for m in column["masks"]
                ]
    inputs = []
    for index, item in enumerate(_field(payload, "ioMetadata.inputs", list, required=False) or []):
        if not isinstance(item, Mapping):
            raise InvalidInput(f"ioMetadata.inputs[{index}]: expected an object")
        name = _table(item, "catalogName", f"ioMetadata.inputs[{index}]")
        entry: dict[str, Any] = {
            "dataset": name,
            "columns": [str(c) for c in item.get("columns") or []],
        }
        if name in masks:
            entry["masks"] = masks[name]
        if name in filters:
            entry["filters"] = filters[name]
        inputs.append(entry)
    output = _field(payload, "ioMetadata.output", Mapping, required=False)
    written = _table(output, "catalogName", "ioMetadata.output") if output else None
    error = _field(payload, "failureInfo.errorCode.name", str, required=False)
    if error in DENIED_ERRORS:
        decision = "denied"
    elif error is not None:
        decision = "failed"
    elif masks:
        decision = "masked"
    elif filters:
        decision = "filtered"
    else:
        decision = "allowed"
    details: dict[str, Any] = {
        "engine": "trino",
        "query_id": query_id,
        "query": _field(payload, "metadata.query", str, required=False),
        "state": _field(payload, "metadata.queryState", str, required=False),
        "inputs": inputs,
        "output": written,
        "error": error,
        "message": _field(payload, "failureInfo.failureMessage", str, required=False),
        "namespace": namespace,
    }
    only = inputs[0] if len(inputs) == 1 else None
    resource = Resource(only["dataset"], tuple(only["columns"])) if only else Resource(written, ())
    lineage = None
    if output is not None and written is not None and error is None:
        lineage = _lineage_event(payload, query_id, namespace, inputs, output, written)
    return TrinoQuery(
        query_id=query_id,
        user=user,
        groups=tuple(str(g) for g in groups),
        namespace=namespace,
        decision=decision,
        details=details,
        resource=resource,
        lineage=lineage,
    )


def _lineage_event(
    payload: Mapping[str, Any],
    query_id: str,
    namespace: str,
    inputs: list[dict[str, Any]],
    output: Mapping[str, Any],
    written: str,
) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    columns = [
        column
        for column in output.get("columns") or []
        if isinstance(column, Mapping) and column.get("columnName")
    ]
    for column in columns:
        sources = [
            {
                "namespace": namespace,
                "name": f"{s.get('catalog')}.{s.get('schema')}.{s.get('table')}",
                "field": str(s.get("columnName")),
            }
            for s in column.get("sourceColumns") or []
            if isinstance(s, Mapping) and s.get("columnName")
        ]
        if sources:
            fields[str(column["columnName"])] = {"inputFields": sources}
    if not columns or len(fields) < len(columns):
        # Trino left some column without sources (a literal has none; older servers and
        # some connectors give none at all): trace the query for the others. Trino's
        # own lineage wins where it has any.
        derived = derived_column_lineage(
            payload, inputs, written, [c["columnName"] for c in columns]
        )
        for name, sources in derived.items():
            if name not in fields:
                fields[name] = {
                    "inputFields": [{"namespace": namespace, **source} for source in sources]
                }
    out: dict[str, Any] = {"namespace": namespace, "name": written, "facets": {}}
    if fields:
        out["facets"]["columnLineage"] = {
            "_producer": PRODUCER,
            "_schemaURL": COLUMN_LINEAGE_SCHEMA,
            "fields": fields,
        }
    end = payload.get("endTime") or payload.get("createTime")
    return {
        "eventType": "COMPLETE",
        "eventTime": end if isinstance(end, str) else None,
        "producer": PRODUCER,
        "schemaURL": RUN_EVENT_SCHEMA,
        "run": {"runId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"trino:{query_id}")), "facets": {}},
        "job": {"namespace": namespace, "name": query_id, "facets": {}},
        "inputs": [
            {"namespace": namespace, "name": i["dataset"], "facets": {}}
            for i in inputs
            if i["dataset"] != written
        ],
        "outputs": [out],
    }


def derived_column_lineage(
    payload: Mapping[str, Any],
    inputs: Sequence[Mapping[str, Any]],
    written: str,
    columns: Sequence[str],
) -> dict[str, list[dict[str, Any]]]:
    """Each written column -> its input fields, traced from `metadata.query` by the SQL
    lineage engine (Trino dialect, the session's catalog and schema as defaults, the
    columns the event says each input had read as the schema); {} when it cannot be."""
    from steward.lineage.sql import analyze

    query = _field(payload, "metadata.query", str, required=False)
    if not query:
        return {}
    tables: dict[str, dict[str, str]] = {
        str(item["dataset"]): {str(c): "unknown" for c in item["columns"]} for item in inputs
    }
    if columns:  # the written table's columns, in order: an INSERT fills them by position
        tables[written] = {str(c): "unknown" for c in columns}
    schema: dict[str, Any] = {}
    for name, listed in tables.items():
        catalog, db, table = name.split(".", 2)
        schema.setdefault(catalog, {}).setdefault(db, {})[table] = listed
    try:
        script = analyze(
            query,
            dialect="trino",
            schema=schema,
            default_catalog=_field(payload, "context.catalog", str, required=False),
            default_schema=_field(payload, "context.schema", str, required=False),
        )
    except InvalidInput as exc:
        log.info("trino: no column lineage from the query text: %s", exc)
        return {}
    except Exception as exc:  # an engine bug must not lose the audit record
        log.warning("trino: the SQL lineage engine failed on the query text: %s", exc)
        return {}
    known = {name.lower(): name for name in tables}
    names = {name.lower(): name for name in columns}
    found: dict[str, list[dict[str, Any]]] = {}
    for statement in script.statements:
        if written.lower() not in {o.lower() for o in statement.outputs}:
            continue
        for traced in statement.columns:
            sources: list[dict[str, Any]] = [
                {
                    "name": known.get(up.table.lower(), up.table),
                    "field": _column_of(tables, known.get(up.table.lower()), up.column),
                    "transformations": [
                        {"type": t.type, "subtype": t.subtype, "masking": t.masking}
                        for t in up.transformations
                    ],
                }
                for up in traced.upstreams
            ]
            if sources:
                found[names.get(traced.column.lower(), traced.column)] = sources
    return found


def _column_of(tables: Mapping[str, Mapping[str, str]], table: str | None, column: str) -> str:
    """`column` as the event spells it (the engine reports Trino's names in lower case)."""
    for name in tables.get(table or "", {}):
        if name.lower() == column.lower():
            return name
    return column


def may_report(caller: Principal, *, users: Iterable[str], groups: Iterable[str]) -> bool:
    """Whether `caller` may report Trino queries: an admin, one of `users`, or a member of
    one of `groups` (the settings `trino_reporter_users` and `trino_reporter_groups`).

    Reporting writes audit records in other users' names and lineage, so by default
    (both lists empty) only admins may.
    """
    return caller.is_admin or caller.user in set(users) or bool(caller.groups & set(groups))


def record_trino_query(
    store: Store, payload: Any, *, reporter: Principal | None, namespace: str | None = None
) -> tuple[int, TrinoQuery]:
    """Record one QueryCompletedEvent (sent by `reporter`, Trino's token) and ingest its
    lineage; the audit record's sequence number and what was read from the event."""
    from steward.lineage.ingest import ingest, parse_events

    query = read_query(payload, namespace=namespace)
    if query.lineage is not None:
        # Validated before anything is written, so a bad event writes nothing.
        parsed = parse_events([query.lineage], batch=False)
    details = dict(query.details)
    if reporter is not None:
        details["reported_by"] = {"user": reporter.user, "token_id": reporter.token_id}
    with store.write() as conn:
        seq = record(
            conn,
            actor=Principal(query.user, frozenset(query.groups)),
            action="query",
            resource=query.resource,
            decision=query.decision,
            details=details,
        )
    if query.lineage is not None:
        ingest(store, parsed, actor=reporter, source="trino")
    return seq, query
