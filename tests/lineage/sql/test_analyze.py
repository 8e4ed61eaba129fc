"""`analyze` beyond the golden file: errors, the JSON shape, the accepted schema forms."""

from __future__ import annotations

import json
from typing import Any

import pytest

from steward.errors import InvalidInput
from steward.lineage.sql import analyze


def columns_of(sql: str, **kwargs: Any) -> dict[str, set[tuple[str, str]]]:
    statement = analyze(sql, **kwargs).statements[0]
    return {c.column: {(u.table, u.column) for u in c.upstreams} for c in statement.columns}


def test_a_parse_error_is_invalid_input_with_sqlglot_s_first_line() -> None:
    with pytest.raises(InvalidInput) as raised:
        analyze("SELECT a FROM t WHERE (", dialect="postgres")
    assert raised.value.message.startswith("sql: ")
    assert "\n" not in raised.value.message


def test_an_unknown_dialect_is_invalid_input_naming_it() -> None:
    with pytest.raises(InvalidInput, match="dialect: Unknown dialect 'postgress'"):
        analyze("SELECT 1", dialect="postgress")


@pytest.mark.parametrize(
    "schema",
    [{"t": ["a", "b"]}, {"t": "a"}, {"": {"a": "int"}}, {"c": {"d": {"t": {"x": {"y": "int"}}}}}],
)
def test_a_schema_of_the_wrong_shape_is_invalid_input(schema: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput, match=r"^schema: "):
        analyze("SELECT a FROM t", schema=schema)


@pytest.mark.parametrize(
    "schema",
    [
        {"cat.db.t": {"a": "int", "b": "int"}},
        {"cat": {"db": {"t": {"a": "int", "b": "int"}}}},
        {"db": {"t": {"a": "int", "b": "int"}}},
        {"db.t": {"a": "int", "b": "int"}, "cat.db.other": {"z": "int"}},
    ],
)
def test_the_schema_may_name_tables_at_any_level(schema: dict[str, Any]) -> None:
    got = columns_of(
        "SELECT t.* FROM t JOIN u ON t.a = u.k",
        schema=schema,
        default_catalog="cat",
        default_schema="db",
    )
    assert got == {"a": {("cat.db.t", "a")}, "b": {("cat.db.t", "b")}}


def test_a_join_without_a_schema_leaves_unqualified_columns_unresolved() -> None:
    statement = analyze("SELECT x, t.y FROM t JOIN u ON t.id = u.id").statements[0]
    assert [(c.column, [(u.table, u.column) for u in c.upstreams]) for c in statement.columns] == [
        ("x", []),
        ("y", [("t", "y")]),
    ]
    assert [(g.column, g.reason) for g in statement.unresolved] == [
        ("x", "column x has no known source")
    ]


def test_the_json_of_one_statement() -> None:
    body = analyze("SELECT md5(email) AS h FROM crm.people WHERE active").to_json()
    assert json.loads(json.dumps(body)) == body
    assert body == {
        "statement": "SELECT",
        "inputs": ["crm.people"],
        "outputs": [],
        "columns": [
            {
                "table": None,
                "column": "h",
                "upstreams": [{"table": "crm.people", "column": "email"}],
                "transformations": [
                    {
                        "table": "crm.people",
                        "column": "email",
                        "type": "DIRECT",
                        "subtype": "TRANSFORMATION",
                        "description": "",
                        "masking": True,
                    }
                ],
            }
        ],
        "dataset": [
            {
                "table": "crm.people",
                "column": "active",
                "type": "INDIRECT",
                "subtype": "FILTER",
                "description": "",
                "masking": False,
            }
        ],
        "unresolved": [],
        "reads": {"crm.people": ["active", "email"]},
    }


def test_the_json_of_a_script_lists_each_statement() -> None:
    body = analyze("DROP TABLE a; CREATE TABLE a AS SELECT x FROM b;").to_json()
    assert [s["statement"] for s in body["statements"]] == ["DROP", "CREATE_TABLE_AS"]
    assert body["inputs"] == ["b"]
    assert body["outputs"] == ["a"]


def test_filters_are_not_upstreams_of_a_column_but_are_in_its_transformations() -> None:
    sql = "WITH f AS (SELECT id FROM t WHERE flag) SELECT id FROM f"
    column = analyze(sql).to_json()["columns"][0]
    assert column["upstreams"] == [{"table": "t", "column": "id"}]
    assert {(t["column"], t["subtype"]) for t in column["transformations"]} == {
        ("flag", "FILTER"),
        ("id", "IDENTITY"),
    }


def test_empty_sql_has_no_statements() -> None:
    assert analyze("  ;  ").statements == ()


@pytest.mark.parametrize(
    ("dialect", "sql"),
    [
        ("postgres", 'SELECT "Amount" FROM "Sales"."Orders"'),
        ("snowflake", 'SELECT "Amount" FROM "Sales"."Orders"'),
    ],
)
def test_quoted_mixed_case_names_survive_in_case_sensitive_dialects(dialect: str, sql: str) -> None:
    assert columns_of(sql, dialect=dialect) == {"Amount": {("Sales.Orders", "Amount")}}


def test_a_mixed_case_schema_name_matches_the_quoted_sql_name() -> None:
    got = columns_of(
        'SELECT * FROM "Users"', dialect="postgres", schema={"Users": {"UserId": "int"}}
    )
    assert got == {"UserId": {("Users", "UserId")}}


def test_sql_nested_too_deeply_is_invalid_input_not_a_crash() -> None:
    with pytest.raises(InvalidInput, match="nested too deeply"):
        analyze("SELECT " + "(" * 5000 + "1" + ")" * 5000)


def test_a_long_expression_keeps_every_column() -> None:
    terms = " + ".join(f"c{i}" for i in range(500))
    statement = analyze(f"SELECT {terms} AS total FROM t").statements[0]
    assert len(statement.columns[0].upstreams) == 500
    assert statement.reads["t"] == tuple(sorted(f"c{i}" for i in range(500)))


def test_a_table_without_columns_in_the_schema_is_ignored() -> None:
    statement = analyze("SELECT * FROM t", schema={"t": {}, "u": {"a": "int"}}).statements[0]
    assert [(g.column, g.reason) for g in statement.unresolved] == [
        ("*", "star over a table whose columns are not known")
    ]


@pytest.mark.parametrize(("alias", "dialect"), [("postgresql", "postgres"), ("mssql", "tsql")])
def test_dialect_names_other_tools_use_are_accepted(alias: str, dialect: str) -> None:
    sql = "SELECT [Id] FROM [dbo].[T]" if dialect == "tsql" else 'SELECT "Id" FROM t'
    assert columns_of(sql, dialect=alias) == columns_of(sql, dialect=dialect)
    assert columns_of(sql, dialect=alias) != {}
