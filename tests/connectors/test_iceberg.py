"""The iceberg source on real pyiceberg SQL catalogs on disk (the embedded lake and others)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.schema import Schema
from pyiceberg.types import LongType, NestedField, StringType

from steward.catalog.models import Identity, Owner, TableRef
from steward.connectors import open_source
from steward.connectors.iceberg import IcebergSource, lake_catalog, location_identity, open_iceberg
from steward.errors import ConfigError, InvalidInput, NotFound, SourceError

ORDERS = Schema(
    NestedField(1, "id", LongType(), required=True, doc="Order number"),
    NestedField(2, "customer", StringType(), doc="Who ordered"),
    NestedField(3, "amount", LongType()),
)


def orders_rows(start: int, count: int) -> pa.Table:
    return pa.table(
        {
            "id": pa.array(range(start, start + count), pa.int64()),
            "customer": [f"customer {i}" for i in range(start, start + count)],
            "amount": pa.array([i * 10 for i in range(start, start + count)], pa.int64()),
        },
        schema=ORDERS.as_arrow(),
    )


@pytest.fixture
def warehouse(tmp_path: Path) -> dict[str, str]:
    """A SQL catalog `shop` with namespaces sales, crm and crm.archive, some tables with data."""
    (tmp_path / "warehouse").mkdir()
    properties = {
        "type": "sql",
        "uri": f"sqlite:///{tmp_path / 'catalog.db'}",
        "warehouse": (tmp_path / "warehouse").as_uri(),
    }
    catalog = SqlCatalog("shop", **properties)
    catalog.create_namespace("sales")
    catalog.create_namespace("crm")
    catalog.create_namespace(("crm", "archive"))
    orders = catalog.create_table(
        "sales.orders",
        ORDERS,
        properties={"comment": "Every order placed", "owner": "ann@example.com"},
    )
    orders.append(orders_rows(0, 50))
    catalog.create_table(
        "crm.customers", Schema(NestedField(1, "name", StringType(), required=True))
    )
    catalog.create_table(("crm", "archive", "customers_2019"), ORDERS)
    catalog.close()
    return properties


@pytest.fixture
def shop(warehouse: dict[str, str], tmp_path: Path) -> Iterator[IcebergSource]:
    source = open_iceberg("shop", {"properties": warehouse}, home=tmp_path / "home")
    yield source
    source.close()


def reopen(properties: dict[str, str]) -> SqlCatalog:
    return SqlCatalog("shop", **{k: v for k, v in properties.items() if k != "type"})


def test_lists_every_table_with_nested_namespaces_dotted(shop: IcebergSource) -> None:
    names = [ref.name for ref in shop.list_tables()]
    assert names == ["crm.archive.customers_2019", "crm.customers", "sales.orders"]
    assert all(ref.fingerprint for ref in shop.list_tables())


def test_namespaces_option_limits_discovery_to_them_and_their_children(
    warehouse: dict[str, str], tmp_path: Path
) -> None:
    source = open_iceberg("shop", {"properties": warehouse, "namespaces": ["crm"]}, home=tmp_path)
    try:
        assert [ref.name for ref in source.list_tables()] == [
            "crm.archive.customers_2019",
            "crm.customers",
        ]
    finally:
        source.close()


def test_loaded_table_has_columns_description_owner_and_properties(shop: IcebergSource) -> None:
    ref = next(ref for ref in shop.list_tables() if ref.name == "sales.orders")
    table = shop.load_table(ref)
    assert table.name == "sales.orders"
    assert table.kind == "table"
    assert [(c.name, c.type, c.description, c.nullable, c.field_id) for c in table.columns] == [
        ("id", "long", "Order number", False, 1),
        ("customer", "string", "Who ordered", True, 2),
        ("amount", "long", None, True, 3),
    ]
    assert table.description == "Every order placed"
    assert table.owners == (Owner(name="ann@example.com"),)
    assert table.properties["format-version"] == "2"
    assert table.properties["record-count"] == "50"
    assert table.properties["current-snapshot-id"].isdigit()
    assert table.fingerprint == ref.fingerprint


def test_identity_is_the_table_location_and_the_symlink_its_catalog_name(
    shop: IcebergSource, tmp_path: Path
) -> None:
    table = shop.load_table(TableRef("sales.orders"))
    location = tmp_path / "warehouse" / "sales" / "orders"
    # As the Spark integration names a table on a local file system: `file` + its path.
    assert table.identity == Identity(namespace="file", name=str(location))
    assert table.properties["location"] == location.as_uri()
    assert table.symlinks == (
        Identity(namespace=(tmp_path / "warehouse").as_uri(), name="sales.orders"),
    )


def test_location_identity_follows_the_naming_spec_for_object_stores() -> None:
    assert location_identity("s3a://bucket/wh/sales/orders/") == Identity(
        "s3://bucket", "wh/sales/orders"
    )
    assert location_identity("gs://bucket/t") == Identity("gs://bucket", "t")
    assert location_identity("hdfs://nn:8020/wh/t") == Identity("hdfs://nn:8020", "/wh/t")
    assert location_identity("/wh/t") == Identity("file", "/wh/t")


def test_fingerprint_moves_on_append_and_schema_change_only(
    shop: IcebergSource, warehouse: dict[str, str]
) -> None:
    before = {ref.name: ref.fingerprint for ref in shop.list_tables()}
    assert {ref.name: ref.fingerprint for ref in shop.list_tables()} == before

    catalog = reopen(warehouse)
    catalog.load_table("sales.orders").append(orders_rows(50, 5))
    after_append = {ref.name: ref.fingerprint for ref in shop.list_tables()}
    assert after_append["sales.orders"] != before["sales.orders"]
    assert after_append["crm.customers"] == before["crm.customers"]

    with catalog.load_table("crm.customers").update_schema() as update:
        update.add_column("email", StringType(), doc="Where to write")
    catalog.close()
    after_change = {ref.name: ref.fingerprint for ref in shop.list_tables()}
    assert after_change["crm.customers"] != before["crm.customers"]
    assert after_change["sales.orders"] == after_append["sales.orders"]
    customers = shop.load_table(TableRef("crm.customers"))
    assert [c.name for c in customers.columns] == ["name", "email"]
    assert customers.columns[1].description == "Where to write"


def test_sample_reads_at_most_limit_rows_of_the_asked_columns(shop: IcebergSource) -> None:
    rows = shop.sample("sales.orders", ["customer", "amount"], 7)
    assert len(rows) == 7
    assert all(set(row) == {"customer", "amount"} for row in rows)
    assert rows[0]["customer"].startswith("customer ")
    assert shop.sample("crm.customers", ["name"], 10) == []


def test_sample_of_unknown_column_or_table_names_it(shop: IcebergSource) -> None:
    with pytest.raises(InvalidInput, match="nope"):
        shop.sample("sales.orders", ["nope"], 5)
    with pytest.raises(NotFound, match=r"sales\.missing"):
        shop.sample("sales.missing", ["id"], 5)
    with pytest.raises(NotFound, match="missing"):
        shop.load_table(TableRef("missing.table"))


def test_embedded_lake_is_created_on_first_use_and_sees_what_pyiceberg_writes(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    source = open_source("lake", {"type": "iceberg", "embedded": True}, home=home)
    assert isinstance(source, IcebergSource)
    try:
        assert source.list_tables() == []
        assert (home / "lakehouse" / "catalog.db").is_file()
        assert (home / "lakehouse" / "warehouse").is_dir()

        # What docs/sources.md tells a user to do to write into the lake.
        catalog = lake_catalog(home)
        catalog.create_namespace("sales")
        catalog.create_table("sales.orders", ORDERS).append(orders_rows(0, 3))
        catalog.close()

        [ref] = source.list_tables()
        assert ref.name == "sales.orders"
        table = source.load_table(ref)
        assert table.identity == Identity(
            "file", str((home / "lakehouse" / "warehouse" / "sales" / "orders").resolve())
        )
        assert table.symlinks == (
            Identity((home / "lakehouse" / "warehouse").resolve().as_uri(), "sales.orders"),
        )
        assert source.sample("sales.orders", ["id"], 10) == [{"id": 0}, {"id": 1}, {"id": 2}]
    finally:
        source.close()


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({}, "sources.bad.properties"),
        ({"properties": "type=sql"}, "sources.bad.properties"),
        ({"embedded": "yes"}, "sources.bad.embedded"),
        ({"embedded": True, "properties": {"type": "sql"}}, "sources.bad.properties"),
        ({"properties": {"type": "sql"}, "namespaces": "sales"}, "sources.bad.namespaces"),
        ({"properties": {"type": "sql"}, "warehouse": "/tmp"}, "sources.bad.warehouse"),
    ],
)
def test_bad_options_are_a_config_error_naming_the_key(
    options: dict[str, Any], key: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        open_iceberg("bad", options, home=tmp_path)


def test_unknown_catalog_type_is_a_config_error(tmp_path: Path) -> None:
    source = open_iceberg("bad", {"properties": {"type": "nonsense"}}, home=tmp_path)
    with pytest.raises(ConfigError, match=r"sources\.bad\.properties"):
        source.list_tables()


def test_unreachable_catalog_is_a_source_error_naming_the_source(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    source = open_iceberg(
        "remote", {"properties": {"type": "rest", "uri": f"http://127.0.0.1:{port}"}}, home=tmp_path
    )
    with pytest.raises(SourceError, match="source remote"):
        source.list_tables()
    missing = open_iceberg(
        "gone",
        {"properties": {"type": "sql", "uri": f"sqlite:///{tmp_path}/no/such/dir/catalog.db"}},
        home=tmp_path,
    )
    with pytest.raises(SourceError, match="source gone"):
        missing.list_tables()
