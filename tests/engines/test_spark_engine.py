"""The Spark engine on a real Spark: Iceberg files by field id, limits, errors, isolation.

Run against the session's Spark Connect server (`spark_remote`), and the Iceberg read
also on a local session (`local[2]`), the two ways a deployment reaches Spark.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from steward.engines.base import (
    EngineUnsupported,
    Limits,
    NativeTable,
    ParquetTable,
    QueryFailed,
    QueryTimeout,
    ResultTooLarge,
)
from steward.engines.iceberg_files import plan_iceberg
from steward.engines.spark import SparkEngine
from steward.errors import ConfigError, InvalidInput

# A cold Spark (the session's first statements load and compile much) on a busy machine
# takes tens of seconds: the limits here are wide, and so is the time each test may take.
pytestmark = [pytest.mark.spark, pytest.mark.timeout(300)]
WIDE = Limits(timeout_seconds=200, max_result_bytes=100_000)

TABLE = "__steward_t"


@pytest.fixture(scope="module")
def engine(spark_remote: str) -> Iterator[SparkEngine]:
    spark = SparkEngine(spark_remote, limits=WIDE)
    yield spark
    spark.close()


def evolved_table(tmp_path: Path) -> Any:
    """An Iceberg table written with pyiceberg, then renamed, widened, and written again.

    `id` int -> long and `name` -> `label`; `score` added after the first file.
    """
    from pyiceberg.catalog.sql import SqlCatalog
    from pyiceberg.types import LongType

    catalog = SqlCatalog("t", uri=f"sqlite:///{tmp_path}/c.db", warehouse=f"file://{tmp_path}")
    catalog.create_namespace("shop")
    table = catalog.create_table(
        "shop.people", schema=pa.schema([("id", pa.int32()), ("name", pa.string())])
    )
    table.append(pa.table({"id": pa.array([1, 2], pa.int32()), "name": ["ada", "bob"]}))
    with table.update_schema() as update:
        update.rename_column("name", "label")
        update.update_column("id", LongType())
        update.add_column("score", LongType())
    table = catalog.load_table("shop.people")
    big = 2**40  # only a long holds it: the widened column is read as long
    table.append(
        pa.table(
            {
                "id": pa.array([big], pa.int64()),
                "label": ["cleo"],
                "score": pa.array([7], pa.int64()),
            }
        )
    )
    return catalog.load_table("shop.people")


@pytest.mark.parametrize("where", ["connect", "local"])
def test_renamed_and_widened_iceberg_columns_read_right_on_spark(
    where: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    remote = request.getfixturevalue("spark_remote" if where == "connect" else "spark_local")
    data = plan_iceberg(evolved_table(tmp_path), name="lake.shop.people")
    spark = SparkEngine(remote, limits=WIDE)
    try:
        rows = spark.run(
            {TABLE: data}, f"SELECT id, label, score FROM `{TABLE}` ORDER BY id", limit=10
        )
        typed = spark.open({TABLE: data}).schema(TABLE)
    finally:
        spark.close()
    assert rows.columns == ["id", "label", "score"]
    assert rows.rows == [(1, "ada", None), (2, "bob", None), (2**40, "cleo", 7)]
    assert typed == [("id", "bigint"), ("label", "string"), ("score", "bigint")]


def test_partition_directories_do_not_become_columns(engine: SparkEngine, tmp_path: Path) -> None:
    from pyiceberg.catalog.sql import SqlCatalog

    catalog = SqlCatalog("t", uri=f"sqlite:///{tmp_path}/c.db", warehouse=f"file://{tmp_path}")
    catalog.create_namespace("crm")
    table = catalog.create_table(
        "crm.people", schema=pa.schema([("id", pa.int64()), ("region", pa.string())])
    )
    with table.update_spec() as spec:
        spec.add_identity("region")
    table = catalog.load_table("crm.people")
    table.append(pa.table({"id": pa.array([1, 2, 3], pa.int64()), "region": ["EU", "US", "EU"]}))
    data = plan_iceberg(catalog.load_table("crm.people"), name="lake.crm.people")
    assert any("region=EU" in f for f in data.files)

    rows = engine.run({TABLE: data}, f"SELECT * FROM `{TABLE}` ORDER BY id", limit=10)

    assert rows.columns == ["id", "region"]
    assert rows.rows == [(1, "EU"), (2, "US"), (3, "EU")]


def people(tmp_path: Path) -> ParquetTable:
    import pyarrow.parquet as pq

    table = pa.table(
        {"id": pa.array(range(50), pa.int64()), "email": [f"p{i}@x.io" for i in range(50)]}
    )
    pq.write_table(table, tmp_path / "people.parquet")
    return ParquetTable(
        files=(str(tmp_path / "people.parquet"),), schema=table.schema, columns=("id", "email")
    )


def test_rows_past_the_limit_are_cut_and_said_so(engine: SparkEngine, tmp_path: Path) -> None:
    rows = engine.run({TABLE: people(tmp_path)}, f"SELECT id FROM `{TABLE}` ORDER BY id", limit=5)

    assert rows.rows == [(i,) for i in range(5)]
    assert rows.truncated


def test_a_result_over_the_byte_limit_is_refused(engine: SparkEngine, tmp_path: Path) -> None:
    with pytest.raises(ResultTooLarge, match="larger than 100000 bytes"):
        engine.run(
            {TABLE: people(tmp_path)}, f"SELECT repeat(email, 500) FROM `{TABLE}`", limit=1000
        )


def test_a_statement_past_the_time_limit_is_cancelled(spark_remote: str) -> None:
    spark = SparkEngine(spark_remote, limits=Limits(timeout_seconds=2))
    try:
        with pytest.raises(QueryTimeout, match="longer than 2 s"):
            spark.run({}, "SELECT count(*) FROM range(0, 100000000000)", limit=10)
    finally:
        spark.close()
    # The server still answers after the cancel.
    again = SparkEngine(spark_remote, limits=WIDE)
    try:
        assert again.run({}, "SELECT 1 AS one", limit=10).rows == [(1,)]
    finally:
        again.close()


def test_binding_errors_name_the_callers_table_and_value_errors_are_withheld(
    engine: SparkEngine, tmp_path: Path
) -> None:
    data = {TABLE: people(tmp_path)}
    with pytest.raises(InvalidInput, match="`nope` cannot be resolved") as bound:
        engine.run(data, f"SELECT nope FROM `{TABLE}`", limit=10, names={TABLE: "lake.crm.people"})
    assert TABLE not in str(bound.value)
    assert "_pyspark" not in str(bound.value)

    with pytest.raises(QueryFailed) as failed:
        engine.run(data, f"SELECT CAST(email AS INT) FROM `{TABLE}`", limit=10)
    assert "@x.io" not in str(failed.value)
    assert failed.value.error_class == "CAST_INVALID_INPUT"


def test_a_statement_cannot_read_a_file_by_path(engine: SparkEngine) -> None:
    with pytest.raises(InvalidInput):
        engine.run({}, "SELECT * FROM parquet.`/etc/passwd`", limit=10)


def test_tables_are_bound_to_one_statement_and_left_nowhere(
    engine: SparkEngine, tmp_path: Path
) -> None:
    engine.run({TABLE: people(tmp_path)}, f"SELECT count(*) FROM `{TABLE}`", limit=1)

    with pytest.raises(InvalidInput, match="TABLE_OR_VIEW_NOT_FOUND"):
        engine.run({}, f"SELECT count(*) FROM `{TABLE}`", limit=1)
    assert engine.session.catalog.listTables() == []


def test_braces_in_a_statement_are_text_not_placeholders(
    engine: SparkEngine, tmp_path: Path
) -> None:
    rows = engine.run(
        {TABLE: people(tmp_path)},
        f"SELECT '{{0}} {{id}}' AS text, id FROM `{TABLE}` AS t WHERE t.id = 3",
        limit=10,
    )
    assert rows.rows == [("{0} {id}", 3)]


def test_a_database_table_is_refused_with_the_reason(engine: SparkEngine) -> None:
    native = NativeTable(backend="duckdb", location="/tmp/x.duckdb", schema="main", table="t")
    with pytest.raises(EngineUnsupported, match=r"lake\.db\.t: a duckdb table"):
        engine.run({TABLE: native}, f"SELECT * FROM `{TABLE}`", limit=1, names={TABLE: "lake.db.t"})


def test_every_allowed_function_exists_on_spark_and_none_reaches_outside(
    engine: SparkEngine,
) -> None:
    listed = {str(r[0]) for r in engine.session.sql("SHOW FUNCTIONS").collect()}
    allowed = engine.allowed_functions()

    assert allowed <= listed
    for name in ("reflect", "java_method", "input_file_name", "current_user", "raise_error"):
        assert name in listed
        assert name not in allowed


def test_a_remote_that_is_not_spark_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="spark_remote"):
        SparkEngine("http://127.0.0.1:15002")


def test_files_added_without_field_ids_read_by_the_name_mapping(
    engine: SparkEngine, tmp_path: Path
) -> None:
    import pyarrow.parquet as pq
    from pyiceberg.catalog.sql import SqlCatalog

    catalog = SqlCatalog("t", uri=f"sqlite:///{tmp_path}/c.db", warehouse=f"file://{tmp_path}")
    catalog.create_namespace("shop")
    paths = []
    for part in range(2):
        path = tmp_path / f"orders-{part}.parquet"
        rows = pa.table(
            {"id": pa.array([part * 10 + 1, part * 10 + 2], pa.int64()), "who": ["a", "b"]}
        )
        pq.write_table(rows, path)
        paths.append(str(path))
    table = catalog.create_table("shop.orders", schema=pq.read_schema(paths[0]))
    table.add_files(paths)
    with table.update_schema() as update:
        update.rename_column("who", "customer")
    data = plan_iceberg(catalog.load_table("shop.orders"), name="lake.shop.orders")
    assert len(data.named) == 2

    rows = engine.run({TABLE: data}, f"SELECT id, customer FROM `{TABLE}` ORDER BY id", limit=10)

    assert rows.rows == [(1, "a"), (2, "b"), (11, "a"), (12, "b")]
