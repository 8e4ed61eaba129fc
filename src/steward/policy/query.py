"""The governed query path: a caller's SQL, rewritten for them, run on the embedded engine.

`run_query` parses and checks the SQL (`policy.rewrite`), asks `access_for` what the
caller may see of each table it names, replaces every reference with that secure view,
runs the result on a fresh DuckDB that holds only those tables, audits the decision
(allowed, masked, filtered or denied, with the rules) and records the reads as lineage.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlglot import exp

from steward.audit.log import record
from steward.audit.models import Resource
from steward.errors import Forbidden, InvalidInput, SourceError, StewardError
from steward.identity.models import Principal
from steward.policy.access import TableAccess
from steward.policy.metadata import expand_information_schema, information_schema_references
from steward.policy.rewrite import (
    DIALECT,
    parse_query,
    referenced_tables,
    refuse_unsafe,
    secure_tables,
    time_travel,
)
from steward.store.schema import catalog_entries

if TYPE_CHECKING:
    from steward.app import Steward
    from steward.engines.duckdb import TableData

AccessFor = Callable[[str, Sequence[tuple[str, frozenset[str]]]], TableAccess]
PRODUCER = "https://github.com/steward-data/steward"
SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
JOB_NAMESPACE = "steward://query"
CONSUMER_NAMESPACE = "steward://consumer"
COLUMN_LINEAGE_URL = "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json"


@dataclass(frozen=True)
class QueryResult:
    """Rows as the caller may see them, and the masks and filters that shaped them."""

    columns: list[str]
    rows: list[list[Any]]
    applied: list[dict[str, str]] = field(default_factory=list)
    truncated: bool = False

    def to_json(self) -> dict[str, Any]:
        """The API's shape: `{"columns": [...], "rows": [[...]], "applied": [...]}`."""
        return {
            "columns": self.columns,
            "rows": [[_json_value(v) for v in row] for row in self.rows],
            "applied": self.applied,
            "truncated": self.truncated,
        }


