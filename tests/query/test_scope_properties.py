"""Generated queries that play with names and scopes: shadowing aliases and CTEs, nested
CTEs, LATERAL and correlated subqueries, set operations, quoting and case.

For each, the governed query is either refused, or (a) its final SQL holds the invariant
as sqlglot's own scope analysis sees it (every table read is an engine table standing
as the source of a secure view, or a CTE), and (b) running it shows no clear value and
no filtered row.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp, parse_one
from sqlglot.optimizer.scope import Scope, traverse_scope

from steward.errors import Forbidden, InvalidInput
from tests.query.conftest import EU_IDS, Query, cells, governed
from tests.query.test_bypasses import assert_safe

TABLES = {
    "lake.crm.customers": ["id", "name", "email", "ssn", "region", "salary"],
    "lake.crm.orders": ["order_id", "customer_id", "amount"],
}
customers = st.sampled_from(
    ["customers", "lake.crm.customers", '"Customers"', "CRM.CUSTOMERS", 'lake."crm".customers']
)
names = st.sampled_from(
    ["c", "x", "q", "customers", "orders", "Customers", '"CUSTOMERS"', "sqlite_master", "t1"]
)
column = st.sampled_from(["id", "name", "email", "ssn", "region"])


@st.composite
def table_expression(draw: st.DrawFn) -> tuple[str, str]:
    """A FROM item over customers and the name its columns are qualified with."""
    alias = draw(st.none() | names)
    table = draw(customers)
    if alias is None:
        return table, table.split(".")[-1]
    return f"{table} AS {alias}", alias


@st.composite
def select(draw: st.DrawFn) -> str:
    source, qualifier = draw(table_expression())
    picked = draw(st.lists(column, min_size=1, max_size=3, unique=True))
    items = ", ".join(f"{qualifier}.{c}" if draw(st.booleans()) else c for c in picked)
    shape = draw(st.sampled_from(["plain", "lateral", "correlated", "exists", "scalar"]))
    if shape == "lateral":
        inner, _ = draw(table_expression())
        return (
            f"SELECT {items}, l.v FROM {source}, LATERAL (SELECT max(email) AS v FROM {inner}"
            f" WHERE region = {qualifier}.region) AS l"
        )
    if shape == "correlated":
        return (
            f"SELECT {items}, (SELECT count(*) FROM orders AS o WHERE o.customer_id ="
            f" {qualifier}.id) FROM {source}"
        )
    if shape == "exists":
        return (
            f"SELECT {items} FROM {source} WHERE EXISTS (SELECT 1 FROM lake.crm.orders"
            f" AS {draw(names)} WHERE customer_id = {qualifier}.id)"
        )
    if shape == "scalar":
        inner, _ = draw(table_expression())
        return f"SELECT {items}, (SELECT min(ssn) FROM {inner}) FROM {source}"
    return f"SELECT {items} FROM {source}"


@st.composite
def queries(draw: st.DrawFn) -> str:
    sql = draw(select())
    wrap = draw(
        st.sampled_from(["none", "cte", "nested-cte", "derived", "union", "intersect", "except"])
    )
    cte = draw(names)
    if wrap == "cte":
        return f"WITH {cte} AS ({sql}) SELECT * FROM {cte}"
    if wrap == "nested-cte":
        other = draw(names)
        return (
            f"WITH {other} AS (SELECT 1 AS k) SELECT * FROM (WITH {cte} AS ({sql})"
            f" SELECT * FROM {cte}) AS d, {other}"
        )
    if wrap == "derived":
        return f"SELECT * FROM ({sql}) AS {cte}"
    if wrap in ("union", "intersect", "except"):
        return f"{sql} {wrap.upper()} {draw(select())}"
    return sql


def assert_reads_only_secure_views(sql: str, internal: set[str]) -> None:
    """Every table of `sql`, by sqlglot's scopes: an engine table under a view, or a CTE."""
    for scope in traverse_scope(parse_one(sql, read="duckdb")):
        for table in scope.tables:
            if table.name in internal:
                select = table.parent.parent if table.parent is not None else None
                assert isinstance(select, exp.Select)
                assert all(isinstance(p, exp.Alias) for p in select.expressions)
                continue
            assert not table.db, table.sql()
            assert isinstance(scope.sources.get(table.alias_or_name), Scope), table.sql()


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@pytest.mark.slow
@given(sql=queries())
def test_no_name_or_scope_trick_reaches_a_raw_table(query: Query, sql: str) -> None:
    try:
        plan = governed(sql, TABLES)
    except (Forbidden, InvalidInput):
        return
    assert_reads_only_secure_views(plan.sql, set(plan.internal.values()))
    try:
        result = query(sql)
    except (Forbidden, InvalidInput):
        return
    assert_safe(cells(result))
    for name in result.columns:
        assert "__steward" not in name, name
        assert "regexp" not in name.lower(), name
    set_operation = any(op in sql for op in (" UNION ", " INTERSECT ", " EXCEPT "))
    if result.columns[:1] == ["id"] and not set_operation:
        assert {row[0] for row in result.rows} <= EU_IDS
