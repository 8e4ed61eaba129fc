"""Every read of an Iceberg table follows its schema's evolution, by field id.

The tables are changed with pyiceberg's own `update_schema()` (add, rename, promote)
after data was written; the governed query, a quality run and a publish gate then read
them through the embedded engine, as `steward query` and `steward quality run` do.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pyiceberg.types import LongType, StringType

from steward.app import Steward
from steward.catalog.sync import sync
from steward.config import Settings
from steward.connectors.iceberg import lake_catalog
from steward.engines.base import EngineUnsupported
from steward.engines.iceberg_files import plan_iceberg
from steward.errors import SourceError
from steward.identity.models import Principal
from steward.policy.query import QueryResult, run_query
from steward.policy.versions import apply
from steward.policy.wiring import access_for
from steward.quality.load import parse_checks
from steward.quality.publish import publish
from steward.quality.run import run_dataset
from tests.query.conftest import PEOPLE, SSNS, make_lake

POLICY = """\
roles:
  analyst: {groups: [analysts]}
grants:
  - roles: [analyst]
    select: ["lake.crm.*"]
masks:
  - columns: [social_sec_no, ssn]
    mask: redact
"""
ANALYST = Principal(user="ann", groups=frozenset({"analysts"}))


@pytest.fixture
def settings(tmp_path: Path, engine_name: str) -> Settings:
    """On the embedded SQLite store, on each engine (`tests/conftest.py` ENGINES)."""
    return Settings(home=tmp_path / "home", engine=engine_name)  # type: ignore[arg-type]


@pytest.fixture
def lake(steward: Steward) -> Iterator[Any]:
    make_lake(steward)
    apply(steward.store, POLICY, actor=None)
    catalog = lake_catalog(steward.settings.home)
    yield catalog
    catalog.close()


def type_names(row: Any) -> tuple[Any, ...]:
    """A row with its `typeof` strings upper-cased: DuckDB says BIGINT, Spark bigint."""
    return tuple(v.upper() if isinstance(v, str) else v for v in row)


def run(steward: Steward, sql: str) -> QueryResult:
    steward.tables.forget()  # the tests change the lake between queries, faster than its TTL
    return run_query(steward, sql, ANALYST, access_for=access_for(steward, ANALYST))


def test_an_added_column_reads_null_in_old_files_and_values_in_new(
    steward: Steward, lake: Any
) -> None:
    table = lake.load_table("crm.customers")
    with table.update_schema() as update:
        update.add_column("note", StringType())
    sync(steward.store, steward.source("lake"))
    before = run(steward, "SELECT count(*), count(note) FROM lake.crm.customers")
    assert [tuple(r) for r in before.rows] == [(len(PEOPLE), 0)]  # no file has it yet
    table = lake.load_table("crm.customers")
    rows = table.scan().to_arrow().slice(0, 1).to_pylist()
    rows[0].update(id=7, note="new")
    table.append(pa.Table.from_pylist(rows, schema=table.schema().as_arrow()))
    sync(steward.store, steward.source("lake"))

    result = run(steward, "SELECT id, note FROM lake.crm.customers ORDER BY id")

    assert [tuple(r) for r in result.rows] == [(r[0], None) for r in PEOPLE] + [(7, "new")]


def test_an_added_column_with_a_default_reads_it_in_old_files(steward: Steward, lake: Any) -> None:
    from pyiceberg.types import IntegerType

    table = lake.load_table("crm.customers")
    with table.update_schema() as update:
        update.add_column("tier", StringType(), default_value="basic")
        update.add_column("level", IntegerType(), default_value=7)
    sync(steward.store, steward.source("lake"))

    if steward.engine.dialect == "spark":
        # Spark reads files by field id and cannot tell a column the file lacks from a
        # null: it refuses the table, naming the column, rather than answer nulls.
        with pytest.raises(EngineUnsupported, match="tier has an initial default"):
            run(steward, "SELECT DISTINCT tier, level FROM lake.crm.customers")
        return
    result = run(steward, "SELECT DISTINCT tier, level FROM lake.crm.customers")

    assert [tuple(r) for r in result.rows] == [("basic", 7)]
    expected = lake.load_table("crm.customers").scan().to_arrow().to_pylist()
    assert {(r["tier"], r["level"]) for r in expected} == {("basic", 7)}  # as pyiceberg reads


def test_a_renamed_column_reads_its_data_and_keeps_its_mask(steward: Steward, lake: Any) -> None:
    table = lake.load_table("crm.customers")
    with table.update_schema() as update:
        update.rename_column("ssn", "social_sec_no")
    sync(steward.store, steward.source("lake"))

    result = run(steward, "SELECT id, social_sec_no, name FROM lake.crm.customers ORDER BY id")

    assert [r[2] for r in result.rows] == [r[1] for r in PEOPLE]
    assert not {r[1] for r in result.rows} & SSNS
    clear = run(steward, "SELECT count(*) FROM lake.crm.customers WHERE social_sec_no IS NULL")
    assert [tuple(r) for r in clear.rows] == [(0,)]  # the values are there, only masked


def test_a_promoted_column_reads_as_its_new_type(steward: Steward, lake: Any) -> None:
    catalog = lake
    catalog.create_namespace("shop")
    narrow = pa.table({"n": pa.array([1, 2**31 - 1], pa.int32())})
    table = catalog.create_table("shop.counts", schema=narrow.schema)
    table.append(narrow)
    with table.update_schema() as update:
        update.update_column("n", field_type=LongType())
    sync(steward.store, steward.source("lake"))
    apply(steward.store, POLICY.replace("lake.crm.*", "lake.*"), actor=None)
    only_old = run(steward, "SELECT typeof(n) FROM lake.shop.counts LIMIT 1")
    assert [type_names(r) for r in only_old.rows] == [("BIGINT",)]
    table = catalog.load_table("shop.counts")
    table.append(pa.table({"n": pa.array([2**40], pa.int64())}))
    sync(steward.store, steward.source("lake"))
    apply(steward.store, POLICY.replace("lake.crm.*", "lake.*"), actor=None)

    result = run(steward, "SELECT n, typeof(n) FROM lake.shop.counts ORDER BY n")

    assert [type_names(r) for r in result.rows] == [
        (1, "BIGINT"),
        (2**31 - 1, "BIGINT"),
        (2**40, "BIGINT"),
    ]


def test_float_and_decimal_promotions_read_as_the_new_type(steward: Steward, lake: Any) -> None:
    from decimal import Decimal

    from pyiceberg.types import DecimalType, DoubleType

    narrow = pa.table(
        {
            "x": pa.array([0.5], pa.float32()),
            "d": pa.array([Decimal("1234567.89")], pa.decimal128(9, 2)),
        }
    )
    lake.create_namespace("shop")
    table = lake.create_table("shop.prices", schema=narrow.schema)
    table.append(narrow)
    with table.update_schema() as update:
        update.update_column("x", field_type=DoubleType())
        update.update_column("d", field_type=DecimalType(18, 2))
    sync(steward.store, steward.source("lake"))
    apply(steward.store, POLICY.replace("lake.crm.*", "lake.*"), actor=None)

    result = run(steward, "SELECT x, typeof(x), d, typeof(d) FROM lake.shop.prices")

    assert [type_names(r) for r in result.rows] == [
        (0.5, "DOUBLE", Decimal("1234567.89"), "DECIMAL(18,2)")
    ]


def test_a_quality_run_on_an_evolved_table_checks_the_current_columns(
    steward: Steward, lake: Any
) -> None:
    table = lake.load_table("crm.customers")
    with table.update_schema() as update:
        update.rename_column("ssn", "social_sec_no")
        update.add_column("note", StringType())
    sync(steward.store, steward.source("lake"))
    checks = parse_checks(
        """\
