"""Per-day counts of the audit log's queries, kept up to date from a cursor, so the
dashboard reads thousands of summary rows instead of scanning a million records.

- `audit_rollup_daily`: (day, user, decision) -> queries;
- `audit_rollup_reads`: (day, user, dataset, column, decision) -> queries that read it;
  `column` '' is the dataset as a whole (a query counted once however many of its
  columns it read).

`refresh` adds the records written since the last refresh (`audit_rollup_state`), in
one write transaction per call, with INSERT ... SELECT ... GROUP BY ... ON CONFLICT DO
UPDATE: the counting happens in the database. Writers to the log never touch these
tables. The counts are of records as written: editing a record in the database
afterwards does not change them (verify reports that edit), and records moved to the
archive by retention stay counted.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from steward.store import Store
from steward.store.schema import (
    audit_access,
    audit_records,
    audit_rollup_daily,
    audit_rollup_reads,
    audit_rollup_state,
)

STEP = 100_000  # records rolled up per statement


def day_of(conn: Connection, column: Any) -> Any:
    """`column` (a UTC timestamp) as 'YYYY-MM-DD' text on either backend."""
    if conn.dialect.name == "postgresql":
        return sa.func.to_char(column, "YYYY-MM-DD")
    return sa.func.date(column)


def _upsert(conn: Connection, table: sa.Table, select: sa.Select[Any]) -> None:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    keys = [c.name for c in table.primary_key.columns]
    insert = dialect.insert(table).from_select([*keys, "queries"], select)
    conn.execute(
        insert.on_conflict_do_update(
            index_elements=keys, set_={"queries": table.c.queries + insert.excluded.queries}
        )
    )


def refresh(store: Store) -> int:
    """Roll up every record written since the last refresh; the sequence number reached."""
    with store.write() as conn:
        state = conn.execute(
            sa.select(audit_rollup_state.c.last_seq)
            .where(audit_rollup_state.c.id == 1)
            .with_for_update()
        ).scalar()
        if state is None:
            conn.execute(audit_rollup_state.insert().values(id=1, last_seq=0))
            state = 0
        last = int(state)
        top = conn.execute(sa.select(sa.func.max(audit_records.c.seq))).scalar()
        top = int(top or 0)
        if top <= last:
            return last
        t, a = audit_records.c, audit_access.c
        day = day_of(conn, t.recorded_at)
        user = sa.func.coalesce(t.actor_user, "")
        for start in range(last, top, STEP):
            end = min(start + STEP, top)
            window = (t.seq > start, t.seq <= end, t.action == "query")
            _upsert(
                conn,
                audit_rollup_daily,
                sa.select(day, user, t.decision, sa.func.count())
                .where(*window)
                .group_by(day, user, t.decision),
            )
            joined = audit_access.join(audit_records, t.seq == a.seq)
            _upsert(
                conn,
                audit_rollup_reads,
                sa.select(day, user, a.dataset, sa.literal(""), t.decision)
                .add_columns(sa.func.count(sa.distinct(t.seq)))
                .select_from(joined)
                .where(*window, a.seq > start, a.seq <= end)
                .group_by(day, user, a.dataset, t.decision),
            )
            _upsert(
                conn,
                audit_rollup_reads,
                sa.select(day, user, a.dataset, a.column, t.decision, sa.func.count())
                .select_from(joined)
                .where(*window, a.seq > start, a.seq <= end, a.column.is_not(None), a.column != "")
                .group_by(day, user, a.dataset, a.column, t.decision),
            )
        conn.execute(
            audit_rollup_state.update().where(audit_rollup_state.c.id == 1).values(last_seq=top)
        )
        return top
