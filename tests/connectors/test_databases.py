"""The sqlalchemy source on real databases: a PostgreSQL database of its own, DuckDB, SQLite."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from steward.catalog.models import Identity, TableRef
from steward.connectors import open_source
from steward.connectors.databases import DatabaseSource, open_database
from steward.connectors.view_lineage import ViewLineageError, view_lineage
from steward.errors import ConfigError, InvalidInput, NotFound, SourceError
from tests.postgres import find_server

TABLES = [
    "CREATE TABLE {s}customers (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL,"
    " email VARCHAR(200))",
    "CREATE TABLE {s}orders (id INTEGER PRIMARY KEY, customer_id INTEGER, amount DECIMAL(10, 2),"
    ' "select" VARCHAR(10))',
    # A CTE and a join: lineage has to see through the CTE to the table.
    "CREATE VIEW {s}revenue AS WITH paid AS (SELECT customer_id, amount FROM {s}orders"
    " WHERE amount > 0) SELECT c.name AS customer, SUM(p.amount) AS total"
    " FROM paid p JOIN {s}customers c ON c.id = p.customer_id GROUP BY c.name",
]
ROWS = [
    "INSERT INTO {s}customers VALUES (1, 'Ann', 'ann@example.com'), (2, 'Bob', NULL)",
    "INSERT INTO {s}orders VALUES (1, 1, 10.50, 'a'), (2, 1, 3.00, 'b'), (3, 2, 7.25, 'c'),"
    " (4, 2, 1.00, 'd'), (5, 1, 2.00, 'e')",
]
COMMENTS = [
    "COMMENT ON TABLE {s}orders IS 'Every order placed'",
    "COMMENT ON COLUMN {s}orders.amount IS 'In euros'",
]


def build_shop(url: str, schema: str | None, *, comments: bool) -> None:
    prefix = f"{schema}." if schema else ""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        if schema:
            conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        for statement in TABLES + ROWS + (COMMENTS if comments else []):
            conn.execute(sa.text(statement.format(s=prefix)))
    engine.dispose()


def alter(source: DatabaseSource, statement: str) -> None:
    options: dict[str, Any] = {}
    if source.backend == "duckdb":
        options["poolclass"] = sa.NullPool
    engine = sa.create_engine(source.url, **options)
    with engine.begin() as conn:
        conn.execute(sa.text(statement))
    engine.dispose()


@pytest.fixture(scope="module")
def postgres_admin() -> Iterator[str]:
    url, server, reason = find_server()
    if url is None:
        pytest.skip(reason)
    yield url
    if server is not None:
        server.stop()


@pytest.fixture
def postgres_shop(postgres_admin: str) -> Iterator[DatabaseSource]:
    """A database of its own on the PostgreSQL server, the shop in its schema `sales`."""
    name = f"steward_src_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(postgres_admin, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(postgres_admin).set(database=name).render_as_string(False)
    build_shop(url, "sales", comments=True)
    source = open_database("warehouse", {"url": url})
    yield source
    source.close()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def duckdb_shop(tmp_path: Path) -> Iterator[DatabaseSource]:
    path = tmp_path / "shop.duckdb"
    engine = sa.create_engine(f"duckdb:///{path}", poolclass=sa.NullPool)
    engine.dispose()
    build_shop(f"duckdb:///{path}", None, comments=True)
    source = open_database("analytics", {"url": f"duckdb:///{path}"})
    yield source
    source.close()


@pytest.fixture
def sqlite_shop(tmp_path: Path) -> Iterator[DatabaseSource]:
    path = tmp_path / "shop.sqlite"
    build_shop(f"sqlite:///{path}", None, comments=False)
    source = open_database("app", {"url": f"sqlite:///{path}"})
    yield source
    source.close()


@pytest.fixture(params=["postgres", "duckdb", "sqlite"])
def shop(request: pytest.FixtureRequest) -> DatabaseSource:
    source: DatabaseSource = request.getfixturevalue(f"{request.param}_shop")
    return source


def schema_of(source: DatabaseSource) -> str:
    return "sales" if source.backend == "postgresql" else "main"


def test_lists_tables_and_views_of_every_user_schema(shop: DatabaseSource) -> None:
    s = schema_of(shop)
    refs = shop.list_tables()
    assert [ref.name for ref in refs] == [f"{s}.customers", f"{s}.orders", f"{s}.revenue"]
    assert all(ref.fingerprint for ref in refs)


def test_view_lineage_sees_through_the_cte_and_the_join(shop: DatabaseSource) -> None:
    s = schema_of(shop)
    view = shop.load_table(TableRef(f"{s}.revenue"))
    assert view.kind == "view"
    assert view.upstream == (f"{s}.customers", f"{s}.orders")
    assert dict(view.column_upstream) == {
        "customer": ((f"{s}.customers", "name"),),
        "total": ((f"{s}.orders", "amount"),),
    }
    assert view.definition
    assert "paid" in view.definition.lower()
    assert "lineage_error" not in view.properties
    assert [column.name for column in view.columns] == ["customer", "total"]


def test_tables_have_columns_keys_and_comments_where_the_database_keeps_them(
    shop: DatabaseSource,
) -> None:
    s = schema_of(shop)
    orders = shop.load_table(TableRef(f"{s}.orders"))
    assert orders.kind == "table"
    assert [column.name for column in orders.columns] == ["id", "customer_id", "amount", "select"]
    assert orders.properties["primary-key"] == "id"
    customers = shop.load_table(TableRef(f"{s}.customers"))
    assert [column.nullable for column in customers.columns][1:] == [False, True]
    if shop.backend == "sqlite":  # SQLite keeps no comments
        assert orders.description is None
    else:
        assert orders.description == "Every order placed"
        assert orders.columns[2].description == "In euros"


def test_identity_follows_the_openlineage_naming_spec(shop: DatabaseSource) -> None:
    s = schema_of(shop)
    orders = shop.load_table(TableRef(f"{s}.orders"))
    url = shop.url
    if shop.backend == "postgresql":
        expected = Identity(f"postgres://{url.host}:{url.port}", f"{url.database}.sales.orders")
    elif shop.backend == "duckdb":
        # What dbt-ol emits for dbt-duckdb (tests/e2e/test_dbt_ol.py).
        expected = Identity(f"duckdb://{url.database}", "shop.main.orders")
    else:
        expected = Identity(f"sqlite://{url.database}", "orders")
    assert orders.identity == expected
    assert Path(str(url.database)).is_absolute() or shop.backend == "postgresql"


def test_fingerprint_moves_only_for_the_table_that_changed(shop: DatabaseSource) -> None:
    s = schema_of(shop)
    before = {ref.name: ref.fingerprint for ref in shop.list_tables()}
    assert {ref.name: ref.fingerprint for ref in shop.list_tables()} == before
    prefix = f"{s}." if shop.backend == "postgresql" else ""
    alter(shop, f"ALTER TABLE {prefix}customers ADD COLUMN phone VARCHAR(20)")
    after = {ref.name: ref.fingerprint for ref in shop.list_tables()}
    assert after[f"{s}.customers"] != before[f"{s}.customers"]
    assert after[f"{s}.orders"] == before[f"{s}.orders"]
    assert [c.name for c in shop.load_table(TableRef(f"{s}.customers")).columns][-1] == "phone"


def test_sample_is_bounded_and_quotes_identifiers(shop: DatabaseSource) -> None:
    s = schema_of(shop)
    rows = shop.sample(f"{s}.orders", ["id", "select"], 3)
    assert len(rows) == 3
    assert all(set(row) == {"id", "select"} for row in rows)
    assert {row["select"] for row in rows} <= {"a", "b", "c", "d", "e"}
    with pytest.raises(InvalidInput, match="nope"):
        shop.sample(f"{s}.orders", ["nope"], 3)
    with pytest.raises(NotFound, match="missing"):
        shop.sample(f"{s}.missing", ["id"], 3)


def test_include_and_exclude_patterns_filter_schema_dot_table(sqlite_shop: DatabaseSource) -> None:
    url = sqlite_shop.url.render_as_string(False)
    only_views = open_database("app", {"url": url, "include": ["main.rev*"]})
    no_views = open_source(
        "app", {"type": "sqlalchemy", "url": url, "exclude": ["*.revenue"]}, home=Path()
    )
    try:
        assert [ref.name for ref in only_views.list_tables()] == ["main.revenue"]
        assert [ref.name for ref in no_views.list_tables()] == ["main.customers", "main.orders"]
    finally:
        only_views.close()
        assert isinstance(no_views, DatabaseSource)
        no_views.close()


def test_view_column_that_cannot_be_traced_says_why_and_the_others_keep_lineage(
    sqlite_shop: DatabaseSource,
) -> None:
    # SQLite reads a double-quoted name that is no column as a string; sqlglot cannot.
    alter(sqlite_shop, 'CREATE VIEW odd AS SELECT "nope" AS label, id FROM orders')
    odd = sqlite_shop.load_table(TableRef("main.odd"))
    assert odd.kind == "view"
    assert odd.upstream == ("main.orders",)
    assert odd.column_upstream["id"] == (("main.orders", "id"),)
    assert odd.column_upstream.get("label", ()) == ()
    assert "label: " in odd.properties["lineage_unresolved"]
    assert "nope" in odd.properties["lineage_unresolved"]
    assert "lineage_error" not in odd.properties
    assert [column.name for column in odd.columns] == ["label", "id"]


@pytest.mark.parametrize(
    ("definition", "reason"),
    [("CREATE VIEW v AS SELECT FROM WHERE (", "sql: "), ("DROP TABLE orders", "not a query")],
)
def test_view_sql_that_cannot_be_traced_at_all_says_why(definition: str, reason: str) -> None:
    with pytest.raises(ViewLineageError, match=reason):
        view_lineage(definition, dialect="sqlite", default_schema="main", tables={})


def test_view_the_database_cannot_describe_does_not_hide_the_others(
    sqlite_shop: DatabaseSource,
) -> None:
    # SQLite keeps a view naming a column that does not exist; describing it fails.
    alter(sqlite_shop, "CREATE VIEW broken AS SELECT nope FROM orders")
    names = [ref.name for ref in sqlite_shop.list_tables()]
    assert names == ["main.broken", "main.customers", "main.orders", "main.revenue"]
    broken = sqlite_shop.load_table(TableRef("main.broken"))
    assert broken.columns == ()
    assert "no such column: nope" in broken.properties["reflection_error"]
    assert "nope" in broken.properties["lineage_unresolved"]
    revenue = sqlite_shop.load_table(TableRef("main.revenue"))
    assert revenue.upstream == ("main.customers", "main.orders")


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({}, "sources.bad.url"),
        ({"url": 42}, "sources.bad.url"),
        ({"url": "not a url"}, "sources.bad.url"),
        ({"url": "nosuchdb://host/db"}, "sources.bad.url"),
        ({"url": "sqlite:///x.db", "schema": "main"}, "sources.bad.schema"),
        ({"url": "sqlite:///x.db", "include": [1]}, "sources.bad.include"),
        ({"url": "sqlite:///x.db", "schemas": {"a": 1}}, "sources.bad.schemas"),
    ],
)
def test_bad_options_are_a_config_error_naming_the_key(options: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        open_database("bad", options)


def test_unreachable_database_is_a_source_error_naming_the_source(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    source = open_database(
        "remote", {"url": f"postgresql+psycopg://user:secret@127.0.0.1:{port}/db"}
    )
    with pytest.raises(SourceError, match="source remote") as raised:
        source.list_tables()
    assert "secret" not in raised.value.message
    source.close()

    missing = open_database("gone", {"url": f"sqlite:///{tmp_path / 'nowhere.db'}"})
    with pytest.raises(SourceError, match="source gone"):
        missing.list_tables()
    assert not (tmp_path / "nowhere.db").exists()
