"""Two catalog sources that see one table, and a dbt table whose identity was derived wrongly.

A dbt project (artifacts only: no dbt run is needed to read them) and the PostgreSQL
warehouse it builds into name the same relation, `postgres://{host}:{port}` +
`{database}.sales.orders`: the catalog makes one dataset that lists both sources,
each fact from its authority, whichever synced first.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from steward.app import Steward
from steward.catalog.edits import DatasetEdit, OwnerSpec, edit_dataset
from steward.catalog.models import DiscoveredTable, Identity, Source, TableRef
from steward.catalog.views import dataset_page
from steward.connectors.databases import DatabaseSource, open_database
from steward.connectors.dbt import DbtSource, open_dbt
from steward.errors import Conflict, SamplingUnsupported
from steward.identity.models import Principal
from steward.lineage.nodes import node_id
from steward.schema.catalog_sync import sync_source
from steward.store.schema import catalog_entries, catalog_entry_sources
from tests.postgres import find_server

ADMIN = Principal(user="root", is_admin=True)


@pytest.fixture(scope="module")
def postgres_admin() -> Iterator[str]:
    url, server, reason = find_server()
    if url is None:
        pytest.skip(reason)
    yield url
    if server is not None:
        server.stop()


@pytest.fixture
def warehouse(postgres_admin: str) -> Iterator[DatabaseSource]:
    """A PostgreSQL database of its own holding `sales.orders`, as the source `warehouse`."""
    name = f"steward_wh_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(postgres_admin, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(postgres_admin).set(database=name).render_as_string(False)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE SCHEMA sales"))
        conn.execute(
            sa.text(
                "CREATE TABLE sales.orders (id INTEGER PRIMARY KEY, amount DECIMAL(10, 2),"
                " email VARCHAR(200))"
            )
        )
        conn.execute(sa.text("COMMENT ON TABLE sales.orders IS 'orders table'"))
        conn.execute(sa.text("COMMENT ON COLUMN sales.orders.amount IS 'amount column'"))
    engine.dispose()
    source = open_database("warehouse", {"url": url})
    yield source
    source.close()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def dbt_project(root: Path, warehouse: DatabaseSource) -> Path:
    """A dbt project's artifacts: the model `orders` built into the warehouse's database.

    Its profile takes the host from `{{ env_var('WH_HOST') }}`: set to the warehouse's
    host, the dbt source names the relation as the warehouse's own source does.
    """
    url = warehouse.url
    database = url.database
    model = {
        "unique_id": "model.shop.orders",
        "resource_type": "model",
        "name": "orders",
        "database": database,
        "schema": "sales",
        "alias": "orders",
        "description": "Every order placed, one row each",
        "columns": {
            "id": {"name": "id", "description": "The order number"},
            "amount": {"name": "amount", "description": "In euros, taxes included"},
        },
        "config": {"materialized": "table", "meta": {"owner": "ann"}},
        "tags": ["finance"],
        "depends_on": {"nodes": []},
        "compiled_code": "select 1 as id",
    }
    test = {
        "unique_id": "test.shop.not_null_orders_id",
        "resource_type": "test",
        "name": "not_null_orders_id",
        "attached_node": "model.shop.orders",
        "column_name": "id",
        "test_metadata": {"name": "not_null", "kwargs": {"column_name": "id"}},
        "depends_on": {"nodes": ["model.shop.orders"]},
        "config": {},
    }
    manifest = {
        "metadata": {"project_name": "shop", "adapter_type": "postgres"},
        "nodes": {n["unique_id"]: n for n in (model, test)},
    }
    catalog = {
        "nodes": {
            "model.shop.orders": {
                "columns": {
                    "id": {"name": "id", "type": "INTEGER", "index": 1},
                    "amount": {"name": "amount", "type": "NUMERIC", "index": 2},
                    "email": {"name": "email", "type": "TEXT", "index": 3},
                }
            }
        }
    }
    project = root / "shop"
    target = project / "target"
    target.mkdir(parents=True)
    (target / "manifest.json").write_text(json.dumps(manifest))
    (target / "catalog.json").write_text(json.dumps(catalog))
    (project / "dbt_project.yml").write_text("name: shop\nprofile: shop\n")
    (project / "profiles.yml").write_text(
        "shop:\n  target: prod\n  outputs:\n"
        "    prod: {type: postgres, host: \"{{ env_var('WH_HOST') }}\","
        f" port: {url.port or 5432}, dbname: {database}}}\n"
    )
    return target


def open_shop(target: Path) -> DbtSource:
    """The dbt source `shop` as a fresh `steward catalog sync` run opens it."""
    return open_dbt("shop", {"target": str(target)}, home=target.parent)


def page(steward: Steward, ref: str) -> dict[str, Any]:
    with steward.store.read() as conn:
        return dataset_page(conn, ref)


def run(steward: Steward, *sources: Source) -> None:
    for source in sources:
        sync_source(steward.store, source, actor=ADMIN)


@pytest.mark.parametrize("first", ["dbt", "warehouse"])
def test_dbt_and_its_warehouse_stating_one_relation_make_one_dataset_listing_both(
    steward: Steward,
    warehouse: DatabaseSource,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    first: str,
) -> None:
    host = warehouse.url.host or "localhost"
    monkeypatch.setenv("WH_HOST", host)
    shop = open_shop(dbt_project(tmp_path, warehouse))
    order = [shop, warehouse] if first == "dbt" else [warehouse, shop]
    run(steward, *order)

    view = page(steward, "warehouse.sales.orders")
    assert page(steward, "shop.sales.orders")["nodeId"] == view["nodeId"]
    assert view["nodeId"] == node_id(
        "dataset",
        f"postgres://{host}:{warehouse.url.port or 5432}",
        f"{warehouse.url.database}.sales.orders",
    )
    assert [(s["source"], s["type"], s["name"]) for s in view["sources"]] == [
        ("shop", "dbt", "shop.sales.orders"),
        ("warehouse", "sqlalchemy", "warehouse.sales.orders"),
    ]
    stated = {s["source"]: s for s in view["sources"]}
    assert stated["shop"]["description"] == "Every order placed, one row each"
    assert stated["warehouse"]["description"] == "orders table"
    assert [o["name"] for o in stated["shop"]["owners"]] == ["ann"]
    assert stated["shop"]["tags"] == ["finance"]
    assert (stated["warehouse"]["owners"], stated["warehouse"]["tags"]) == ([], [])
    # The warehouse for the name shown, columns and types; dbt for descriptions, owners, tests.
    assert view["name"] == "warehouse.sales.orders"
    assert view["source"] == "warehouse"
    assert [(c["name"], c["type"]) for c in view["columns"]] == [
        (c["name"], c["type"]) for c in stated["warehouse"]["columns"]
    ]
    assert [c["type"] for c in view["columns"]] != ["INTEGER", "NUMERIC", "TEXT"]
    assert view["description"] == {"text": "Every order placed, one row each", "origin": "source"}
    described = {c["name"]: (c["description"] or {}).get("text") for c in view["columns"]}
    assert described == {
        "id": "The order number",
        "amount": "In euros, taxes included",
        "email": None,
    }
    assert [(o["name"], o["origin"]) for o in view["owners"]] == [("ann", "source")]
    assert [t["tag"] for t in view["tags"]] == ["finance"]
    id_column = next(c for c in view["columns"] if c["name"] == "id")
    assert [t["name"] for t in id_column["tests"]] == ["not_null"]
    with steward.store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(catalog_entries)).scalar() == 1
        assert (
            conn.execute(sa.select(sa.func.count()).select_from(catalog_entry_sources)).scalar()
            == 2
        )

    # Syncing both again (the warehouse changed) keeps one dataset and the same answer.
    engine = sa.create_engine(warehouse.url)
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE sales.orders ADD COLUMN note TEXT"))
    engine.dispose()
    run(steward, *reversed(order))
    again = page(steward, "shop.sales.orders")
    assert [c["name"] for c in again["columns"]] == ["id", "amount", "email", "note"]
    assert again["description"] == view["description"]
    assert len(again["sources"]) == 2


def test_the_same_facts_whichever_source_synced_first(
    steward: Steward, warehouse: DatabaseSource, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both orders on one store, each on a dataset of its own namespace, answer alike."""
    host = warehouse.url.host or "localhost"
    monkeypatch.setenv("WH_HOST", host)
    target = dbt_project(tmp_path, warehouse)
    run(steward, open_shop(target), warehouse)
    first = page(steward, "warehouse.sales.orders")
    # The other order: forget the catalog's entries, then sync warehouse first.
    with steward.store.write() as conn:
        conn.execute(catalog_entries.delete())
        conn.execute(catalog_entry_sources.delete())
    run(steward, warehouse, open_shop(target))
    second = page(steward, "warehouse.sales.orders")
    keys = ("name", "source", "kind", "description", "columns", "owners", "tags", "sources")
    assert {k: first[k] for k in keys if k != "sources"} == {
        k: second[k] for k in keys if k != "sources"
    }
    assert [s["name"] for s in first["sources"]] == [s["name"] for s in second["sources"]]


