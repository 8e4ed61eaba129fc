"""A real embedded-lake Iceberg table with PII, and one principal's access to it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from steward.app import Steward
from steward.catalog.sync import sync
from steward.config import Settings
from steward.connectors.iceberg import lake_catalog
from steward.identity.models import Principal
from steward.policy.access import CallerAccess, ColumnAccess, TableAccess
from steward.policy.query import QueryResult, run_query
from steward.policy.rewrite import Catalog, Governed, govern
from steward.policy.statement import AllowList

# id, name, email, ssn, region, salary
PEOPLE = [
    (1, "Ada", "ada.lovelace@example.com", "123-45-6789", "EU", 91000),
    (2, "Bob", "bob.stone@example.org", "234-56-7890", "US", 82000),
    (3, "Cleo", "cleo@example.com", "345-67-8901", "EU", 75000),
    (4, "Dan", "dan.brown@corp.example", "456-78-9012", "APAC", 66000),
    (5, "Eve", "eve@example.net", "567-89-0123", "US", 99000),
    (6, "Fay", "fay.smith@example.com", "678-90-1234", "EU", 58000),
]
EMAILS = {row[2] for row in PEOPLE}
SSNS = {row[3] for row in PEOPLE}
EU_IDS = {row[0] for row in PEOPLE if row[4] == "EU"}
NON_EU_NAMES = {row[1] for row in PEOPLE if row[4] != "EU"}
EMAIL_MASK = "regexp_replace({column}, '^(.)[^@]*@', '\\1****@')"
ORDERS = [(10, 1, 20.0), (11, 2, 35.5), (12, 3, 12.0), (13, 4, 8.25), (14, 6, 41.0)]


def make_lake(steward: Steward) -> None:
    """`lake.crm.customers` and `lake.crm.orders` as Iceberg tables, synced into the catalog."""
    import pyarrow as pa

    catalog = lake_catalog(steward.settings.home)
    catalog.create_namespace("crm")
    people = pa.table(
        {
            "id": pa.array([r[0] for r in PEOPLE], pa.int64()),
            "name": [r[1] for r in PEOPLE],
            "email": [r[2] for r in PEOPLE],
            "ssn": [r[3] for r in PEOPLE],
            "region": [r[4] for r in PEOPLE],
            "salary": pa.array([r[5] for r in PEOPLE], pa.int64()),
        }
    )
    table = catalog.create_table("crm.customers", schema=people.schema)
    table.append(people.slice(0, 3))
    table.append(people.slice(3))  # two data files
    orders = pa.table(
        {
            "order_id": pa.array([o[0] for o in ORDERS], pa.int64()),
            "customer_id": pa.array([o[1] for o in ORDERS], pa.int64()),
            "amount": [o[2] for o in ORDERS],
        }
    )
    catalog.create_table("crm.orders", schema=orders.schema).append(orders)
    catalog.close()
    sync(steward.store, steward.source("lake"))


def analyst_access(table: str, columns: Sequence[tuple[str, frozenset[str]]]) -> TableAccess:
    """Email masked, SSN redacted, salary denied, rows of the EU only; orders in clear."""
    if table == "lake.crm.customers":
        verdicts = {
            "email": ColumnAccess("email", "masked", "masks[0]", "email", EMAIL_MASK),
            "ssn": ColumnAccess("ssn", "masked", "masks[1]", "redact", "'REDACTED'"),
            "salary": ColumnAccess("salary", "denied", "deny[0]"),
        }
        return TableAccess(
            table=table,
            allowed=True,
            rule="grants[0]",
            columns=tuple(
                verdicts.get(name, ColumnAccess(name, "clear", "grants[0]")) for name, _ in columns
            ),
            row_filters=("region = 'EU'",),
            row_filter_rules=("row_filters[0]",),
            describe=True,
        )
    if table == "lake.crm.orders":
        return TableAccess(
            table=table,
            allowed=True,
            rule="grants[0]",
            columns=tuple(ColumnAccess(name, "clear", "grants[0]") for name, _ in columns),
            describe=True,
        )
    return TableAccess(table=table, allowed=False, rule="default", reason=f"{table}: not granted")


ANALYST = Principal(user="ann@example.com", groups=frozenset({"analysts-eu"}))


@pytest.fixture
def settings(tmp_path: Path, engine_name: str) -> Settings:
    """The bypass tests run on the embedded SQLite store and on each engine: the engine is
    what they test."""
    return Settings(home=tmp_path / "home", engine=engine_name)  # type: ignore[arg-type]


@pytest.fixture
def lake(steward: Steward) -> Steward:
    make_lake(steward)
    return steward


Query = Callable[[str], QueryResult]


@pytest.fixture
def query(lake: Steward) -> Query:
    def run(sql: str) -> QueryResult:
        return run_query(lake, sql, ANALYST, access_for=analyst_access)

    return run


def cells(result: QueryResult) -> list[Any]:
    return [value for row in result.rows for value in row]


def static_catalog(tables: dict[str, list[str]]) -> Catalog:
    """A catalog of `tables` (name -> columns) whose engine tables have those columns."""
    return Catalog(
        names=list(tables),
        columns=lambda names: {n: [(c, frozenset()) for c in tables[n]] for n in names},
        physical=lambda name, internal, at: tables[name],
        engine_names={"sqlite_master", "duckdb_tables", "pg_class"},
    )


def governed(
    sql: str,
    tables: dict[str, list[str]],
    access: Callable[[str, Sequence[tuple[str, frozenset[str]]]], TableAccess] = analyst_access,
    *,
    materialize: bool = False,
) -> Governed:
    """`sql` through the production pipeline, over a static catalog (internal names fixed)."""
    return govern(
        sql,
        catalog=static_catalog(tables),
        access=CallerAccess(access),
        salt="golden",
        allowed=AllowList.named("duckdb"),
        materialize=materialize,
    )