datasets:
  - name: lake.crm.customers
    checks:
      - row_count: {min: 6}
    columns:
      - name: social_sec_no
        checks: [not_null, unique]
      - name: note
        checks:
          - missing_percent: {max: 100}
"""
    ).datasets[0]

    results = run_dataset(steward, checks)

    assert {r.name: r.status for r in results} == {
        "row_count": "pass",
        "not_null(social_sec_no)": "pass",
        "unique(social_sec_no)": "pass",
        "missing_percent(note)": "pass",
    }, [(r.name, r.status, r.error) for r in results]


def test_a_publish_gate_reads_a_branch_written_after_a_rename(steward: Steward, lake: Any) -> None:
    table = lake.load_table("crm.customers")
    with table.update_schema() as update:
        update.rename_column("ssn", "social_sec_no")
    table = lake.load_table("crm.customers")
    sync(steward.store, steward.source("lake"))
    table.manage_snapshots().create_branch(table.current_snapshot().snapshot_id, "audit").commit()
    rows = table.scan().to_arrow().slice(0, 1).to_pylist()
    rows[0].update(id=7, social_sec_no="999-99-9999")
    table.append(pa.Table.from_pylist(rows, schema=table.schema().as_arrow()), branch="audit")
    checks = parse_checks(
        """\
datasets:
  - name: lake.crm.customers
    columns:
      - name: social_sec_no
        checks: [not_null, unique]
