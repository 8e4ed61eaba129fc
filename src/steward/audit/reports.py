"""Reports over the audit log: queries per user per day, PII access, denials, top datasets.

Each returns a `Report`: named columns and rows, which the edges render as a terminal
table, CSV or JSON.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.errors import NotFound
from steward.store.schema import audit_access, audit_records

REPORTS = ("queries-per-day", "pii-access", "denied", "top-datasets")


@dataclass(frozen=True)
class Report:
    """A report's title, column names and rows."""

    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]

    def to_json(self) -> dict[str, Any]:
        """`{"title", "columns", "rows": [{column: value}]}`."""
        return {
            "title": self.title,
            "columns": list(self.columns),
            "rows": [dict(zip(self.columns, plain_row(row), strict=True)) for row in self.rows],
        }

    def to_csv(self) -> str:
        """The rows as CSV (RFC 4180) with a header line, every cell safe in a spreadsheet.

        Lines end in CRLF: the writer then quotes a cell holding a lone CR, which would
        otherwise start a new row there (and a formula with it).
        """
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([csv_cell(c) for c in self.columns])
        writer.writerows(tuple(csv_cell(v) for v in plain_row(row)) for row in self.rows)
        return out.getvalue()


# A spreadsheet reads a cell starting with one of these as a formula (OWASP, "CSV
# Injection"); user names, dataset names and details are anyone's text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """`value` as a CSV cell: text that a spreadsheet would run as a formula gets a `'`."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def plain_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A row's times as ISO 8601 UTC text (`...Z`), everything else as it is."""
    return tuple(v.isoformat() + "Z" if isinstance(v, datetime) else v for v in row)


def _window(since: datetime | None, until: datetime | None) -> list[sa.ColumnElement[bool]]:
    conditions = []
    if since is not None:
        conditions.append(audit_records.c.recorded_at >= since)
    if until is not None:
        conditions.append(audit_records.c.recorded_at < until)
    return conditions


def queries_per_user_per_day(
    conn: Connection, *, since: datetime | None = None, until: datetime | None = None
) -> Report:
    """How many queries each user ran each day (UTC), with how many were denied."""
    day = sa.func.date(audit_records.c.recorded_at)
    denied = sa.func.sum(sa.case((audit_records.c.decision == "denied", 1), else_=0))
    query = (
        sa.select(day.label("day"), audit_records.c.actor_user, sa.func.count(), denied)
        .where(audit_records.c.action == "query", *_window(since, until))
        .group_by(day, audit_records.c.actor_user)
        .order_by(day, audit_records.c.actor_user)
    )
    rows = [(str(r[0]), r[1], int(r[2]), int(r[3] or 0)) for r in conn.execute(query)]
    return Report("Queries per user per day", ("day", "user", "queries", "denied"), rows)


def pii_access(
    conn: Connection,
    pii_columns: Collection[tuple[str, str]],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Report:
    """Who read which of `pii_columns` ((dataset, column) pairs), when, and how it was
    decided (a masked read is listed too: the query touched the column)."""
    wanted = sorted(set(pii_columns))
    columns = ("time", "user", "dataset", "column", "decision", "policy", "seq")
    if not wanted:
        return Report("PII access", columns, [])
    query = (
        sa.select(
            audit_records.c.recorded_at,
            audit_records.c.actor_user,
            audit_access.c.dataset,
            audit_access.c.column,
            audit_records.c.decision,
            audit_records.c.policy,
            audit_records.c.seq,
        )
        .join(audit_records, audit_records.c.seq == audit_access.c.seq)
        .where(
            sa.tuple_(audit_access.c.dataset, audit_access.c.column).in_(wanted),
            audit_records.c.action == "query",
            *_window(since, until),
        )
        .order_by(audit_records.c.seq, audit_access.c.dataset, audit_access.c.column)
    )
    return Report("PII access", columns, [tuple(r) for r in conn.execute(query)])


def denied_attempts(
    conn: Connection, *, since: datetime | None = None, until: datetime | None = None
) -> Report:
    """Every refused query and failed token use, newest first."""
    t = audit_records.c
    query = (
        sa.select(t.recorded_at, t.actor_user, t.action, t.dataset, t.policy, t.details, t.seq)
        .where(t.decision.in_(["denied", "failed"]), *_window(since, until))
        .order_by(t.seq.desc())
    )
    rows = []
    for r in conn.execute(query):
        details = orjson.loads(r.details)
        reason = details.get("reason") or details.get("message") or details.get("error")
        rows.append((r.recorded_at, r.actor_user, r.action, r.dataset, r.policy, reason, r.seq))
    columns = ("time", "user", "action", "dataset", "policy", "reason", "seq")
    return Report("Denied attempts", columns, rows)


def top_datasets(
    conn: Connection,
    *,
    limit: int = 20,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Report:
    """The datasets queried by the most distinct users."""
    users = sa.func.count(sa.distinct(audit_records.c.actor_user))
    query = (
        sa.select(audit_access.c.dataset, users, sa.func.count(sa.distinct(audit_records.c.seq)))
        .join(audit_records, audit_records.c.seq == audit_access.c.seq)
        .where(audit_records.c.action == "query", *_window(since, until))
        .group_by(audit_access.c.dataset)
        .order_by(users.desc(), audit_access.c.dataset)
        .limit(limit)
    )
    rows = [(r[0], int(r[1]), int(r[2])) for r in conn.execute(query)]
    return Report("Top datasets by distinct users", ("dataset", "users", "queries"), rows)


def build_report(
    conn: Connection,
    name: str,
    *,
    pii_columns: Callable[[Connection], Collection[tuple[str, str]]],
    since: datetime | None = None,
    until: datetime | None = None,
) -> Report:
    """The report called `name` (one of `REPORTS`).

    `pii_columns` gives the (dataset, column) pairs tagged `pii.*`; the edges pass the
    catalog's, which lives above this module.
    """
    if name == "queries-per-day":
        return queries_per_user_per_day(conn, since=since, until=until)
    if name == "pii-access":
        return pii_access(conn, pii_columns(conn), since=since, until=until)
    if name == "denied":
        return denied_attempts(conn, since=since, until=until)
    if name == "top-datasets":
        return top_datasets(conn, since=since, until=until)
    raise NotFound(f"report {name!r}: not one of {', '.join(REPORTS)}")
