"""The demo's Iceberg tables in the embedded lake: commits, users, orders, and a mart.

Small on purpose (tens of rows) but real: pyiceberg tables on disk, read by the same
engine as any other lake. `lake.sales.orders` also gets a branch `audit` holding new
orders with one planted defect, for write-audit-publish to refuse.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa
    from pyiceberg.catalog import Catalog

# user_id, name, email, phone, country, region
USERS = [
    (1, "Ada Lovelace", "ada@example.com", "+44 20 7946 0018", "GB", "EU"),
    (2, "Linus Berg", "linus.berg@example.org", "+46 8 123 456 78", "SE", "EU"),
    (3, "Grace Park", "grace.park@example.net", "+1 202 555 0143", "US", "NA"),
    (4, "Ken Sato", "ken.sato@example.jp", "+81 3 1234 5678", "JP", "APAC"),
    (5, "Margaret Ruiz", "margaret@example.es", "+34 912 345 678", "ES", "EU"),
    (6, "Dennis Okafor", "dennis.okafor@example.com", "+1 415 555 0198", "US", "NA"),
    (7, "Barbara Weiss", "barbara.weiss@example.de", "+49 30 12345678", "DE", "EU"),
    (8, "Tim Ng", "tim.ng@example.sg", "+65 6123 4567", "SG", "APAC"),
]
# sha, author (a user id), committed_at, message
COMMITS = [
    ("9f2c1e0", 1, "2026-10-01T09:12:00", "engine: the analytical engine's first loop"),
    ("a41d7b3", 2, "2026-10-02T11:40:00", "kernel: schedule on both cores"),
    ("c03e9a8", 3, "2026-10-03T15:05:00", "compiler: a first pass"),
    ("d7b2f11", 1, "2026-10-04T10:30:00", "engine: notes on Bernoulli numbers"),
    ("e5a0c47", 4, "2026-10-06T08:20:00", "ruby: blocks take arguments"),
    ("f19b3d2", 5, "2026-10-07T13:55:00", "docs: the guidance computer's manual"),
    ("0b7e6a9", 6, "2026-10-08T17:45:00", "lang: pointers to pointers"),
    ("1c8f5e4", 7, "2026-10-09T09:00:00", "orm: lazy loading"),
    ("2d9a4f7", 2, "2026-10-10T12:10:00", "kernel: a filesystem"),
    ("3e0b8c6", 8, "2026-10-12T16:25:00", "web: server-rendered pages"),
    ("4f1c9d5", 5, "2026-10-13T10:40:00", "docs: fix the restart procedure"),
    ("5a2daf3", 1, "2026-10-14T14:15:00", "engine: cards for loops"),
]
REPO = "github.com/example/engine"
# order_id, user_id, amount, currency, status, ordered_at
ORDERS = [
    (1001, 1, 25.0, "EUR", "shipped", "2026-10-20T10:00:00"),
    (1002, 3, 120.5, "USD", "shipped", "2026-10-20T11:30:00"),
    (1003, 2, 9.99, "EUR", "returned", "2026-10-21T09:15:00"),
    (1004, 5, 42.0, "EUR", "shipped", "2026-10-22T16:45:00"),
    (1005, 4, 300.0, "USD", "placed", "2026-10-23T08:05:00"),
    (1006, 6, 18.75, "USD", "placed", "2026-10-24T19:20:00"),
    (1007, 7, 64.2, "EUR", "shipped", "2026-10-25T12:00:00"),
    (1008, 8, 5.5, "USD", "placed", "2026-10-26T07:45:00"),
]
# The audit branch: two good orders and one for user 99, who does not exist.
AUDIT_ORDERS = [
    (1009, 1, 31.0, "EUR", "placed", "2026-10-27T10:00:00"),
    (1010, 3, 12.0, "USD", "placed", "2026-10-27T11:00:00"),
    (1011, 99, 77.0, "USD", "placed", "2026-10-27T12:00:00"),
]
PLANTED_DEFECT = "order 1011 on branch audit names user 99, who does not exist"
AUDIT_BRANCH = "audit"
TABLES = (
    "lake.git.commits",
    "lake.crm.users",
    "lake.sales.orders",
    "lake.marts.commits_by_country",
)


@dataclass(frozen=True)
class LakeTable:
    """A demo table: its catalog name, rows, and the location that names it in lineage."""

    name: str
    rows: int
    location: str


def _users() -> pa.Table:
    import pyarrow as pa

    return pa.table(
        {
            "user_id": pa.array([u[0] for u in USERS], pa.int64()),
            "name": [u[1] for u in USERS],
            "email": [u[2] for u in USERS],
            "phone": [u[3] for u in USERS],
            "country": [u[4] for u in USERS],
            "region": [u[5] for u in USERS],
        }
    )


def _commits() -> pa.Table:
    import pyarrow as pa

    by_id = {u[0]: u for u in USERS}
    return pa.table(
        {
            "sha": [c[0] for c in COMMITS],
            "repo": [REPO] * len(COMMITS),
            "author_name": [by_id[c[1]][1] for c in COMMITS],
            "author_email": [by_id[c[1]][2] for c in COMMITS],
            "committed_at": pa.array(
                [datetime.fromisoformat(c[2]) for c in COMMITS], pa.timestamp("us")
            ),
            "message": [c[3] for c in COMMITS],
        }
    )


def _orders(rows: list[tuple[int, int, float, str, str, str]]) -> pa.Table:
    import pyarrow as pa

    return pa.table(
        {
            "order_id": pa.array([o[0] for o in rows], pa.int64()),
            "user_id": pa.array([o[1] for o in rows], pa.int64()),
            "amount": pa.array([o[2] for o in rows], pa.float64()),
            "currency": [o[3] for o in rows],
            "status": [o[4] for o in rows],
            "ordered_at": pa.array(
                [datetime.fromisoformat(o[5]) for o in rows], pa.timestamp("us")
            ),
        }
    )


def _commits_by_country() -> pa.Table:
    """What the dbt model `commits_by_country` computes: commits and authors per country."""
    import pyarrow as pa

    by_id = {u[0]: u for u in USERS}
    commits = Counter(by_id[c[1]][4] for c in COMMITS)
    authors = Counter(by_id[a][4] for a in {c[1] for c in COMMITS})
    region = {u[4]: u[5] for u in USERS}
    countries = sorted(commits)
    return pa.table(
        {
            "country": countries,
            "region": [region[c] for c in countries],
            "commits": pa.array([commits[c] for c in countries], pa.int64()),
            "authors": pa.array([authors[c] for c in countries], pa.int64()),
        }
    )


def build_lake(home: Path) -> list[LakeTable]:
    """Create the demo's tables (those missing) and the orders' `audit` branch."""
    from steward.connectors.iceberg import lake_catalog

    catalog = lake_catalog(home)
    try:
        _create(catalog, "git.commits", _commits())
        _create(catalog, "crm.users", _users())
        orders = _create(catalog, "sales.orders", _orders(ORDERS))
        _create(catalog, "marts.commits_by_country", _commits_by_country())
        if AUDIT_BRANCH not in orders.metadata.refs:
            main = orders.current_snapshot().snapshot_id
            orders.manage_snapshots().create_branch(main, AUDIT_BRANCH).commit()
            orders = catalog.load_table("sales.orders")
            orders.append(_orders(AUDIT_ORDERS), branch=AUDIT_BRANCH)
        return [_described(catalog, name) for name in TABLES]
    finally:
        catalog.close()


def _create(catalog: Catalog, name: str, data: pa.Table) -> Any:
    namespace = name.split(".")[0]
    catalog.create_namespace_if_not_exists(namespace)
    if catalog.table_exists(name):
        return catalog.load_table(name)
    table = catalog.create_table(name, schema=data.schema)
    table.append(data)
    return catalog.load_table(name)


def _described(catalog: Catalog, name: str) -> LakeTable:
    table = catalog.load_table(name.removeprefix("lake."))
    snapshot = table.current_snapshot()
    rows = int(snapshot.summary["total-records"] or 0) if snapshot and snapshot.summary else 0
    return LakeTable(name=name, rows=rows, location=table.location())
