"""The columns a governed query reads, as its audit record and its lineage show them.

They come from the SQL lineage engine on the query as parsed (DuckDB dialect, catalog
names, the caller's visible columns as the schema), through the real pipeline:
`run_query` on Iceberg tables of the embedded lake, the audit log, the lineage store.
"""

from __future__ import annotations

import logging
from typing import Any

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from steward.app import Steward
from steward.audit.log import AuditFilter, list_records
from steward.catalog.sync import sync
from steward.connectors.iceberg import lake_catalog
from steward.errors import PolicyDenied
from steward.policy.access import ColumnAccess, TableAccess
from steward.policy.query import CONSUMER_NAMESPACE, run_query
from tests.query.conftest import ANALYST, Query, analyst_access


def inputs(steward: Steward) -> list[dict[str, Any]]:
    """The `inputs` of the newest query record: dataset and the columns it read."""
    with steward.store.read() as conn:
        (newest,) = list_records(conn, AuditFilter(action="query"), limit=1)
    return [{"dataset": i["dataset"], "columns": i["columns"]} for i in newest.details["inputs"]]


@pytest.mark.parametrize(
    ("sql", "columns"),
    [
        # `*` is the columns the caller sees: salary is denied to the analyst.
        ("SELECT * FROM customers", ["id", "name", "email", "ssn", "region"]),
        ("SELECT * EXCLUDE (ssn) FROM customers", ["id", "name", "email", "region"]),
        ("SELECT count(*) FROM customers", []),
        ("SELECT count(*) FROM customers WHERE EMAIL LIKE 'a%'", ["email"]),
        # A CTE column named like the denied column is the column it was made from.
        ("WITH t(salary) AS (SELECT name FROM customers) SELECT salary FROM t", ["name"]),
        (
            "SELECT id, name FROM customers QUALIFY row_number() OVER"
            " (PARTITION BY region ORDER BY id) = 1",
            ["id", "name", "region"],
        ),
    ],
)
def test_the_audit_record_names_the_visible_columns_read(
    lake: Steward, query: Query, sql: str, columns: list[str]
) -> None:
    query(sql)
    assert inputs(lake) == [{"dataset": "lake.crm.customers", "columns": columns}]


def test_each_table_of_a_join_gets_its_own_columns(lake: Steward, query: Query) -> None:
    query(
        "SELECT c.name, sum(o.amount) FROM customers c JOIN orders o ON o.customer_id = c.id"
        " GROUP BY ALL"
    )
    assert inputs(lake) == [
        {"dataset": "lake.crm.customers", "columns": ["id", "name"]},
        {"dataset": "lake.crm.orders", "columns": ["customer_id", "amount"]},
    ]


@pytest.mark.engines("duckdb")
def test_columns_matched_by_a_pattern_are_read(lake: Steward, query: Query) -> None:
    # DuckDB's COLUMNS('regex') reads every visible column the pattern matches.
    query("SELECT COLUMNS('^(id|name)$') FROM customers")
    assert inputs(lake) == [{"dataset": "lake.crm.customers", "columns": ["id", "name"]}]


def test_the_query_lineage_says_how_each_column_was_used(
    lake: Steward, query: Query, client: TestClient
) -> None:
    query("SELECT region, count(*) FROM customers WHERE email LIKE 'a%' GROUP BY region")
    node = f"datasetField:{CONSUMER_NAMESPACE}:{ANALYST.user}"
    answer = client.get(
        "/api/v1/column-lineage",
        params={"nodeId": f"{node}:lake.crm.customers.email", "direction": "upstream"},
    )
    assert answer.status_code == 200, answer.text
    (email,) = [n for n in answer.json()["graph"] if n["id"].startswith(node)]
    (edge,) = email["inEdges"]
    assert edge["origin"].endswith(":email")
    assert [(t["type"], t["subtype"]) for t in edge["transformations"]] == [("INDIRECT", "FILTER")]
    answer = client.get(
        "/api/v1/column-lineage",
        params={"nodeId": f"{node}:lake.crm.customers.region", "direction": "upstream"},
    )
    (region,) = [n for n in answer.json()["graph"] if n["id"].startswith(node)]
    (edge,) = region["inEdges"]
    kinds = {(t["type"], t["subtype"]) for t in edge["transformations"]}
    assert ("DIRECT", "IDENTITY") in kinds


@pytest.fixture
def nested(lake: Steward) -> Steward:
    """`lake.eu.crm.people` (a nested namespace) with a struct column."""
    catalog = lake_catalog(lake.settings.home)
    catalog.create_namespace("eu")
    catalog.create_namespace(("eu", "crm"))
    address = pa.struct([("city", pa.string()), ("zip", pa.string())])
    people = pa.table(
        {
            "id": pa.array([1, 2], pa.int64()),
            "home": pa.array(
                [{"city": "Oslo", "zip": "0150"}, {"city": "Bergen", "zip": "5003"}], address
            ),
        }
    )
    catalog.create_table("eu.crm.people", schema=people.schema).append(people)
    catalog.create_table("crm.addresses", schema=people.schema).append(people)
    catalog.close()
    sync(lake.store, lake.source("lake"))
    return lake


def clear(table: str, columns: Any) -> TableAccess:
    if table in ("lake.crm.addresses", "lake.eu.crm.people"):
        return TableAccess(
            table=table,
            allowed=True,
            rule="grants[0]",
            columns=tuple(ColumnAccess(name, "clear", "grants[0]") for name, _ in columns),
            describe=True,
        )
    return analyst_access(table, columns)


def test_struct_paths_are_kept(nested: Steward) -> None:
    result = run_query(nested, "SELECT a.home.city FROM addresses a", ANALYST, access_for=clear)
    assert result.rows == [["Oslo"], ["Bergen"]]
    assert inputs(nested) == [{"dataset": "lake.crm.addresses", "columns": ["home.city"]}]


def test_a_query_the_analysis_cannot_name_still_answers_and_records_its_tables(
    nested: Steward, caplog: pytest.LogCaptureFixture
) -> None:
    # A nested namespace makes a four-part name, which no SQL table name can be.
    with caplog.at_level(logging.WARNING, logger="steward.policy.reads"):
        result = run_query(nested, "SELECT id FROM people", ANALYST, access_for=clear)
    assert sorted(result.rows) == [[1], [2]]
    assert inputs(nested) == [{"dataset": "lake.eu.crm.people", "columns": []}]
    assert "recording tables only" in caplog.text


def test_the_access_decision_does_not_depend_on_the_analysis(nested: Steward) -> None:
    # The analysis falls back to table level here; the policy still holds: `home` is
    # denied, so `*` does not show it and naming it is refused.
    def no_home(table: str, columns: Any) -> TableAccess:
        return TableAccess(
            table=table,
            allowed=True,
            rule="grants[0]",
            columns=tuple(
                ColumnAccess(name, "denied" if name == "home" else "clear", "grants[0]")
                for name, _ in columns
            ),
            describe=True,
        )

    result = run_query(nested, "SELECT * FROM people", ANALYST, access_for=no_home)
    assert result.columns == ["id"]
    assert inputs(nested) == [{"dataset": "lake.eu.crm.people", "columns": []}]
    with pytest.raises(PolicyDenied, match="home"):
        run_query(nested, "SELECT home FROM people", ANALYST, access_for=no_home)
