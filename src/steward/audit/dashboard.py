"""The audit dashboard's figures, computed in SQL: queries per user per day, PII access,
denials, top datasets, and the filtered records for export.

Every function takes a `DashboardFilter` (user, dataset, UTC days) and returns typed
rows; the edges only render them. The counts come from the per-day
rollups (`steward.audit.rollup`, call `refresh` first), so the page reads summary rows,
not a million records; denials and the CSV read the log itself (by sequence number).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.audit.log import AuditFilter
from steward.store.schema import audit_records, audit_rollup_daily, audit_rollup_reads

QUERY = "query"
REFUSED = ("denied", "failed")
EXPORT_PAGE = 10_000
EXPORT_COLUMNS = ("seq", "time", "user", "action", "dataset", "columns", "decision", "policy")


@dataclass(frozen=True)
class Totals:
    """The queries in the filtered window, by decision, and how many users ran them."""

    queries: int
    users: int
    allowed: int
    masked: int
    filtered: int
    denied: int


@dataclass(frozen=True)
class DailyCount:
    """How many queries one user ran on one day (UTC), and how many were refused."""

    day: str
    user: str | None
    queries: int
    denied: int


@dataclass(frozen=True)
class PiiRead:
    """How often one user's queries touched one column tagged `pii.*`."""

    user: str | None
    dataset: str
    column: str
    queries: int
    masked: int
    last_day: str


@dataclass(frozen=True)
class Denial:
    """One refused query or failed token use: who, what, and which rule refused it."""

    seq: int
    time: datetime
    user: str | None
    action: str
    dataset: str | None
    policy: str | None
    reason: str | None


@dataclass(frozen=True)
class TopDataset:
    """A dataset by how many queries read it and how many distinct users ran them."""

    dataset: str
    queries: int
    users: int
    denied: int


@dataclass(frozen=True)
class DashboardFilter:
    """What the dashboard shows: one user, one dataset, and whole UTC days from `since`
    up to, not including, `until` (each optional)."""

    user: str | None = None
    dataset: str | None = None
    since: date | None = None
    until: date | None = None

    def records(self) -> AuditFilter:
        """The same choice as a filter of the log's records (denials, CSV)."""
        return AuditFilter(
            user=self.user,
            dataset=self.dataset,
            since=datetime.combine(self.since, time()) if self.since else None,
            until=datetime.combine(self.until, time()) if self.until else None,
        )


def _count(expression: sa.ColumnElement[bool], value: Any) -> sa.ColumnElement[Any]:
    return sa.func.coalesce(sa.func.sum(sa.case((expression, value), else_=0)), 0)


def _source(where: DashboardFilter) -> tuple[sa.Table, list[sa.ColumnElement[bool]]]:
    """The rollup holding the query counts for `where`, and the conditions choosing them:
    per day and user, or per day, user and dataset when one dataset is chosen."""
    if where.dataset is None:
        table, conditions = audit_rollup_daily, []
    else:
        table = audit_rollup_reads
        conditions = [table.c.dataset == where.dataset, table.c.column == ""]
    return table, conditions + _days(table, where)


def _days(table: sa.Table, where: DashboardFilter) -> list[sa.ColumnElement[bool]]:
    conditions = []
    if where.user is not None:
        conditions.append(table.c.user == where.user)
    if where.since is not None:
        conditions.append(table.c.day >= where.since.isoformat())
    if where.until is not None:
        conditions.append(table.c.day < where.until.isoformat())
    return conditions


def _user(value: str) -> str | None:
    return value or None


def totals(conn: Connection, where: DashboardFilter) -> Totals:
    """Queries in the window by decision, and the number of distinct users."""
    table, conditions = _source(where)
    c = table.c
    row = conn.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(c.queries), 0),
            sa.func.count(sa.distinct(c.user)),
            _count(c.decision == "allowed", c.queries),
            _count(c.decision == "masked", c.queries),
            _count(c.decision == "filtered", c.queries),
            _count(c.decision.in_(REFUSED), c.queries),
        ).where(*conditions)
    ).one()
    return Totals(*(int(v or 0) for v in row))


def queries_per_day(conn: Connection, where: DashboardFilter) -> list[DailyCount]:
    """Queries per user per day (UTC), oldest day first."""
    table, conditions = _source(where)
    c = table.c
    query = (
        sa.select(c.day, c.user, sa.func.sum(c.queries), _count(c.decision.in_(REFUSED), c.queries))
        .where(*conditions)
        .group_by(c.day, c.user)
        .order_by(c.day, c.user)
    )
    return [DailyCount(r[0], _user(r[1]), int(r[2]), int(r[3])) for r in conn.execute(query)]


