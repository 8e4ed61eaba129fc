"""The governed query path: govern, run, record.

`run_query` hands the caller's SQL to `policy.rewrite.govern` (parse, refuse, qualify,
decide, secure, verify), runs what it returns on the `Steward`'s engine, which holds
only the tables the query reads and runs it under limits, audits every outcome (allowed,
masked, filtered, denied or failed, with the full SQL and the columns actually read)
and records the reads as lineage.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection

from steward.audit.log import record
from steward.audit.models import Resource
from steward.engines.base import QueryFailed
from steward.errors import Forbidden, PolicyDenied, StewardError
from steward.identity.models import Principal
from steward.policy.access import CallerAccess, Columns, TableAccess
from steward.policy.cache import TableFacts, live_names
from steward.policy.reads import ColumnsRead, columns_read
from steward.policy.rewrite import Catalog, Governed, govern
from steward.policy.statement import AllowList

if TYPE_CHECKING:
    from steward.app import Steward
    from steward.engines.base import QueryRows, TableData

FactsOf = dict[str, "TableFacts"]
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
    # The raw log position of the query's lineage event: a graph read echoing it (the
    # `Steward-Lineage-Position` header) sees the event once the normaliser has built it.
    lineage_position: int | None = None

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
    access_for: CallerAccess | AccessFor,
    limit: int = 10_000,
    client: str | None = None,
) -> QueryResult:
    """Run `sql` as `principal`, with every table replaced by what the policy lets them see.

    The pipeline: govern (parse, refuse, qualify, decide, secure, verify), run, record.
    Every outcome is an audit record with the full SQL: refused (`denied`), failed
    (`failed`: unparseable, unbindable, over a limit, or an error while running) or
    answered (`allowed`, `masked`, `filtered`). `client` names the application asking,
    which becomes the lineage job's name (default: the user).
    """
    access = access_for if isinstance(access_for, CallerAccess) else CallerAccess(access_for)
    catalog, facts = _query_catalog(steward)
    try:
        governed = _govern(steward, sql, catalog, access)
        rows = _run(steward, sql, governed, catalog, access, limit=limit)
    except PolicyDenied as exc:
        _audit_refused(steward, principal, sql, "denied", str(exc), exc.table, exc.rule)
        raise
    except Forbidden as exc:
        _audit_refused(steward, principal, sql, "denied", str(exc), None, None)
        raise
    except StewardError as exc:
        _audit_refused(steward, principal, sql, "failed", str(exc), None, None)
        raise
    applied = _applied(governed.access)
    read = columns_read(governed.reading)
    event = _lineage_event(facts(governed.tables), principal, read, client=client)
    normalise = steward.settings.lineage_normaliser == "inline"
    lineage = _StoreLineage(event, principal, normalise=normalise) if event else None
    position = _audit_answered(steward, principal, sql, governed, applied, read.columns, lineage)
    return QueryResult(
        columns=rows.columns,
        rows=[list(row) for row in rows.rows],
        applied=applied,
        truncated=rows.truncated,
        lineage_position=position,
    )


def _govern(
    steward: Steward,
    sql: str,
    catalog: Catalog,
    access: CallerAccess,
    *,
    materialize: bool = False,
) -> Governed:
    return govern(
        sql,
        catalog=catalog,
        access=access,
        salt=_SALT,
        allowed=AllowList.of(steward.engine),
        max_depth=steward.settings.query_max_sql_depth,
        materialize=materialize,
    )


def _run(
    steward: Steward,
    sql: str,
    governed: Governed,
    catalog: Catalog,
    access: CallerAccess,
    *,
    limit: int,
) -> QueryRows:
    """The rows of a governed query; run again with the views materialized if it failed
    on a table with a row filter."""
    data = {governed.internal[name]: steward.tables.current(name) for name in governed.tables}
    for engine_table, (name, kind, value) in governed.snapshots.items():
        data[engine_table] = catalog.planned.get(engine_table) or steward.tables.plan(
            name, at=(kind, value)
        )
    names_back = {v: k for k, v in governed.internal.items()}
    engine = steward.engine
    try:
        return engine.run(
            data, governed.sql, limit=limit, params=governed.parameters, names=names_back
        )
    except QueryFailed:
        if not any(decided.row_filters for decided in governed.access.values()):
            raise
    # The engine may evaluate the caller's predicates before a row filter, so the error
    # may have come from a row the caller must not see, and its mere presence would tell
    # them something about it. Run again with the secure views materialized first: an
    # error now can only come from rows they see.
    strict = _govern(steward, sql, catalog, access, materialize=True)
    return engine.run(data, strict.sql, limit=limit, params=strict.parameters, names=names_back)


def query_catalog(steward: Steward) -> Catalog:
    """The live catalog as `govern` reads it: names, columns with tags, physical columns."""
    return _query_catalog(steward)[0]


def _query_catalog(steward: Steward) -> tuple[Catalog, Callable[[Sequence[str]], FactsOf]]:
    """The catalog for `govern`, and the facts of named tables (for the lineage event).

    Names are read per query; a table's columns, tags and types come from
    `steward.query_cache`, which reads them again only when their rows changed.
    """
    cache = steward.query_cache
    with steward.store.read() as conn:
        ids = live_names(conn)
    seen: FactsOf = {}

    def facts(names: Sequence[str]) -> FactsOf:
        # Read (or probed) once per query: the rewrite and the lineage event share them.
        missing = [name for name in names if name not in seen]
        if missing:
            with steward.store.read() as conn:
                found = cache.table_facts(conn, [ids[name] for name in missing])
            seen.update({name: found[ids[name]] for name in missing})
        return {name: seen[name] for name in names}

    def columns(names: Sequence[str]) -> dict[str, Columns]:
        return {name: list(f.columns) for name, f in facts(names).items()}

    def types(names: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
        return {name: list(f.types) for name, f in facts(names).items()}

    def physical(name: str, engine_table: str, at: tuple[str, str] | None) -> Sequence[str]:
        if engine_table not in planned:
            planned[engine_table] = (
                steward.tables.current(name) if at is None else steward.tables.plan(name, at=at)
            )
        return steward.engine.physical_columns({engine_table: planned[engine_table]})[engine_table]

    planned: dict[str, TableData] = {}
    catalog = Catalog(
        names=list(ids),
        columns=columns,
        physical=physical,
        types=types,
        engine_names=steward.engine.reserved_names(),
        planned=planned,
    )
    return catalog, facts


# Internal names are stable per table within a process (so the engine can keep a set-up
# database for them) and unguessable from outside it.
_SALT = secrets.token_hex(16)


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


def _audit_refused(
    steward: Steward,
    principal: Principal,
    sql: str,
    decision: str,
    reason: str,
    dataset: str | None,
    rule: str | None,
) -> None:
    """A query that did not answer: `denied` by the policy or `failed`, with the full SQL."""
    steward.audit.append(
        actor=principal,
        action="query",
        resource=Resource(dataset),
        decision=decision,
        policy=rule,
        details={"sql": sql, "reason": reason},
    )


def _audit_answered(
    steward: Steward,
    principal: Principal,
    sql: str,
    governed: Governed,
    applied: list[dict[str, str]],
    read: Mapping[str, Sequence[str]],
    lineage: _StoreLineage | None,
) -> int | None:
    """The answered query's record (`allowed`, `masked` or `filtered`) and its lineage,
    written together through the group commit: the lineage event is stored in the same
    transaction as the record, before it (the head row is locked last, as in ingest).
    Returns the raw log position of the lineage event, if there was one."""
    masked = any("mask" in item for item in applied)
    filtered = any("filter" in item for item in applied)
    decision = "masked" if masked else "filtered" if filtered else "allowed"
    access = governed.access
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
    steward.audit.append(
        actor=principal,
        action="query",
        resource=Resource(first, tuple(read[first]) if first else ()),
        decision=decision,
        policy=", ".join(rules) or None,
        details={"sql": sql, "inputs": inputs},
        before=lineage,
    )
    return lineage.position if lineage is not None else None


class _StoreLineage:
    """Writes that store the query's lineage event inside the audit group's transaction.

    The event goes through the in-transaction halves of the public `ingest`, so it is kept
    exactly as an event posted to `/api/v1/lineage` would be: appended to the raw log and,
    with `normalise` (no normaliser process behind: library and CLI callers), applied to
    the graph there and then, as `ingest(normalise=True)` does. Under `steward serve` the
    normaliser process builds it behind, as it does for posted events, and a graph read
    that echoes the answer's `position` waits for it. Its `lineage.ingest` record (source
    `query`) is written with it, as `ingest` writes one: it is what makes the raw event
    its sender's (`lineage.scope.posted_jobs`). It chains just before the query's own
    record, in the same transaction.
    """

    def __init__(self, event: dict[str, Any], principal: Principal, *, normalise: bool) -> None:
        from steward.lineage.ingest import parse_events
        from steward.lineage.models import Poster

        self._parsed = parse_events([event], batch=False)
        self._job = f"{event['job']['namespace']}:{event['job']['name']}"
        self._principal = principal
        self._poster = Poster.of(principal)
        self._normalise = normalise
        # The raw log position a graph read waits for to see the event, once written.
        self.position: int | None = None

    def __call__(self, conn: Connection) -> Callable[[], None] | None:
        from steward.lineage.ingest import append_rows, mark_audited, raw_rows, store_events

        learned = None
        if self._normalise:
            result, learned = store_events(conn, self._parsed, poster=self._poster)
        else:
            result = append_rows(conn, raw_rows(self._parsed), received=1, poster=self._poster)
        seq = record(
            conn,
            actor=self._principal,
            action="lineage.ingest",
            details={
                "source": "query",
                "received": result.received,
                "stored": result.stored,
                "duplicates": result.duplicates,
                "jobs": [self._job],
            },
        )
        mark_audited(conn, result, seq)
        self.position = result.position
        return learned.commit_learned if learned is not None else None


def _lineage_event(
    tables: FactsOf,
    principal: Principal,
    read: ColumnsRead,
    *,
    client: str | None,
) -> dict[str, Any] | None:
    """The query as an OpenLineage run of job `steward://query` / the user or client.

    Its inputs are the tables read; its output is the consumer (a dataset named after
    the user or client in namespace `steward://consumer`) with one field per column the
    query read (`lake.crm.customers.email`), so "who reads this column?" is a
    downstream column-lineage query. Each field says how the query used the column, as
    the SQL lineage engine found it (`policy.reads`): DIRECT when its value reaches the
    result (IDENTITY, TRANSFORMATION, AGGREGATION), INDIRECT when it only decides rows
    (FILTER, JOIN, GROUP_BY, SORT ...).
    """
    if not tables:
        return None
    inputs = [{"namespace": t.namespace, "name": t.dataset_name} for t in tables.values()]
    consumer = client or principal.user
    # One field of the consumer per column read, named `table.column`, fed by that column.
    fields = {
        f"{name}.{column}": {
            "inputFields": [
                {
                    "namespace": table.namespace,
                    "name": table.dataset_name,
                    "field": column,
                    "transformations": [
                        {"type": kind, "subtype": subtype, "description": "read by a query"}
                        for kind, subtype in read.how.get(name, {}).get(column, ())
                    ],
                }
            ]
        }
        for name, table in tables.items()
        for column in read.columns.get(name, ())
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
    return {
        "eventType": "COMPLETE",
        "eventTime": datetime.now(UTC).isoformat(),
        "producer": PRODUCER,
        "schemaURL": SCHEMA_URL,
        "run": {"runId": str(uuid.uuid4())},
        "job": {"namespace": JOB_NAMESPACE, "name": consumer},
        "inputs": inputs,
        "outputs": [output],
    }
