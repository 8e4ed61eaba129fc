"""The audit dashboard's figures, computed in SQL: queries per user per day, PII access,
denials, top datasets, and the filtered records for export.

Every function takes an `AuditFilter` (user, dataset, time range; `steward.audit.log`)
and returns typed rows; the edges only render them. The aggregates group inside the
database (indexes of migration 0015 cover the per-day counts), so a million records
cost one indexed scan each, not a million Python objects.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.audit.log import AuditFilter
from steward.store.schema import audit_access, audit_records

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
    last: datetime


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


def _where(where: AuditFilter) -> list[sa.ColumnElement[bool]]:
    return where.where()


def _count(expression: sa.ColumnElement[bool]) -> sa.ColumnElement[Any]:
    return sa.func.coalesce(sa.func.sum(sa.case((expression, 1), else_=0)), 0)


def totals(conn: Connection, where: AuditFilter) -> Totals:
    """Queries in the window by decision, and the number of distinct users."""
    t = audit_records.c
    row = conn.execute(
        sa.select(
            sa.func.count(),
            sa.func.count(sa.distinct(t.actor_user)),
            _count(t.decision == "allowed"),
            _count(t.decision == "masked"),
            _count(t.decision == "filtered"),
            _count(t.decision.in_(REFUSED)),
        ).where(t.action == QUERY, *_where(where))
    ).one()
    return Totals(*(int(v or 0) for v in row))


def queries_per_day(conn: Connection, where: AuditFilter) -> list[DailyCount]:
    """Queries per user per day (UTC), oldest day first."""
    t = audit_records.c
    day = sa.func.date(t.recorded_at)
    query = (
        sa.select(day, t.actor_user, sa.func.count(), _count(t.decision.in_(REFUSED)))
        .where(t.action == QUERY, *_where(where))
        .group_by(day, t.actor_user)
        .order_by(day, t.actor_user)
    )
    return [DailyCount(str(r[0]), r[1], int(r[2]), int(r[3])) for r in conn.execute(query)]


def pii_reads(
    conn: Connection,
    where: AuditFilter,
    pii_columns: Collection[tuple[str, str]],
    *,
    limit: int = 200,
) -> list[PiiRead]:
    """Per user and column tagged `pii.*` ((dataset, column) pairs from the catalog): how
    many queries touched it, how many of them saw it masked, and when last. A refused
    query is not a read and is left out."""
    wanted = sorted(set(pii_columns))
    if not wanted:
        return []
    t, a = audit_records.c, audit_access.c
    reads = sa.func.count(sa.distinct(t.seq))
    query = (
        sa.select(
            t.actor_user,
            a.dataset,
            a.column,
            reads,
            sa.func.count(sa.distinct(sa.case((t.decision == "masked", t.seq)))),
            sa.func.max(t.recorded_at),
        )
        .select_from(audit_access.join(audit_records, t.seq == a.seq))
        .where(
            sa.tuple_(a.dataset, a.column).in_(wanted),
            t.action == QUERY,
            t.decision.not_in(REFUSED),
            *_where(where),
        )
        .group_by(t.actor_user, a.dataset, a.column)
        .order_by(reads.desc(), t.actor_user, a.dataset, a.column)
        .limit(limit)
    )
    return [PiiRead(r[0], r[1], r[2], int(r[3]), int(r[4]), r[5]) for r in conn.execute(query)]


def denials(conn: Connection, where: AuditFilter, *, limit: int = 100) -> list[Denial]:
    """The newest refused queries and failed token uses in the window."""
    t = audit_records.c
    query = (
        sa.select(t.seq, t.recorded_at, t.actor_user, t.action, t.dataset, t.policy, t.details)
        .where(t.decision.in_(REFUSED), *_where(where))
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


def top_datasets(conn: Connection, where: AuditFilter, *, limit: int = 10) -> list[TopDataset]:
    """The datasets the most queries read, with distinct users and refusals."""
    t, a = audit_records.c, audit_access.c
    queries = sa.func.count(sa.distinct(t.seq))
    refused = sa.func.count(sa.distinct(sa.case((t.decision.in_(REFUSED), t.seq))))
    conditions = [t.action == QUERY, *_where(where)]
    if where.dataset is not None:
        conditions.append(a.dataset == where.dataset)
    query = (
        sa.select(a.dataset, queries, sa.func.count(sa.distinct(t.actor_user)), refused)
        .select_from(audit_access.join(audit_records, t.seq == a.seq))
        .where(*conditions)
        .group_by(a.dataset)
        .order_by(queries.desc(), a.dataset)
        .limit(limit)
    )
    return [TopDataset(r[0], int(r[1]), int(r[2]), int(r[3])) for r in conn.execute(query)]


def users(conn: Connection, *, limit: int = 500) -> list[str]:
    """Users who ran queries, for the filter's choices."""
    t = audit_records.c
    query = (
        sa.select(t.actor_user)
        .where(t.action == QUERY, t.actor_user.is_not(None))
        .group_by(t.actor_user)
        .order_by(t.actor_user)
        .limit(limit)
    )
    return [str(v) for v in conn.execute(query).scalars()]


def datasets(conn: Connection, *, limit: int = 500) -> list[str]:
    """Datasets records read, for the filter's choices."""
    query = (
        sa.select(audit_access.c.dataset)
        .group_by(audit_access.c.dataset)
        .order_by(audit_access.c.dataset)
        .limit(limit)
    )
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
            .where(t.seq > after, *_where(where))
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