def pii_reads(
    conn: Connection,
    where: DashboardFilter,
    pii_columns: Collection[tuple[str, str]],
    *,
    limit: int = 200,
) -> list[PiiRead]:
    """Per user and column tagged `pii.*` ((dataset, column) pairs from the catalog): how
    many queries read it, how many of them saw it masked, and the last day. A refused
    query is not a read and is left out."""
    wanted = sorted(set(pii_columns))
    if where.dataset is not None:
        wanted = [pair for pair in wanted if pair[0] == where.dataset]
    if not wanted:
        return []
    c = audit_rollup_reads.c
    reads = sa.func.sum(c.queries)
    query = (
        sa.select(
            c.user,
            c.dataset,
            c.column,
            reads,
            _count(c.decision == "masked", c.queries),
            sa.func.max(c.day),
        )
        .where(
            sa.tuple_(c.dataset, c.column).in_(wanted),
            c.decision.not_in(REFUSED),
            *_days(audit_rollup_reads, where),
        )
        .group_by(c.user, c.dataset, c.column)
        .order_by(reads.desc(), c.user, c.dataset, c.column)
        .limit(limit)
    )
    return [
        PiiRead(_user(r[0]), r[1], r[2], int(r[3]), int(r[4]), r[5]) for r in conn.execute(query)
    ]


def denials(conn: Connection, where: DashboardFilter, *, limit: int = 100) -> list[Denial]:
    """The newest refused queries and failed token uses in the window (from the log)."""
    t = audit_records.c
    query = (
        sa.select(t.seq, t.recorded_at, t.actor_user, t.action, t.dataset, t.policy, t.details)
        .where(t.decision.in_(REFUSED), *where.records().where())
        .order_by(t.seq.desc())
        .limit(limit)
    )
    found = []
    for r in conn.execute(query):
        details = orjson.loads(r.details)
        reason = details.get("reason") or details.get("message") or details.get("error")
        found.append(
            Denial(r.seq, r.recorded_at, r.actor_user, r.action, r.dataset, r.policy, reason)
        )
    return found


def top_datasets(conn: Connection, where: DashboardFilter, *, limit: int = 10) -> list[TopDataset]:
    """The datasets the most queries read, with distinct users and refusals."""
    c = audit_rollup_reads.c
    queries = sa.func.sum(c.queries)
    conditions = [c.column == "", *_days(audit_rollup_reads, where)]
    if where.dataset is not None:
        conditions.append(c.dataset == where.dataset)
    query = (
        sa.select(
            c.dataset,
            queries,
            sa.func.count(sa.distinct(c.user)),
            _count(c.decision.in_(REFUSED), c.queries),
        )
        .where(*conditions)
        .group_by(c.dataset)
        .order_by(queries.desc(), c.dataset)
        .limit(limit)
    )
    return [TopDataset(r[0], int(r[1]), int(r[2]), int(r[3])) for r in conn.execute(query)]


def users(conn: Connection, *, limit: int = 500) -> list[str]:
    """Users who ran queries, for the filter's choices."""
    c = audit_rollup_daily.c
    query = sa.select(c.user).where(c.user != "").group_by(c.user).order_by(c.user).limit(limit)
    return [str(v) for v in conn.execute(query).scalars()]


def datasets(conn: Connection, *, limit: int = 500) -> list[str]:
    """Datasets queries read, for the filter's choices."""
    c = audit_rollup_reads.c
    query = sa.select(c.dataset).group_by(c.dataset).order_by(c.dataset).limit(limit)
    return [str(v) for v in conn.execute(query).scalars()]


def record_rows(conn: Connection, where: AuditFilter) -> Iterator[tuple[Any, ...]]:
    """Every record the filter matches (all actions), oldest first, as `EXPORT_COLUMNS`,
    read a page at a time by sequence number."""
    t = audit_records.c
    after = 0
    while True:
        query = (
            sa.select(t.seq, t.recorded_at, t.actor_user, t.action, t.dataset, t.columns)
            .add_columns(t.decision, t.policy)
            .where(t.seq > after, *where.where())
            .order_by(t.seq)
            .limit(EXPORT_PAGE)
        )
        rows = conn.execute(query).all()
        for r in rows:
            columns = ",".join(orjson.loads(r.columns))
            yield (r.seq, r.recorded_at, r.actor_user, r.action, r.dataset, columns, *r[6:])
        if len(rows) < EXPORT_PAGE:
            return
        after = rows[-1].seq
