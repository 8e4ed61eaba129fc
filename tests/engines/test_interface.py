"""DuckDB and PostgreSQL honour the engine interface: tables handed in, limits, allow-lists.

The same checks run on each engine over the same rows: DuckDB reads them from Parquet
files (as a planned Iceberg table is read), PostgreSQL from one of its own tables.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from steward.engines.base import (
    Engine,
    EngineUnsupported,
    Limits,
    NativeTable,
    ParquetTable,
    QueryFailed,
    QueryTimeout,
    ResultTooLarge,
    TableData,
)
from steward.engines.duckdb import DuckDBEngine
from steward.engines.postgres import PostgresEngine
from tests.postgres import find_server

ROWS = [(1, "ada@example.com", "EU"), (2, "bob@example.org", "US"), (3, "cleo@example.com", "EU")]
# A statement that runs for minutes on either engine unless cancelled.
SLOW = {
    "duckdb": "SELECT count(*) FROM range(100000000000) a",
    "postgresql": "SELECT count(*) FROM generate_series(1, 100000000000)",
}


def _parquet(tmp_path: Path) -> ParquetTable:
    table = pa.table(
        {
            "id": pa.array([r[0] for r in ROWS], pa.int64()),
            "email": [r[1] for r in ROWS],
            "region": [r[2] for r in ROWS],
        }
    )
    path = tmp_path / "people.parquet"
    pq.write_table(table, path)
    return ParquetTable(files=(str(path),), schema=table.schema, columns=("id", "email", "region"))


@pytest.fixture(scope="module")
def postgres_people() -> Iterator[str]:
    """A database with `public.people` holding ROWS; its URL."""
    url, server, reason = find_server()
    if url is None:
        pytest.skip(reason)
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"steward_engine_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    located = sa.make_url(url).set(database=name).render_as_string(False)
    engine = sa.create_engine(located)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE people (id bigint, email text, region text)"))
        conn.execute(
            sa.text("INSERT INTO people VALUES (:i, :e, :r)"),
            [{"i": i, "e": e, "r": r} for i, e, r in ROWS],
        )
    engine.dispose()
    yield located
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
    if server is not None:
        server.stop()


@pytest.fixture(params=["duckdb", "postgresql"])
def setup(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Engine, dict[str, TableData]]]:
    """An engine with short limits, and the people table as that engine reads it."""
    limits = Limits(timeout_seconds=1.0, memory_limit="256MB", threads=1, max_result_bytes=4096)
    engine: Engine
    if request.param == "duckdb":
        engine = DuckDBEngine(limits)
        tables: dict[str, TableData] = {"__steward_people": _parquet(tmp_path)}
    else:
        url = request.getfixturevalue("postgres_people")
        engine = PostgresEngine(limits)
        tables = {"__steward_people": NativeTable("postgresql", url, "public", "people")}
    yield engine, tables
    engine.close()


def test_run_answers_over_the_tables_handed_in(setup: tuple[Engine, Any]) -> None:
    engine, tables = setup
    rows = engine.run(
        tables,
        "SELECT id, email FROM __steward_people WHERE region = 'EU' ORDER BY id",
        limit=10,
    )
    assert rows.columns == ["id", "email"]
    assert rows.rows == [(1, "ada@example.com"), (3, "cleo@example.com")]
    assert not rows.truncated


def test_run_stops_at_the_row_limit_and_says_so(setup: tuple[Engine, Any]) -> None:
    engine, tables = setup
    rows = engine.run(tables, "SELECT id FROM __steward_people ORDER BY id", limit=2)
    assert rows.rows == [(1,), (2,)]
    assert rows.truncated


def test_a_statement_past_the_time_limit_is_cancelled(setup: tuple[Engine, Any]) -> None:
    engine, tables = setup
    with pytest.raises(QueryTimeout, match="longer than 1 s"):
        engine.run(tables, SLOW[engine.name], limit=10)
    # The engine still answers afterwards.
    assert engine.run(tables, "SELECT count(*) FROM __steward_people", limit=1).rows == [(3,)]


def test_a_result_past_the_byte_limit_is_refused(setup: tuple[Engine, Any]) -> None:
    engine, tables = setup
    with pytest.raises(ResultTooLarge, match="larger than 4096 bytes"):
        engine.run(tables, "SELECT repeat(email, 100) FROM __steward_people", limit=10)


def test_an_error_on_a_value_is_told_without_the_engine_text(setup: tuple[Engine, Any]) -> None:
    engine, tables = setup
    with pytest.raises(QueryFailed, match="withheld") as raised:
        engine.run(tables, "SELECT CAST(email AS INTEGER) FROM __steward_people", limit=10)
    assert "ada@example.com" not in raised.value.message
    assert raised.value.error_class  # kept for the operator's log


def test_binding_errors_name_the_callers_table(setup: tuple[Engine, Any]) -> None:
    engine, tables = setup
    with pytest.raises(Exception, match="no_such_column") as raised:
        engine.run(
            tables,
            "SELECT no_such_column FROM __steward_people",
            limit=10,
            names={"__steward_people": "lake.crm.people"},
        )
    assert "__steward_people" not in str(raised.value)


def test_physical_columns_and_session_schema(setup: tuple[Engine, Any]) -> None:
    engine, tables = setup
    assert engine.physical_columns(tables) == {"__steward_people": ("id", "email", "region")}
    session = engine.open(tables)
    try:
        assert session.dialect == engine.dialect
        assert [name for name, _ in session.schema("__steward_people")] == [
            "id",
            "email",
            "region",
        ]
        counted = session.execute('SELECT count(*) AS n FROM "__steward_people"')
        assert (counted.columns, counted.rows) == (["n"], [(3,)])
        with pytest.raises(QueryFailed) as raised:
            session.execute('SELECT CAST(email AS INTEGER) FROM "__steward_people"')
        assert raised.value.detail  # the engine's own text, for the log
    finally:
        session.close()


def test_the_allow_list_is_in_the_engines_dialect(setup: tuple[Engine, Any]) -> None:
    engine, _ = setup
    allowed = engine.allowed_functions()
    assert {"lower", "count", "md5"} <= allowed
    assert "read_csv" not in allowed
    assert "pg_read_file" not in allowed
    assert "current_setting" not in allowed
    assert engine.dialect == {"duckdb": "duckdb", "postgresql": "postgres"}[engine.name]


def test_duckdb_reads_no_file_it_was_not_handed(tmp_path: Path) -> None:
    engine = DuckDBEngine(Limits(timeout_seconds=5))
    other = tmp_path / "other.parquet"
    pq.write_table(pa.table({"secret": ["s3cr3t"]}), other)
    try:
        with pytest.raises(Exception, match="read a file"):
            engine.run(
                {"__steward_people": _parquet(tmp_path)},
                f"SELECT * FROM read_parquet('{other}')",
                limit=10,
            )
    finally:
        engine.close()


def test_an_engine_refuses_a_table_it_cannot_read(tmp_path: Path) -> None:
    duckdb = DuckDBEngine()
    postgres = PostgresEngine()
    native = NativeTable("postgresql", "postgresql://127.0.0.1/none", "public", "people")
    try:
        with pytest.raises(EngineUnsupported, match="not readable by DuckDB"):
            duckdb.run({"__steward_people": native}, "SELECT 1", limit=1)
        with pytest.raises(EngineUnsupported, match="not a PostgreSQL table"):
            postgres.run({"__steward_people": _parquet(tmp_path)}, "SELECT 1", limit=1)
    finally:
        duckdb.close()
        postgres.close()