def _json_value(value: Any) -> Any:
    """A value orjson can write: decimals as text (exact), bytes as hex, durations as text."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def run_query(
    steward: Steward,
    sql: str,
    principal: Principal,
    *,
    access_for: AccessFor,
    limit: int = 10_000,
    client: str | None = None,
) -> QueryResult:
    """Run `sql` as `principal`, with every table replaced by what the policy lets them see.

    Refusals raise `Forbidden` (audited as denied) or `InvalidInput` (unparseable SQL).
    `client` names the application asking, which becomes the lineage job's name
    (default: the user).
    """
    from steward.engines import duckdb as engine

    try:
        query = refuse_unsafe(parse_query(sql))
        catalog, describe = _catalog(steward)
        if information_schema_references(query):
            query = _expand_metadata(steward, query, catalog, describe, access_for)
        references = referenced_tables(query, catalog=catalog)
    except Forbidden as exc:
        _audit_denied(steward, principal, sql, None, str(exc), None)
        raise
    names = tuple(dict.fromkeys(references.values()))
    described = describe(names)
    access: dict[str, TableAccess] = {}
    for name in names:
        decided = access_for(name, described[name])
        access[name] = decided
        if not decided.allowed:
            reason = decided.reason or f"{name}: not granted to you"
            _audit_denied(steward, principal, sql, name, reason, decided.rule)
            raise Forbidden(reason)
    internal = {name: _internal_name(name) for name in names}
    read = _columns_read(query, access)
    try:
        travels = time_travel(query, references=references, access=access)
        snapshots: dict[int, str] = {}
        snapshot_tables: dict[str, TableData] = {}
        for node, (name, kind, value) in travels.items():
            snapshot_id, snapshot_data = _snapshot_data(steward, name, kind, value)
            snapshots[node] = _internal_name(f"{name}@{snapshot_id}")
            snapshot_tables[snapshots[node]] = snapshot_data
        secured = secure_tables(
            query,
            references=references,
            access=access,
            internal=internal,
            copy=False,
            snapshots=snapshots,
        )
    except Forbidden as exc:
        _audit_denied(steward, principal, sql, names[0] if names else None, str(exc), None)
        raise
    data = {internal[name]: _table_data(steward, name) for name in names}
    for internal_name, snapshot_data in snapshot_tables.items():
        data[internal_name] = snapshot_data
    names_back = {v: k for k, v in internal.items()}
    try:
        rows = engine.run(
            data, secured.sql(dialect=DIALECT, comments=False), limit=limit, names=names_back
        )
    except engine.QueryFailed:
        if not any(decided.row_filters for decided in access.values()):
            raise
        # The engine may evaluate the caller's predicates before a row filter, so the
        # error may have come from a row the caller must not see, and its mere presence
        # would tell them something about it. Run again with the secure views
        # materialized first: an error now can only come from rows they see.
        again = refuse_unsafe(parse_query(sql))
        strict = secure_tables(
            again,
            references=referenced_tables(again, catalog=catalog),
            access=access,
            internal=internal,
            copy=False,
            materialize=True,
        )
        rows = engine.run(
            data, strict.sql(dialect=DIALECT, comments=False), limit=limit, names=names_back
        )
    applied = _applied(access)
    _audit_allowed(steward, principal, sql, access, read, applied)
    _record_lineage(steward, principal, names, read, client=client)
    return QueryResult(
        columns=rows.columns,
        rows=[list(row) for row in rows.rows],
        applied=applied,
        truncated=rows.truncated,
    )


def _expand_metadata(
    steward: Steward,
    query: exp.Query,
    catalog: Mapping[str, Sequence[str]],
    describe: Callable[[Sequence[str]], dict[str, list[tuple[str, frozenset[str]]]]],
    access_for: AccessFor,
) -> exp.Query:
    """`information_schema.tables|columns` made of what the caller may describe."""
    from steward.catalog.views import describe_datasets, resolve_dataset

    names = sorted(catalog)
    described = describe(names)
    access = {name: access_for(name, described[name]) for name in names}
    with steward.store.read() as conn:
        ids = {name: resolve_dataset(conn, name) for name in names if access[name].describe}
        views = describe_datasets(conn, list(ids.values()))
    types = {
        name: [(str(c["name"]), str(c["type"] or "")) for c in views[dataset_id]["columns"]]
        for name, dataset_id in ids.items()
    }
    return expand_information_schema(
        query, tables={n: types.get(n, []) for n in names}, access=access
    )


def _catalog(
    steward: Steward,
) -> tuple[
    dict[str, list[str]], Callable[[Sequence[str]], dict[str, list[tuple[str, frozenset[str]]]]]
]:
    """Live catalog names and a way to describe some of them (columns, tags)."""
    from steward.catalog.views import describe_datasets

    with steward.store.read() as conn:
        rows = conn.execute(
            sa.select(catalog_entries.c.name, catalog_entries.c.dataset_id).where(
                catalog_entries.c.deleted_at.is_(None)
            )
        ).all()
    ids = {str(row.name): int(row.dataset_id) for row in rows}

    def describe(names: Sequence[str]) -> dict[str, list[tuple[str, frozenset[str]]]]:
        with steward.store.read() as conn:
            views = describe_datasets(conn, [ids[name] for name in names])
        out = {}
        for name in names:
            view = views[ids[name]]
            out[name] = [
                (str(c["name"]), frozenset(str(t["tag"]) for t in c["tags"]))
                for c in view["columns"]
            ]
        return out

    catalog: dict[str, list[str]] = {name: [] for name in ids}
    return catalog, describe


# Internal names are stable per table within a process (so the engine can keep a set-up
# database for them) and unguessable from outside it.
_SALT = secrets.token_hex(16)
# Where a table's data lives, kept briefly: planning an Iceberg scan reads its metadata
# and manifests (~10 ms); a query sees a table's new snapshot at most this much later.
DATA_TTL_SECONDS = 2.0
_data_cache: dict[str, tuple[float, TableData]] = {}


def forget_table_data() -> None:
    """Plan every table afresh on its next query (after writing to the lake, in tests)."""
    _data_cache.clear()


def _internal_name(name: str) -> str:
    return "__steward_" + hashlib.sha256(f"{_SALT}:{name}".encode()).hexdigest()[:20]


def _table_data(steward: Steward, name: str) -> TableData:
    """Where the engine reads catalog table `name` from, planned at most every few seconds."""
    key = f"{steward.settings.home}|{steward.settings.sqlalchemy_url}|{name}"
    now = time.monotonic()
    cached = _data_cache.get(key)
    if cached is not None and now - cached[0] < DATA_TTL_SECONDS:
        return cached[1]
    data = plan_table_data(steward, name)
    _data_cache[key] = (now, data)
    return data


def _snapshot_data(
    steward: Steward, name: str, kind: str, value: exp.Expr
) -> tuple[int, TableData]:
    """The snapshot `AT (VERSION => id)` or `AT (TIMESTAMP => t)` names, and its files."""
    from steward.engines.duckdb import iceberg_data

    source_name, _, table = name.partition(".")
    source: Any = steward.source(source_name)
    try:
        if source.type != "iceberg":
            raise Forbidden(f"sql: time travel on {name}: only Iceberg tables have snapshots")
        namespace, _, short = table.rpartition(".")
        loaded = source.catalog.load_table((*namespace.split("."), short))
        text = value.this if isinstance(value, exp.Cast) else value
        literal = str(text.name if isinstance(text, exp.Expr) else text)
        if kind == "VERSION":
            try:
                snapshot = loaded.snapshot_by_id(int(literal))
            except ValueError:
                snapshot = None
        else:
            try:
                when = datetime.fromisoformat(literal)
            except ValueError:
                raise InvalidInput(f"sql: {literal!r} is not a timestamp") from None
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            snapshot = loaded.snapshot_as_of_timestamp(int(when.timestamp() * 1000))
        if snapshot is None:
            raise InvalidInput(f"sql: {name} has no snapshot {kind.lower()} {literal}")
        return snapshot.snapshot_id, iceberg_data(
            loaded, name=name, snapshot_id=snapshot.snapshot_id
        )
    finally:
        source.close()


def plan_table_data(steward: Steward, name: str) -> TableData:
    """Where the engine reads catalog table `name` (`source.schema.table`) from."""
    from steward.engines.duckdb import AttachedTable, iceberg_data

    source_name, _, table = name.partition(".")
    source: Any = steward.source(source_name)
    try:
        if source.type == "iceberg":
            namespace, _, short = table.rpartition(".")
            loaded = source.catalog.load_table((*namespace.split("."), short))
            return iceberg_data(loaded, name=name)
        if source.type == "sqlalchemy" and source.backend == "duckdb" and source.url.database:
            schema, _, short = table.rpartition(".")
            return AttachedTable(str(source.url.database), schema or "main", short)
    except StewardError:
        raise
    except Exception as exc:
        raise SourceError(f"{name}: cannot be read: {exc}") from exc
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()
    raise Forbidden(
        f"{name}: source {source_name} ({source.type}) is not queryable on the embedded engine"
        " yet; only Iceberg tables and DuckDB database files are"
    )


def _columns_read(query: exp.Query, access: Mapping[str, TableAccess]) -> dict[str, list[str]]:
    """Per table, the visible columns the query names (all of them under `*`)."""
    named = {c.name.lower() for c in query.find_all(exp.Column)}
    star = any(True for _ in query.find_all(exp.Star))
    return {
        table: [c.name for c in decided.visible if star or c.name.lower() in named]
        for table, decided in access.items()
    }


def _applied(access: Mapping[str, TableAccess]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for table, decided in access.items():
        for column in decided.visible:
            if column.verdict == "masked":
                out.append(
                    {
                        "table": table,
                        "column": column.name,
                        "mask": column.mask or "sql",
                        "rule": column.rule,
                    }
                )
        for condition, rule in zip(decided.row_filters, decided.row_filter_rules, strict=False):
            out.append({"table": table, "filter": condition, "rule": rule})
    return out


def _audit_denied(
    steward: Steward,
    principal: Principal,
    sql: str,
    dataset: str | None,
    reason: str,
    rule: str | None,
) -> None:
    with steward.store.write() as conn:
        record(
            conn,
            actor=principal,
            action="query",
            resource=Resource(dataset),
            decision="denied",
            policy=rule,
            details={"sql": sql[:10_000], "reason": reason},
        )


def _audit_allowed(
    steward: Steward,
    principal: Principal,
    sql: str,
    access: Mapping[str, TableAccess],
    read: Mapping[str, list[str]],
    applied: list[dict[str, str]],
) -> None:
    masked = any("mask" in item for item in applied)
    filtered = any("filter" in item for item in applied)
    decision = "masked" if masked else "filtered" if filtered else "allowed"
    rules = sorted({item["rule"] for item in applied} | {a.rule for a in access.values()})
    inputs = [
        {
            "dataset": table,
            "columns": read[table],
            "masks": [i["column"] for i in applied if i["table"] == table and "mask" in i],
            "filters": [i["filter"] for i in applied if i["table"] == table and "filter" in i],
        }
        for table in access
    ]
    first = next(iter(access), None)
    with steward.store.write() as conn:
        record(
            conn,
            actor=principal,
            action="query",
            resource=Resource(first, tuple(read[first]) if first else ()),
            decision=decision,
            policy=", ".join(rules) or None,
            details={"sql": sql[:10_000], "inputs": inputs},
        )


def _record_lineage(
    steward: Steward,
    principal: Principal,
    names: Sequence[str],
    read: Mapping[str, Sequence[str]],
    *,
    client: str | None,
) -> None:
    """The query as an OpenLineage run of job `steward://query` / the user or client.

    Its inputs are the tables read; its output is the consumer (a dataset named after
    the user or client in namespace `steward://consumer`) with one field per column the
    query read (`lake.crm.customers.email`), so "who reads this column?" is a
    downstream column-lineage query.
    """
    if not names:
        return
    from steward.catalog.views import describe_datasets, resolve_dataset
    from steward.lineage.ingest import ingest, parse_events

    with steward.store.read() as conn:
        ids = [resolve_dataset(conn, name) for name in names]
        views = describe_datasets(conn, ids)
    inputs = [{"namespace": views[i]["namespace"], "name": views[i]["datasetName"]} for i in ids]
    consumer = client or principal.user
    # One field of the consumer per column read, named `table.column`, fed by that column.
    fields = {
        f"{name}.{column}": {
            "inputFields": [
                {
                    "namespace": views[dataset_id]["namespace"],
                    "name": views[dataset_id]["datasetName"],
                    "field": column,
                    "transformations": [
                        {"type": "DIRECT", "subtype": "IDENTITY", "description": "read by a query"}
                    ],
                }
            ]
        }
        for name, dataset_id in zip(names, ids, strict=True)
        for column in read.get(name, ())
    }
    output: dict[str, Any] = {"namespace": CONSUMER_NAMESPACE, "name": consumer}
    if fields:
        output["facets"] = {
            "columnLineage": {
                "_producer": PRODUCER,
                "_schemaURL": COLUMN_LINEAGE_URL,
                "fields": fields,
            }
        }
    event = {
        "eventType": "COMPLETE",
        "eventTime": datetime.now(UTC).isoformat(),
        "producer": PRODUCER,
        "schemaURL": SCHEMA_URL,
        "run": {"runId": str(uuid.uuid4())},
        "job": {"namespace": JOB_NAMESPACE, "name": consumer},
        "inputs": inputs,
        "outputs": [output],
    }
    ingest(steward.store, parse_events([event], batch=False), actor=principal, source="query")
