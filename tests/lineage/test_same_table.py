"""One table under several names (symlinks) is one dataset in every lineage answer.

Spark names a table by its location with a TABLE symlink to its metastore name; the
Hive hook, Trino and Airflow name it by the metastore name with a LOCATION symlink back.
Walks from either name reach the other's producers and consumers, whatever the order
the events arrive in and whichever side states the symlink.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect as sa_inspect

from tests.lineage.producers import (
    AIRFLOW,
    DBT,
    FLINK,
    HIVE,
    SPARK,
    TRINO,
    field,
    input_field,
    metastore_table,
    run_event,
    spark_table,
    table,
)

METASTORE = "hive://metastore.internal:9083"
LOCATION = "s3://warehouse"
ORDERS_PATH = "/sales.db/orders"
ORDERS = "sales.orders"
FIELDS = [field("id", "int"), field("amount", "decimal(10,2)")]


def send(client: TestClient, *events: dict[str, Any]) -> None:
    for event in events:  # one call each: later calls meet what earlier ones stored
        response = client.post("/api/v1/lineage", content=orjson.dumps(event))
        assert response.status_code == 201, response.text


def graph(client: TestClient, node: str, **params: Any) -> dict[str, Any]:
    response = client.get("/api/v1/lineage", params={"nodeId": node, **params})
    assert response.status_code == 200, response.text
    return response.json()


def columns(client: TestClient, node: str, **params: Any) -> dict[str, Any]:
    response = client.get("/api/v1/column-lineage", params={"nodeId": node, **params})
    assert response.status_code == 200, response.text
    return response.json()


def ids(answer: dict[str, Any]) -> set[str]:
    return {node["id"] for node in answer["graph"]}


def node(answer: dict[str, Any], node_id: str) -> dict[str, Any]:
    return next(n for n in answer["graph"] if n["id"] == node_id)


def spark_writes_orders(*, symlink: bool = True) -> dict[str, Any]:
    """Spark loads raw files into the orders table, named by its location."""
    return run_event(
        SPARK,
        "spark",
        "load_orders",
        inputs=[spark_table("file", "/landing/orders.csv", FIELDS)],
        outputs=[
            spark_table(
                LOCATION,
                ORDERS_PATH,
                FIELDS,
                metastore=(METASTORE, ORDERS) if symlink else None,
            )
        ],
    )


def hive_reads_orders(*, symlink: bool = True) -> dict[str, Any]:
    """A Hive query reads the orders table by its metastore name into a daily summary."""
    return run_event(
        HIVE,
        "default",
        "createtable_as_select.sales.daily",
        inputs=[
            metastore_table(
                HIVE,
                METASTORE,
                ORDERS,
                FIELDS,
                location=(LOCATION, ORDERS_PATH) if symlink else None,
            )
        ],
        outputs=[metastore_table(HIVE, METASTORE, "sales.daily", [field("total", "decimal")])],
    )


SPARK_NAME = f"dataset:{LOCATION}:{ORDERS_PATH}"
HIVE_NAME = f"dataset:{METASTORE}:{ORDERS}"


@pytest.mark.parametrize("arrival", ["producer-first", "consumer-first", "one-batch"])
@pytest.mark.parametrize(
    "stated_by", ["spark", "hive", "both"], ids=["spark-symlink", "hive-symlink", "both-symlinks"]
)
def test_location_and_metastore_name_are_one_dataset(
    client: TestClient, arrival: str, stated_by: str
) -> None:
    spark = spark_writes_orders(symlink=stated_by in ("spark", "both"))
    hive = hive_reads_orders(symlink=stated_by in ("hive", "both"))
    if arrival == "one-batch":  # one transaction; the consumer's event is listed first
        batch = client.post("/api/v1/lineage/batch", content=orjson.dumps([hive, spark]))
        assert batch.status_code == 201, batch.text
    else:
        send(client, *((spark, hive) if arrival == "producer-first" else (hive, spark)))

    # From Hive's name, upstream reaches Spark's job and its input.
    up = graph(client, HIVE_NAME, direction="upstream")
    assert "job:spark:load_orders" in ids(up)
    assert "dataset:file:/landing/orders.csv" in ids(up)
    assert node(up, HIVE_NAME)["sameAs"] == [SPARK_NAME]
    assert node(up, HIVE_NAME)["data"]["sameAs"] == [{"namespace": LOCATION, "name": ORDERS_PATH}]

    # From Spark's name, downstream reaches Hive's job and its output.
    down = graph(client, SPARK_NAME, direction="downstream")
    assert "job:default:createtable_as_select.sales.daily" in ids(down)
    assert f"dataset:{METASTORE}:sales.daily" in ids(down)
    assert node(down, SPARK_NAME)["sameAs"] == [HIVE_NAME]
    # The merged names are one node: neither name appears as a node of its own.
    assert HIVE_NAME not in ids(down)
    assert SPARK_NAME not in ids(up)
    edge = {"origin": "job:spark:load_orders", "destination": HIVE_NAME}
    assert edge in node(up, HIVE_NAME)["inEdges"]


def test_names_that_are_not_symlinked_stay_apart(client: TestClient) -> None:
    send(client, spark_writes_orders(symlink=False), hive_reads_orders(symlink=False))
    up = graph(client, HIVE_NAME, direction="upstream")
    assert ids(up) == {HIVE_NAME}
    assert "sameAs" not in node(up, HIVE_NAME)


def test_a_symlink_to_an_identity_nobody_uses_joins_nothing(client: TestClient) -> None:
    other = run_event(
        SPARK,
        "spark",
        "load_returns",
        outputs=[spark_table(LOCATION, "/sales.db/returns", FIELDS, metastore=(METASTORE, "x.y"))],
    )
    send(client, spark_writes_orders(), other)
    answer = graph(client, SPARK_NAME, direction="both")
    assert node(answer, SPARK_NAME).get("sameAs", []) == []
    assert "job:spark:load_returns" not in ids(answer)


def test_two_locations_symlinked_to_one_table_are_one_dataset(client: TestClient) -> None:
    """A table moved to a new location: both locations name the same metastore table."""
    moved = run_event(
        SPARK,
        "spark",
        "rewrite_orders",
        outputs=[
            spark_table("s3://new-warehouse", ORDERS_PATH, FIELDS, metastore=(METASTORE, ORDERS))
        ],
    )
    reader = run_event(
        SPARK,
        "spark",
        "report",
        inputs=[
            spark_table("s3://new-warehouse", ORDERS_PATH, FIELDS, metastore=(METASTORE, ORDERS))
        ],
    )
    send(client, reader, spark_writes_orders(), moved)
    up = graph(client, "dataset:s3://new-warehouse:/sales.db/orders", direction="upstream")
    assert {"job:spark:load_orders", "job:spark:rewrite_orders"} <= ids(up)


def test_only_a_symlink_names_the_table_and_still_finds_it(client: TestClient) -> None:
    """Nobody sent an event naming `hive://...:sales.orders`, but Spark's symlink does."""
    send(client, spark_writes_orders())
    answer = graph(client, HIVE_NAME, direction="upstream")
    assert answer["graph"][0]["id"] == SPARK_NAME
    assert "job:spark:load_orders" in ids(answer)


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 1, 0), (1, 2, 0)])
def test_symlinks_join_transitively_in_any_order(
    client: TestClient, order: tuple[int, ...]
) -> None:
    """Airflow names a Glue table; Spark writes its S3 location (TABLE symlink to the Glue
    name); Trino reads the metastore name with a LOCATION symlink to the S3 path."""
    glue = "arn:aws:glue:us-east-1:123456789012"
    airflow = run_event(
        AIRFLOW,
        "airflow",
        "orders_dag.export",
        inputs=[metastore_table(AIRFLOW, glue, "table/sales/orders", FIELDS)],
        outputs=[table(AIRFLOW, "s3://exports", "/orders.parquet", FIELDS)],
    )
    spark = run_event(
        SPARK,
        "spark",
        "load_orders",
        inputs=[spark_table("file", "/landing/orders.csv", FIELDS)],
        outputs=[
            spark_table(
                "s3://lake", "/sales/orders", FIELDS, metastore=(glue, "table/sales/orders")
            )
        ],
    )
    trino = run_event(
        TRINO,
        "trino://trino.internal:8080",
        "query_20240501_1",
        inputs=[
            metastore_table(
                TRINO, METASTORE, ORDERS, FIELDS, location=("s3://lake", "/sales/orders")
            )
        ],
        outputs=[metastore_table(TRINO, METASTORE, "sales.top", FIELDS)],
    )
    events = [airflow, spark, trino]
    send(client, *(events[i] for i in order))
    up = graph(client, f"dataset:{METASTORE}:sales.top", direction="upstream")
    assert "job:spark:load_orders" in ids(up)
    down = graph(client, f"dataset:{glue}:table/sales/orders", direction="downstream")
    assert {
        "job:airflow:orders_dag.export",
        "job:trino://trino.internal:8080:query_20240501_1",
    } <= ids(down)
    merged = set(node(down, f"dataset:{glue}:table/sales/orders")["sameAs"])
    assert merged == {"dataset:s3://lake:/sales/orders", HIVE_NAME}