"""
    ).datasets[0]

    outcome = publish(steward, checks, "audit")

    assert outcome.moved, [(r.name, r.status, r.error) for r in outcome.results]
    values = set(lake.load_table("crm.customers").scan().to_arrow()["social_sec_no"].to_pylist())
    assert values == SSNS | {"999-99-9999"}


def test_files_added_without_field_ids_read_through_the_name_mapping(
    steward: Steward, lake: Any, tmp_path: Path
) -> None:
    import pyarrow.parquet as pq

    table = lake.load_table("crm.customers")
    plain = tmp_path / "plain.parquet"  # written by another tool: no field ids
    first = table.scan().to_arrow().slice(0, 1)
    pq.write_table(first.set_column(0, "id", pa.array([7])), plain)
    table.add_files([str(plain)])
    with lake.load_table("crm.customers").update_schema() as update:
        update.rename_column("ssn", "social_sec_no")
        update.add_column("note", StringType())
    sync(steward.store, steward.source("lake"))
    planned = plan_iceberg(lake.load_table("crm.customers"), name="lake.crm.customers")
    assert [f.path for f in planned.named] == [str(plain)]

    result = run(steward, "SELECT id, name, note FROM lake.crm.customers ORDER BY id")

    expected = [(r[0], r[1], None) for r in PEOPLE] + [(7, first["name"][0].as_py(), None)]
    assert [tuple(r) for r in result.rows] == expected
    masked = run(steward, "SELECT count(*) FROM lake.crm.customers WHERE social_sec_no IS NULL")
    assert [tuple(r) for r in masked.rows] == [(0,)]


class _ScanWithDeletes:
    """pyiceberg 0.12 writes no delete files (its deletes copy on write), so a stand-in
    plan holds one: the engine must refuse it, not read deleted rows back."""

    def __init__(self, table: Any) -> None:
        self.table = table

    def scan(self, snapshot_id: int | None = None) -> Any:
        tasks = list(self.table.scan(snapshot_id=snapshot_id).plan_files())
        with_deletes = [
            type("Task", (), {"file": t.file, "delete_files": {t.file}})() for t in tasks
        ]
        return type("Scan", (), {"plan_files": lambda _self: with_deletes})()

    def schema(self) -> Any:
        return self.table.schema()

    def name_mapping(self) -> Any:
        return self.table.name_mapping()


def test_delete_files_are_refused_with_a_clear_error(lake: Any) -> None:
    table = _ScanWithDeletes(lake.load_table("crm.customers"))

    with pytest.raises(SourceError, match="delete files, which the engines here cannot"):
        plan_iceberg(table, name="lake.crm.customers")


@pytest.mark.slow  # `steward query` and `steward quality run` in subprocesses
def test_steward_query_and_quality_run_read_an_evolved_table(
    steward: Steward, lake: Any, tmp_path: Path
) -> None:
    from tests.cli_run import steward_cli

    with lake.load_table("crm.customers").update_schema() as update:
        update.add_column("note", StringType())
        update.rename_column("name", "full_name")
    home = steward.settings.home
    assert steward_cli(home, "catalog", "sync", "lake").returncode == 0
    checks = tmp_path / "checks.yaml"
    checks.write_text(
        "datasets:\n  - name: lake.crm.customers\n    columns:\n"
        "      - name: full_name\n        checks: [not_null]\n"
    )

    queried = steward_cli(
        home, "query", "SELECT full_name, note FROM lake.crm.customers ORDER BY id",
        "--user", "ann", "--groups", "analysts", "--json",
    )  # fmt: skip
    checked = steward_cli(home, "quality", "run", str(checks), "--json")

    assert queried.returncode == 0, queried.stderr
    assert [r[0] for r in json.loads(queried.stdout)["rows"]] == [r[1] for r in PEOPLE]
    assert checked.returncode == 0, checked.stderr + checked.stdout
    assert "Traceback" not in queried.stderr + checked.stderr


def test_a_rename_inside_a_struct_is_refused_not_read_as_null(steward: Steward, lake: Any) -> None:
    nested = pa.table({"id": [1], "address": [{"street": "Main St", "city": "Springfield"}]})
    lake.create_namespace("geo")
    table = lake.create_table("geo.places", schema=nested.schema)
    table.append(nested)
    with table.update_schema() as update:
        update.rename_column(("address", "street"), "road")
    sync(steward.store, steward.source("lake"))
    apply(steward.store, POLICY.replace("lake.crm.*", "lake.*"), actor=None)

    with pytest.raises(SourceError, match=r"address\.road inside a struct was renamed"):
        run(steward, "SELECT address FROM lake.geo.places")
