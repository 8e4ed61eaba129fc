"""Generated queries: the engine's lineage matches what the generator built, survives being
wrapped in a CTE, a derived table or a CREATE TABLE AS, and agrees with the data (DuckDB
runs each query: a column said to be an IDENTITY of an input holds only its values)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from steward.lineage.sql import analyze

SCHEMA = {"s.a": {"id": "INT", "x": "INT", "y": "INT"}, "s.b": {"id": "INT", "z": "INT"}}
ROWS = {
    "a": [(1, 10, 1), (2, 20, 2), (3, 30, 3), (4, 40, 4)],
    "b": [(1, 100), (2, 200), (4, 400), (5, 500)],
}
COLUMNS = {"a": ["id", "x", "y"], "b": ["id", "z"]}


@dataclass(frozen=True)
class Item:
    """One select expression and the lineage it must have: {(table, column): subtype}."""

    sql: str
    expected: dict[tuple[str, str], tuple[str, str]]


def items(aliases: list[str]) -> st.SearchStrategy[Item]:
    column = st.sampled_from([(a, c) for a in aliases for c in COLUMNS[a]])

    def identity(ac: tuple[str, str]) -> Item:
        return Item(f"{ac[0]}.{ac[1]}", {(f"s.{ac[0]}", ac[1]): ("DIRECT", "IDENTITY")})

    def plus(ac: tuple[str, str]) -> Item:
        return Item(f"{ac[0]}.{ac[1]} + 1", {(f"s.{ac[0]}", ac[1]): ("DIRECT", "TRANSFORMATION")})

    def hashed(ac: tuple[str, str]) -> Item:
        sql = f"md5(CAST({ac[0]}.{ac[1]} AS VARCHAR))"
        return Item(sql, {(f"s.{ac[0]}", ac[1]): ("DIRECT", "TRANSFORMATION masking")})

    def case(pair: tuple[tuple[str, str], tuple[str, str]]) -> Item:
        (va, vc), (ca, cc) = pair
        sql = f"CASE WHEN {ca}.{cc} > 2 THEN {va}.{vc} ELSE 0 END"
        expected = {(f"s.{ca}", cc): ("INDIRECT", "CONDITIONAL")}
        # the same column as value and condition is both
        if (va, vc) == (ca, cc):
            expected = {(f"s.{va}", vc): ("BOTH", "")}
        else:
            expected[(f"s.{va}", vc)] = ("DIRECT", "TRANSFORMATION")
        return Item(sql, expected)

    return st.one_of(
        column.map(identity),
        column.map(plus),
        column.map(hashed),
        st.tuples(column, column).map(case),
    )


@st.composite
def queries(draw: st.DrawFn) -> tuple[str, list[Item]]:
    joined = draw(st.booleans())
    aliases = ["a", "b"] if joined else ["a"]
    chosen = draw(st.lists(items(aliases), min_size=1, max_size=4))
    selects = ", ".join(f"{item.sql} AS c{i}" for i, item in enumerate(chosen))
    sql = f"SELECT {selects} FROM s.a AS a"
    if joined:
        sql += " JOIN s.b AS b ON a.id = b.id"
    if draw(st.booleans()):
        sql += f" WHERE a.y >= {draw(st.integers(1, 4))}"
    return sql, chosen


def lineage_of(sql: str) -> dict[str, dict[tuple[str, str], set[tuple[str, str, bool]]]]:
    """Each output column's own inputs and how (the row-level inputs of the query, which
    a wrapped query shows per column, are left out)."""
    statement = analyze(sql, dialect="duckdb", schema=SCHEMA).statements[0]
    assert statement.unresolved == ()
    return {
        c.column: {
            (u.table, u.column): {
                (t.type, t.subtype, t.masking)
                for t in u.transformations
                if t.type == "DIRECT" or t.subtype in ("CONDITIONAL", "WINDOW")
            }
            for u in c.upstreams
            if u.of_column
        }
        for c in statement.columns
    }


def expected_of(item: Item) -> dict[tuple[str, str], set[tuple[str, str, bool]]]:
    found: dict[tuple[str, str], set[tuple[str, str, bool]]] = {}
    for key, (kind, subtype) in item.expected.items():
        if kind == "BOTH":
            found[key] = {("DIRECT", "TRANSFORMATION", False), ("INDIRECT", "CONDITIONAL", False)}
        else:
            masked = subtype.endswith(" masking")
            found[key] = {(kind, subtype.removesuffix(" masking"), masked)}
    return found


@pytest.fixture(scope="module")
def db() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    connection.execute("CREATE SCHEMA s")
    connection.execute("CREATE TABLE s.a (id INT, x INT, y INT)")
    connection.execute("CREATE TABLE s.b (id INT, z INT)")
    connection.executemany("INSERT INTO s.a VALUES (?, ?, ?)", ROWS["a"])
    connection.executemany("INSERT INTO s.b VALUES (?, ?)", ROWS["b"])
    yield connection
    connection.close()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(queries())
def test_lineage_is_what_the_query_was_built_from(
    db: duckdb.DuckDBPyConnection, query: tuple[str, list[Item]]
) -> None:
    sql, chosen = query
    got = lineage_of(sql)
    assert got == {f"c{i}": expected_of(item) for i, item in enumerate(chosen)}
    # the data agrees: an IDENTITY output holds only values of its input column
    answer = db.execute(sql).fetchall()
    for index, item in enumerate(chosen):
        (table, column), (_, subtype) = next(iter(item.expected.items()))
        if len(item.expected) == 1 and subtype == "IDENTITY":
            source = {
                row[COLUMNS[table.removeprefix("s.")].index(column)]
                for row in ROWS[table.removeprefix("s.")]
            }
            assert {row[index] for row in answer} <= source


@settings(max_examples=40, deadline=None)
@given(queries())
def test_wrapping_a_query_keeps_its_lineage(query: tuple[str, list[Item]]) -> None:
    sql, _ = query
    plain = lineage_of(sql)
    assert lineage_of(f"WITH w AS ({sql}) SELECT * FROM w") == plain
    assert lineage_of(f"SELECT d.* FROM ({sql}) AS d") == plain
    created = analyze(f"CREATE TABLE s.out AS {sql}", dialect="duckdb", schema=SCHEMA)
    statement = created.statements[0]
    assert statement.outputs == ("s.out",)
    assert {c.column for c in statement.columns} == set(plain)
    assert all(c.table == "s.out" for c in statement.columns)


@settings(max_examples=40, deadline=None)
@given(queries())
def test_every_upstream_is_an_input_and_every_direct_one_was_read(
    query: tuple[str, list[Item]],
) -> None:
    statement = analyze(query[0], dialect="duckdb", schema=SCHEMA).statements[0]
    for column in statement.columns:
        for up in column.upstreams:
            assert up.table in statement.inputs
            assert up.column in statement.reads[up.table]