@pytest.mark.parametrize("producer_first", [True, False], ids=["producer-first", "consumer-first"])
def test_column_lineage_crosses_the_names_of_one_table(
    client: TestClient, producer_first: bool
) -> None:
    spark = run_event(
        SPARK,
        "spark",
        "load_orders",
        inputs=[spark_table("file", "/landing/orders.csv", FIELDS)],
        outputs=[
            spark_table(
                LOCATION,
                ORDERS_PATH,
                FIELDS,
                metastore=(METASTORE, ORDERS),
                column_lineage={
                    "fields": {
                        "amount": {
                            "inputFields": [input_field("file", "/landing/orders.csv", "amount")]
                        }
                    }
                },
            )
        ],
    )
    hive = run_event(
        HIVE,
        "default",
        "createtable_as_select.sales.daily",
        inputs=[metastore_table(HIVE, METASTORE, ORDERS, FIELDS)],
        outputs=[
            metastore_table(
                HIVE,
                METASTORE,
                "sales.daily",
                [field("total", "decimal")],
                column_lineage={
                    "fields": {"total": {"inputFields": [input_field(METASTORE, ORDERS, "amount")]}}
                },
            )
        ],
    )
    send(client, *((spark, hive) if producer_first else (hive, spark)))
    total = f"datasetField:{METASTORE}:sales.daily:total"
    up = ids(columns(client, total, direction="upstream"))
    assert "datasetField:file:/landing/orders.csv:amount" in up
    down = ids(
        columns(client, "datasetField:file:/landing/orders.csv:amount", direction="downstream")
    )
    assert total in down
    # Asked by the name only Hive used, the field reaches Spark's input too.
    hive_amount = columns(client, f"datasetField:{METASTORE}:{ORDERS}:amount", direction="upstream")
    assert "datasetField:file:/landing/orders.csv:amount" in ids(hive_amount)
    assert hive_amount["graph"][0]["data"]["sameAs"] == [
        {"namespace": LOCATION, "name": ORDERS_PATH}
    ]