def test_one_source_dropping_the_table_leaves_it_live_through_the_other(
    steward: Steward, warehouse: DatabaseSource, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = warehouse.url.host or "localhost"
    monkeypatch.setenv("WH_HOST", host)
    target = dbt_project(tmp_path, warehouse)
    run(steward, open_shop(target), warehouse)
    manifest = json.loads((target / "manifest.json").read_text())
    manifest["nodes"] = {}
    (target / "manifest.json").write_text(json.dumps(manifest))
    run(steward, open_shop(target))
    view = page(steward, "warehouse.sales.orders")
    assert view["deleted"] is False
    assert {s["source"]: s["deleted"] for s in view["sources"]} == {
        "shop": True,
        "warehouse": False,
    }
    # Now without dbt's statement: the warehouse's comment is the description.
    assert view["description"] == {"text": "orders table", "origin": "source"}


def test_an_env_var_unset_on_the_first_sync_is_corrected_by_the_next(
    steward: Steward, warehouse: DatabaseSource, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = warehouse.url.host or "localhost"
    target = dbt_project(tmp_path, warehouse)
    monkeypatch.delenv("WH_HOST", raising=False)
    first = open_shop(target)
    run(steward, first)
    assert first.namespace == "postgres"  # the adapter type: not the warehouse's name
    wrong = page(steward, "shop.sales.orders")
    assert wrong["namespace"] == "postgres"
    # People annotate the dataset while it has the wrong identity.
    edit = DatasetEdit(
        description="Orders, as finance reads them", addOwners=[OwnerSpec(name="bo")]
    )
    edit_dataset(steward.store, "shop.sales.orders", edit, ADMIN)

    monkeypatch.setenv("WH_HOST", host)
    run(steward, warehouse, open_shop(target))
    right = page(steward, "shop.sales.orders")
    assert right["namespace"] == f"postgres://{host}:{warehouse.url.port or 5432}"
    assert right["nodeId"] == page(steward, "warehouse.sales.orders")["nodeId"]
    assert [s["source"] for s in right["sources"]] == ["shop", "warehouse"]
    # What people wrote followed the entry.
    assert right["description"]["text"] == "Orders, as finance reads them"
    assert right["description"]["origin"] == "human"
    assert ("bo", "human") in [(o["name"], o["origin"]) for o in right["owners"]]
    # The wrongly named dataset is no source's any more: no catalog entry, marked deleted.
    stale = page(steward, wrong["nodeId"])
    assert stale["name"] is None
    assert stale["sources"] == []
    assert stale["deleted"] is True
    assert ("bo", "human") not in [(o["name"], o["origin"]) for o in stale["owners"]]
    with steward.store.read() as conn:
        names = conn.execute(sa.select(catalog_entries.c.name)).scalars().all()
        assert sorted(names) == ["warehouse.sales.orders"]


def test_both_sources_syncing_at_once_make_one_dataset(
    steward: Steward, warehouse: DatabaseSource, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two syncs started together end in one dataset stating both sources.

    (Here they rarely collide on the same row; when they do on PostgreSQL, the loser's
    batch is written again, see `catalog.sync._write_tables`.)
    """
    import threading

    host = warehouse.url.host or "localhost"
    monkeypatch.setenv("WH_HOST", host)
    shop = open_shop(dbt_project(tmp_path, warehouse))
    failures: list[BaseException] = []
    start = threading.Barrier(2)

    def sync_one(source: Source) -> None:
        try:
            start.wait()
            run(steward, source)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=sync_one, args=(s,)) for s in (shop, warehouse)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    view = page(steward, "shop.sales.orders")
    assert [s["source"] for s in view["sources"]] == ["shop", "warehouse"]
    assert view["name"] == "warehouse.sales.orders"


class TwoNamesOneTable:
    """A source listing two tables under one identity.

    dbt and the database connectors cannot state this (dbt keeps one node a relation,
    a database one table a name), but a hand-written connector can: the sync must
    refuse it by naming the dataset, not fail on a unique key.
    """

    name = "handmade"
    type = "sqlalchemy"

    def list_tables(self) -> list[TableRef]:
        return [TableRef("sales.orders", "1"), TableRef("sales.orders_copy", "1")]

    def load_table(self, ref: TableRef) -> DiscoveredTable:
        return DiscoveredTable(ref.name, "table", Identity("postgres://wh:5432", "db.sales.orders"))

    def sample(self, name: str, columns: Sequence[str], limit: int) -> list[dict[str, Any]]:
        raise SamplingUnsupported("handmade: no rows")

    def close(self) -> None:
        pass


def test_two_tables_of_one_source_naming_one_dataset_is_a_conflict_naming_it(
    steward: Steward,
) -> None:
    with pytest.raises(
        Conflict,
        match=r"sales.orders and sales.orders_copy both name the dataset"
        r" postgres://wh:5432/db\.sales\.orders",
    ):
        run(steward, TwoNamesOneTable())
    assert Conflict.http_status == 409
    with steward.store.read() as conn:
        assert (
            conn.execute(sa.select(sa.func.count()).select_from(catalog_entry_sources)).scalar()
            == 0
        )


def test_entries_synced_before_migration_0013_become_their_sources_statements(
    tmp_path: Path,
) -> None:
    from datetime import datetime

    from alembic import command

    from steward.config import Settings
    from steward.store.database import alembic_config

    steward = Steward(Settings(home=tmp_path / "home"))
    config = alembic_config(steward.store.engine.url.render_as_string(hide_password=False))
    with steward.store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0010")
    old = sa.MetaData()
    tables = {
        name: sa.Table(name, old, autoload_with=steward.store.engine)
        for name in (
            "namespaces",
            "datasets",
            "catalog_entries",
            "catalog_sources",
            "catalog_tests",
        )
    }
    when = datetime(2026, 1, 2, 3, 4, 5)
    with steward.store.engine.begin() as conn:
        conn.execute(
            tables["namespaces"].insert().values(id=1, name="postgres://wh:5432", created_at=when)
        )
        conn.execute(
            tables["datasets"]
            .insert()
            .values(
                id=7,
                namespace_id=1,
                name="db.sales.orders",
                created_at=when,
                updated_at=when,
                facets={},
            )
        )
        conn.execute(
            tables["catalog_sources"]
            .insert()
            .values(name="warehouse", type="sqlalchemy", synced_at=when, tables=1)
        )
        conn.execute(
            tables["catalog_entries"]
            .insert()
            .values(
                dataset_id=7,
                source="warehouse",
                name="warehouse.sales.orders",
                kind="table",
                fingerprint="abc",
                properties={},
                stated={"description": "orders table", "columns": [], "symlinks": []},
                first_seen_at=when,
                synced_at=when,
            )
        )
        conn.execute(
            tables["catalog_tests"].insert().values(dataset_id=7, field="", name="not_null")
        )
    steward.upgrade()
    view = page(steward, "warehouse.sales.orders")
    assert [(s["source"], s["type"], s["name"], s["description"]) for s in view["sources"]] == [
        ("warehouse", "sqlalchemy", "warehouse.sales.orders", "orders table")
    ]
    with steward.store.read() as conn:
        fingerprint = conn.execute(sa.select(catalog_entry_sources.c.fingerprint)).scalar()
        tested_by = conn.execute(sa.text("SELECT source FROM catalog_tests")).scalar()
    assert (fingerprint, tested_by) == ("abc", "warehouse")
    steward.close()


def test_a_rule_naming_the_table_by_the_other_sources_name_is_warned_of(
    steward: Steward, warehouse: DatabaseSource, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The catalog shows the warehouse's name; a mask written with dbt's name masks nothing,
    and `policy validate` says so, naming the name to use."""
    from steward.policy.drift import validation_warnings
    from steward.policy.load import load

    monkeypatch.setenv("WH_HOST", warehouse.url.host or "localhost")
    run(steward, open_shop(dbt_project(tmp_path, warehouse)), warehouse)
    policy = load(
        {
            "policy.yaml": "roles: {analyst: {groups: [analysts]}}\n"
            "grants: [{roles: [analyst], select: [shop.sales.orders, warehouse.sales.*]}]\n"
            "masks: [{columns: [shop.sales.orders.email, tag:pii.email], mask: redact}]\n"
        }
    ).policy
    warnings = validation_warnings(steward.store, policy)
    renamed = [w for w in warnings if "which the catalog shows as" in w]
    assert renamed == [
        "grants[0] names shop.sales.orders, which the catalog shows as warehouse.sales.orders"
        " (two sources state it): the rule applies to nothing until it names"
        " warehouse.sales.orders",
        "masks[0] names shop.sales.orders, which the catalog shows as warehouse.sales.orders"
        " (two sources state it): the rule applies to nothing until it names"
        " warehouse.sales.orders",
    ]
