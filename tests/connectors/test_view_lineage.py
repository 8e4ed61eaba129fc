"""Views synced from real PostgreSQL and DuckDB get their lineage from the one SQL engine.

Each case is a view the database itself accepted and describes (`pg_get_viewdef`,
`duckdb_views()`); the lineage is what the catalog stores for it, checked by name as a
user browsing the catalog would see it, down to the transformation types that land on
the column lineage facet of the catalog sync.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from steward.app import Steward
from steward.catalog.models import DiscoveredTable, TableRef
from steward.catalog.sync import sync
from steward.connectors.databases import DatabaseSource, open_database
from steward.connectors.view_lineage import view_lineage
from tests.postgres import find_server

# {s} is the schema prefix; each statement runs on both databases.
SHOP = [
    'CREATE TABLE {s}"Accounts" ("UserId" INTEGER, name VARCHAR(50), region VARCHAR(10))',
    'CREATE TABLE {s}orders (id INTEGER, "UserId" INTEGER, amount DECIMAL(10, 2))',
    'CREATE VIEW {s}accounts_v AS SELECT "UserId", name FROM {s}"Accounts"',
    'CREATE VIEW {s}per_user AS SELECT "UserId", count(*) AS n, sum(amount) AS total'
    ' FROM {s}orders GROUP BY "UserId"',
    "CREATE VIEW {s}numbered AS SELECT o.id, g.n FROM {s}orders o CROSS JOIN {series} AS g(n)",
    "CREATE VIEW {s}doubled AS (SELECT id, amount * 2 AS twice FROM {s}orders)",
    "CREATE VIEW {s}big_orders AS SELECT o.id, a.name,"
    " CASE WHEN o.amount > 100 THEN a.region END AS region"
    ' FROM {s}orders o JOIN {s}"Accounts" a ON a."UserId" = o."UserId" WHERE o.amount > 10',
]


def build(url: str, statements: list[str], *, schema: str | None, series: str) -> None:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(sa.text(statement.format(s=f"{schema}." if schema else "", series=series)))
    engine.dispose()


@pytest.fixture
def postgres() -> Iterator[DatabaseSource]:
    """The shop in a fresh schema of the server's database, dropped afterwards."""
    url, server, reason = find_server()
    if url is None:
        pytest.skip(reason)
    schema = f"views_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        conn.execute(sa.text(f"CREATE SCHEMA {schema}_ext"))
    try:
        build(url, SHOP, schema=schema, series="generate_series(1, 3)")
        source = open_database("warehouse", {"url": url, "schemas": [schema]})
        yield source
        source.close()
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
            conn.execute(sa.text(f"DROP SCHEMA {schema}_ext CASCADE"))
        admin.dispose()
        if server is not None:
            server.stop()


@pytest.fixture
def duckdb(tmp_path: Path) -> Iterator[DatabaseSource]:
    path = tmp_path / "shop.duckdb"
    build(f"duckdb:///{path}", ["CREATE SCHEMA ext"], schema=None, series="range(3)")
    build(f"duckdb:///{path}", SHOP, schema=None, series="range(3)")
    source = open_database("analytics", {"url": f"duckdb:///{path}", "include": ["main.*"]})
    yield source
    source.close()


@pytest.fixture(params=["postgres", "duckdb"])
def shop(request: pytest.FixtureRequest) -> DatabaseSource:
    source: DatabaseSource = request.getfixturevalue(request.param)
    return source


def schema_of(source: DatabaseSource) -> str:
    return str(source._schemas[0]) if source.backend == "postgresql" else "main"


def view(source: DatabaseSource, name: str) -> DiscoveredTable:
    source.list_tables()
    found = source.load_table(TableRef(f"{schema_of(source)}.{name}"))
    assert found.kind == "view"
    return found


def test_quoted_mixed_case_column_keeps_its_name_and_lineage(shop: DatabaseSource) -> None:
    s = schema_of(shop)
    found = view(shop, "accounts_v")
    assert [c.name for c in found.columns] == ["UserId", "name"]
    assert found.upstream == (f"{s}.Accounts",)
    assert dict(found.column_upstream) == {
        "UserId": ((f"{s}.Accounts", "UserId"),),
        "name": ((f"{s}.Accounts", "name"),),
    }
    assert "lineage_error" not in found.properties
    assert "lineage_unresolved" not in found.properties