def test_flink_kafka_to_iceberg_joins_the_catalog_name_a_reader_uses(client: TestClient) -> None:
    """Flink reads a Kafka topic (TABLE symlink to its Flink catalog name) and writes an
    Iceberg table by its location; dbt-ol, via Trino, reads it by catalog name with a
    LOCATION symlink."""
    flink = run_event(
        FLINK,
        "flink-jobs",
        "insert-into_iceberg.db.orders",
        processing="STREAMING",
        event_type="RUNNING",
        inputs=[
            table(
                FLINK,
                "kafka://kafka-cluster-prod:9092",
                "orders",
                FIELDS,
                symlinks=[
                    (
                        "kafka://kafka-cluster-prod:9092",
                        "default_catalog.default_database.orders",
                        "TABLE",
                    )
                ],
            )
        ],
        outputs=[table(FLINK, "file", "/tmp/warehouse/db/orders", FIELDS)],
    )
    dbt = run_event(
        DBT,
        "dbt",
        "shop.model.shop.daily",
        inputs=[
            metastore_table(
                DBT,
                "trino://trino.internal:8080",
                "iceberg.db.orders",
                FIELDS,
                location=("file", "/tmp/warehouse/db/orders"),
            )
        ],
        outputs=[table(DBT, "trino://trino.internal:8080", "iceberg.db.daily", FIELDS)],
    )
    send(client, dbt, flink)
    up = graph(client, "dataset:trino://trino.internal:8080:iceberg.db.daily", direction="upstream")
    assert "dataset:kafka://kafka-cluster-prod:9092:orders" in ids(up)
    assert "job:flink-jobs:insert-into_iceberg.db.orders" in ids(up)


