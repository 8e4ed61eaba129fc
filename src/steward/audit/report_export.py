"""The audit report as Parquet files Superset (or DuckDB, pandas, Spark) reads: the same
two tables as the PostgreSQL views of migration 0015, from any store.

- `daily`: day, user, queries, allowed, masked, filtered, denied (queries only);
- `access`: one row per record and column it read (a record reading nothing is one row
  with no column): seq, time, day, user, action, dataset, column, decision, policy, and
  `pii`, whether the column is tagged `pii.*` in the catalog (the views lack this one:
  tags live in the catalog, which changes after the fact).

Rows are read and written a page at a time, so a million records need little memory.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa

from steward.audit.dashboard import REFUSED
from steward.audit.log import AuditFilter
from steward.errors import InvalidInput
from steward.store import Store
from steward.store.schema import audit_access, audit_records

Table = Literal["daily", "access"]
TABLES: tuple[Table, ...] = ("daily", "access")
PAGE = 50_000
COUNTS = ("queries", "allowed", "masked", "filtered", "denied")


@dataclass(frozen=True)
class Exported:
    """Which table went where, and how many rows."""

    table: Table
    path: Path
    rows: int


def _count(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[Any]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def _daily_schema() -> Any:
    import pyarrow as pa

    return pa.schema(
        [
            ("day", pa.date32()),
            ("user", pa.string()),
            *((name, pa.int64()) for name in COUNTS),
        ]
    )


def _access_schema() -> Any:
    import pyarrow as pa

    return pa.schema(
        [
            ("seq", pa.int64()),
            ("time", pa.timestamp("us", tz="UTC")),
            ("day", pa.date32()),
            ("user", pa.string()),
            ("action", pa.string()),
            ("dataset", pa.string()),
            ("column", pa.string()),
            ("decision", pa.string()),
            ("policy", pa.string()),
            ("pii", pa.bool_()),
        ]
    )


def export_report(
    store: Store,
    table: str,
    out: Path,
    *,
    pii_columns: Collection[tuple[str, str]] = (),
    where: AuditFilter | None = None,
) -> Exported:
    """Write `table` (`daily` or `access`) for the records `where` matches to `out`."""
    import pyarrow.parquet as pq

    if table not in TABLES:
        raise InvalidInput(f"table: {table!r} is not one of {', '.join(TABLES)}")
    chosen = where or AuditFilter()
    schema = _daily_schema() if table == "daily" else _access_schema()
    rows = 0
    with store.read() as conn, pq.ParquetWriter(str(out), schema) as writer:
        if table == "daily":
            rows = _write_daily(conn, chosen, writer, schema)
        else:
            rows = _write_access(conn, chosen, writer, schema, set(pii_columns))
    return Exported("daily" if table == "daily" else "access", out, rows)


def _write_daily(conn: sa.Connection, where: AuditFilter, writer: Any, schema: Any) -> int:
    import pyarrow as pa

    t = audit_records.c
    day = sa.func.date(t.recorded_at)
    query = (
        sa.select(
            day,
            t.actor_user,
            sa.func.count(),
            _count(t.decision == "allowed"),
            _count(t.decision == "masked"),
            _count(t.decision == "filtered"),
            _count(t.decision.in_(REFUSED)),
        )
        .where(t.action == "query", *where.where())
        .group_by(day, t.actor_user)
        .order_by(day, t.actor_user)
    )
    found = [(_date(r[0]), r[1], *(int(v) for v in r[2:])) for r in conn.execute(query)]
    columns: list[Any] = list(zip(*found, strict=True)) if found else [[]] * len(schema.names)
    writer.write_table(pa.Table.from_arrays([pa.array(c) for c in columns], schema=schema))
    return len(found)


def _write_access(
    conn: sa.Connection,
    where: AuditFilter,
    writer: Any,
    schema: Any,
    pii: set[tuple[str, str]],
) -> int:
    import pyarrow as pa

    t, a = audit_records.c, audit_access.c
    last = int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(t.seq), 0))).scalar_one())
    rows = 0
    # Pages by ranges of sequence numbers: the primary key answers each one directly.
    for start in range(0, last, PAGE):
        query = (
            sa.select(
                t.seq,
                t.recorded_at,
                t.actor_user,
                t.action,
                sa.func.coalesce(a.dataset, t.dataset),
                a.column,
                t.decision,
                t.policy,
            )
            .select_from(audit_records.outerjoin(audit_access, a.seq == t.seq))
            .where(t.seq > start, t.seq <= start + PAGE, *where.where())
            .order_by(t.seq, a.id)
        )
        page = conn.execute(query).all()
        if not page:
            continue
        columns: list[list[Any]] = [[] for _ in schema.names]
        for r in page:
            values = (
                r[0],
                r[1].replace(tzinfo=UTC),
                r[1].date(),
                *r[2:8],
                (r[4], r[5]) in pii,
            )
            for column, value in zip(columns, values, strict=True):
                column.append(value)
        writer.write_table(pa.Table.from_arrays([pa.array(c) for c in columns], schema=schema))
        rows += len(page)
    return rows


def _date(value: Any) -> date:
    if isinstance(value, date):
        return value
    return datetime.fromisoformat(str(value)).date()