def test_count_star_reads_no_column_and_the_others_keep_their_lineage(
    shop: DatabaseSource,
) -> None:
    s = schema_of(shop)
    found = view(shop, "per_user")
    assert dict(found.column_upstream) == {
        "UserId": ((f"{s}.orders", "UserId"),),
        "n": (),
        "total": ((f"{s}.orders", "amount"),),
    }
    assert found.column_transformations["total"] == {
        (f"{s}.orders", "amount"): (("DIRECT", "AGGREGATION"),)
    }
    assert "lineage_error" not in found.properties


def test_table_function_is_no_table(shop: DatabaseSource) -> None:
    s = schema_of(shop)
    found = view(shop, "numbered")
    assert found.upstream == (f"{s}.orders",)
    assert found.column_upstream["id"] == ((f"{s}.orders", "id"),)
    assert found.column_upstream["n"] == ()


def test_parenthesised_body_is_traced(shop: DatabaseSource) -> None:
    s = schema_of(shop)
    found = view(shop, "doubled")
    assert found.upstream == (f"{s}.orders",)
    assert dict(found.column_upstream) == {
        "id": ((f"{s}.orders", "id"),),
        "twice": ((f"{s}.orders", "amount"),),
    }
    assert found.column_transformations["twice"] == {
        (f"{s}.orders", "amount"): (("DIRECT", "TRANSFORMATION"),)
    }


def test_three_part_names_of_the_database_are_its_own_tables(shop: DatabaseSource) -> None:
    s = schema_of(shop)
    database = shop.url.database if shop.backend == "postgresql" else "shop"
    alter(shop, f"CREATE VIEW {s}.three AS SELECT o.id, o.amount FROM {database}.{s}.orders o")
    found = view(shop, "three")
    assert found.upstream == (f"{s}.orders",)
    assert dict(found.column_upstream) == {
        "id": ((f"{s}.orders", "id"),),
        "amount": ((f"{s}.orders", "amount"),),
    }


@pytest.mark.parametrize(
    ("dialect", "database"), [("postgres", "test"), ("duckdb", "shop"), ("trino", "lake")]
)
def test_a_three_part_name_is_a_table_of_the_source_only_in_its_own_database(
    dialect: str, database: str
) -> None:
    # The databases above write views back without the database's name; other sources
    # (Trino's catalogs, SQL kept as written) keep it.
    traced = view_lineage(
        f"SELECT o.id, x.total FROM {database}.sales.orders o"
        f" JOIN elsewhere.sales.totals x ON x.id = o.id",
        dialect=dialect,
        default_schema="sales",
        tables={"sales": {"orders": {"id": "int"}, "totals": {"id": "int", "total": "int"}}},
        database=database,
    )
    assert traced.upstream == ("sales.orders",)
    assert traced.column_upstream == {"id": (("sales.orders", "id"),), "total": ()}


def test_a_column_the_engine_cannot_resolve_leaves_the_others_their_lineage(
    duckdb: DatabaseSource,
) -> None:
    # ext.* is not synced (include = main.*): orders has no `mystery`, but either of the two
    # unknown tables may, so where it comes from is unknown.
    alter(duckdb, "CREATE TABLE ext.extra (id INTEGER, mystery VARCHAR)")
    alter(duckdb, "CREATE TABLE ext.more (id INTEGER)")
    alter(
        duckdb,
        "CREATE VIEW odd AS SELECT o.id, mystery FROM orders o, ext.extra x, ext.more y",
    )
    found = view(duckdb, "odd")
    assert [c.name for c in found.columns] == ["id", "mystery"]
    assert found.column_upstream["id"] == (("main.orders", "id"),)
    assert found.column_upstream.get("mystery", ()) == ()
    assert "mystery" in found.properties["lineage_unresolved"]
    assert "lineage_error" not in found.properties


def test_postgres_view_over_an_unsynced_schema_keeps_the_columns_it_can_trace(
    postgres: DatabaseSource,
) -> None:
    s = schema_of(postgres)
    alter(postgres, f"CREATE TABLE {s}_ext.extra (id INTEGER, mystery VARCHAR)")
    alter(
        postgres,
        f"CREATE VIEW {s}.odd AS SELECT o.id, x.mystery FROM {s}.orders o, {s}_ext.extra x",
    )
    found = view(postgres, "odd")
    assert found.column_upstream["id"] == ((f"{s}.orders", "id"),)
    assert set(found.upstream) == {f"{s}.orders", f"{s}_ext.extra"}
    assert "lineage_error" not in found.properties


def alter(source: DatabaseSource, statement: str) -> None:
    engine = sa.create_engine(source.url, poolclass=sa.NullPool)
    with engine.begin() as conn:
        conn.execute(sa.text(statement))
    engine.dispose()