def test_a_dataset_event_symlink_joins_too(client: TestClient) -> None:
    """A DatasetEvent (what catalog sync sends) stating a symlink joins the names."""
    send(client, hive_reads_orders(symlink=False))
    event = {
        "eventTime": "2024-05-02T00:00:00Z",
        "producer": SPARK,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
        "dataset": spark_table(LOCATION, ORDERS_PATH, FIELDS, metastore=(METASTORE, ORDERS)),
    }
    send(client, event, spark_writes_orders(symlink=False))
    up = graph(client, HIVE_NAME, direction="upstream")
    assert "job:spark:load_orders" in ids(up)


@pytest.mark.parametrize("sync_first", [True, False], ids=["sync-first", "events-first"])
def test_catalog_sync_symlink_joins_names_events_used(
    steward: Any, client: TestClient, sync_first: bool
) -> None:
    """Flink writes an Iceberg table by its location, Trino reads it by the catalog's name;
    neither states a symlink, the catalog source does (location -> catalog name)."""
    from pyiceberg.schema import Schema
    from pyiceberg.types import LongType, NestedField

    from steward.connectors.iceberg import lake_catalog

    catalog = lake_catalog(steward.settings.home)
    catalog.create_namespace("crm")
    created = catalog.create_table("crm.orders", Schema(NestedField(1, "id", LongType())))
    warehouse = str(catalog.properties["warehouse"]).rstrip("/")
    location = created.location().removeprefix("file://")
    flink = run_event(
        FLINK,
        "flink-jobs",
        "insert-into_lake.crm.orders",
        processing="STREAMING",
        inputs=[table(FLINK, "kafka://kafka:9092", "orders", FIELDS)],
        outputs=[table(FLINK, "file", location, FIELDS)],
    )
    trino = run_event(
        TRINO,
        "trino://trino:8080",
        "query_1",
        inputs=[table(TRINO, warehouse, "crm.orders", FIELDS)],
        outputs=[table(TRINO, "trino://trino:8080", "lake.crm.report", FIELDS)],
    )

    def sync() -> None:
        assert client.post("/api/v1/sources/lake/sync").status_code == 200

    if sync_first:
        sync()
        send(client, flink, trino)
    else:
        send(client, flink, trino)
        sync()
    page = client.get("/api/v1/datasets/lake.crm.orders").json()
    # The catalog page knows the other name, and the neighbours stated under it.
    assert f"dataset:{warehouse}:crm.orders" in [page["nodeId"], *page["sameAs"]]
    assert len(page["sameAs"]) == 1
    downstream = [n["nodeId"] for n in page["downstream"]]
    assert downstream == ["dataset:trino://trino:8080:lake.crm.report"]
    assert [n["nodeId"] for n in page["upstream"]] == ["dataset:kafka://kafka:9092:orders"]
    down = graph(client, page["nodeId"], direction="downstream")
    assert "job:trino://trino:8080:query_1" in ids(down)
    up = graph(client, "dataset:trino://trino:8080:lake.crm.report", direction="upstream")
    assert "job:flink-jobs:insert-into_lake.crm.orders" in ids(up)
    assert "dataset:kafka://kafka:9092:orders" in ids(up)


def test_migration_groups_the_symlinks_already_stored(steward: Any, client: TestClient) -> None:
    """Symlinks stored before migration 0011 join their names once it runs."""
    from alembic import command

    from steward.store.database import alembic_config

    glue = "arn:aws:glue:us-east-1:123456789012"
    spark = spark_writes_orders()  # location -> hive name, named by Hive below
    moved = run_event(
        SPARK,
        "spark",
        "copy_orders",
        outputs=[spark_table("s3://copy", "/orders", FIELDS, metastore=(glue, "table/a/b"))],
    )
    shared = run_event(
        SPARK,
        "spark",
        "read_copy",
        inputs=[spark_table("s3://copy2", "/orders", FIELDS, metastore=(glue, "table/a/b"))],
    )
    send(client, spark, hive_reads_orders(symlink=False), moved, shared)
    engine = steward.store.engine
    url = engine.url.render_as_string(hide_password=False)
    for target in ("0010", "head"):
        with engine.begin() as conn:
            config = alembic_config(url)
            config.attributes["connection"] = conn
            if target == "head":
                command.upgrade(config, target)
            else:
                command.downgrade(config, target)
                assert not sa_inspect(conn).has_table("dataset_aliases")
    up = graph(client, HIVE_NAME, direction="upstream")
    assert "job:spark:load_orders" in ids(up)
    down = graph(client, "dataset:s3://copy:/orders", direction="downstream")
    assert "job:spark:read_copy" in ids(down)