def column_edges(
    client: TestClient, source: DatabaseSource, view: str, column: str, *, indirect: bool = False
) -> dict[str, list[dict[str, object]]]:
    """The upstream edges of `view.column` in the synced column lineage, with how."""
    identity = source.identity(schema_of(source), view)
    ns = identity.namespace
    node = f"datasetField:{ns}:{identity.name}:{column}"
    answer = client.get("/api/v1/column-lineage", params={"nodeId": node, "direction": "upstream"})
    assert answer.status_code == 200, answer.text
    (found,) = [n for n in answer.json()["graph"] if n["id"] == node]
    return {
        e["origin"].removeprefix(f"datasetField:{ns}:"): [
            {"type": t["type"], "subtype": t["subtype"]} for t in e["transformations"]
        ]
        for e in found["inEdges"]
        if e["indirect"] is indirect
    }


def test_transformation_types_land_on_the_synced_column_lineage(
    shop: DatabaseSource, steward: Steward, client: TestClient
) -> None:
    s = schema_of(shop)
    sync(steward.store, shop)
    accounts = shop.identity(s, "Accounts").name
    orders = shop.identity(s, "orders").name
    assert column_edges(client, shop, "big_orders", "name") == {
        f"{accounts}:name": [{"type": "DIRECT", "subtype": "IDENTITY"}]
    }
    assert column_edges(client, shop, "per_user", "total") == {
        f"{orders}:amount": [{"type": "DIRECT", "subtype": "AGGREGATION"}]
    }
    region = column_edges(client, shop, "big_orders", "region")
    region |= column_edges(client, shop, "big_orders", "region", indirect=True)
    assert region[f"{accounts}:region"] == [{"type": "DIRECT", "subtype": "TRANSFORMATION"}]
    # `amount` both picks the value (CASE) and filters the rows; the column graph shows
    # one edge per pair of fields, the filter.
    assert f"{orders}:amount" in region
    # The filter decides the rows of every column: the facet's `dataset` list.
    whole = column_edges(client, shop, "big_orders", "name", indirect=True)
    assert whole[f"{orders}:amount"] == [{"type": "INDIRECT", "subtype": "FILTER"}]
    grouped = column_edges(client, shop, "per_user", "total", indirect=True)
    assert grouped == {f"{orders}:UserId": [{"type": "INDIRECT", "subtype": "GROUP_BY"}]}


def test_join_keys_decide_the_rows_of_every_synced_column(
    shop: DatabaseSource, steward: Steward, client: TestClient
) -> None:
    s = schema_of(shop)
    sync(steward.store, shop)
    accounts = shop.identity(s, "Accounts").name
    orders = shop.identity(s, "orders").name
    whole = column_edges(client, shop, "big_orders", "name", indirect=True)
    assert whole[f"{orders}:UserId"] == [{"type": "INDIRECT", "subtype": "JOIN"}]
    assert whole[f"{accounts}:UserId"] == [{"type": "INDIRECT", "subtype": "JOIN"}]


# The SQL lineage engine on the forms the databases give view definitions back in; each
# is a case the view tests above need (engine gaps found while switching to it).


def test_engine_traces_columns_qualified_by_a_quoted_mixed_case_table() -> None:
    # pg_get_viewdef qualifies every column of a one-table view by the table's name.
    from steward.lineage.sql import analyze

    sql = 'SELECT "Accounts"."UserId", "Accounts".name FROM s."Accounts"'
    schema = {"s": {"Accounts": {"UserId": "int", "name": "text"}}}
    (statement,) = analyze(sql, dialect="postgres", schema=schema).statements
    assert {c.column: [(u.table, u.column) for u in c.upstreams] for c in statement.columns} == {
        "UserId": [("s.Accounts", "UserId")],
        "name": [("s.Accounts", "name")],
    }


@pytest.mark.parametrize("dialect", ["postgres", "duckdb"])
def test_engine_keeps_the_join_keys_of_a_parenthesised_join(dialect: str) -> None:
    # PostgreSQL and DuckDB both write a view's joins inside parentheses.
    from steward.lineage.sql import analyze

    sql = "SELECT a.name FROM (s.orders o JOIN s.acc a ON ((a.uid = o.uid)))"
    schema = {"s": {"orders": {"id": "int", "uid": "int"}, "acc": {"uid": "int", "name": "text"}}}
    (statement,) = analyze(sql, dialect=dialect, schema=schema).statements
    assert {(u.table, u.column) for u in statement.dataset} == {
        ("s.acc", "uid"),
        ("s.orders", "uid"),
    }
