"""The governed query under a real applied policy: no way around it, nothing disclosed,
every outcome audited, every limit held.

The policy (applied with `steward.policy.versions.apply`, so the `hash` key is real):
analysts see `lake.crm.customers` with email masked, SSN hashed, salary denied and EU
rows only; a pattern filter on `lake.crm.*` by region refuses `lake.crm.orders`, which
has no region, to the EU role.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from steward.app import Steward
from steward.audit.log import AuditFilter, list_records
from steward.audit.models import AuditRecord
from steward.config import Settings
from steward.errors import Forbidden, InvalidInput
from steward.identity.models import Principal
from steward.policy.query import _SALT, QueryResult, run_query
from steward.policy.rewrite import internal_name
from steward.policy.versions import active, apply
from steward.policy.wiring import access_for
from tests.query.conftest import EMAILS, EU_IDS, SSNS

POLICY = """\
roles:
  analyst: {groups: [analysts]}
  eu-analyst: {groups: [analysts-eu]}
  orders-reader: {groups: [orders]}
  browser: {groups: [browsers]}
grants:
  - roles: [analyst, eu-analyst]
    select: ["lake.crm.customers"]
  - roles: [eu-analyst, orders-reader]
    select: ["lake.crm.orders"]
  - roles: [browser]
    describe: ["lake.*"]
masks:
  - columns: [email]
    mask: email
  - columns: [ssn]
    mask: hash
row_filters:
  - table: "lake.crm.*"
    roles: [eu-analyst]
    where: "region = 'EU'"
deny:
  - roles: [analyst, eu-analyst]
    columns: [lake.crm.customers.salary]
"""
EU = Principal(user="eve", groups=frozenset({"analysts-eu"}))
ORDERS = Principal(user="olga", groups=frozenset({"orders"}))
NOBODY = Principal(user="nobody", groups=frozenset({"strangers"}))
BROWSER = Principal(user="bea", groups=frozenset({"browsers"}))


@pytest.fixture
def governed_lake(lake: Steward) -> Steward:
    apply(lake.store, POLICY, actor=None)
    return lake


def run(steward: Steward, sql: str, who: Principal = EU) -> QueryResult:
    return run_query(steward, sql, who, access_for=access_for(steward, who))


def hash_key(steward: Steward) -> str:
    chosen = active(steward.store)
    assert chosen is not None
    return chosen[1].hash_key


# -- 1. knowing an internal name does not let a query reach the table


@pytest.mark.parametrize(
    "template",
    [
        'SELECT * FROM "{internal}"',
        "SELECT * FROM {internal}",
        'WITH x AS (SELECT 1) SELECT * FROM "{internal}" AS x',
        "SELECT * FROM (SELECT * FROM {internal}) AS customers",
        "SELECT * FROM lake.crm.customers AS {internal}",
    ],
)
def test_knowing_the_internal_name_reaches_nothing(governed_lake: Steward, template: str) -> None:
    internal = internal_name("lake.crm.customers", salt=_SALT)
    with pytest.raises(Forbidden, match="reserved"):
        run(governed_lake, template.format(internal=internal))


@pytest.mark.parametrize(
    "sql",
    [
        pytest.param(
            "WITH sqlite_master AS (SELECT 1) SELECT * FROM sqlite_master",
            marks=pytest.mark.engines("duckdb"),
        ),
        pytest.param(
            "WITH spark_catalog AS (SELECT 1) SELECT * FROM spark_catalog",
            marks=pytest.mark.engines("spark"),
        ),
        "SELECT * FROM (SELECT 1) AS duckdb_tables, duckdb_tables",
        "SELECT * FROM sqlite_master",
        "SELECT * FROM duckdb_views",
        "SELECT * FROM pg_catalog.pg_class",
    ],
)
def test_engine_metadata_tables_are_unreachable(governed_lake: Steward, sql: str) -> None:
    with pytest.raises(Forbidden):
        run(governed_lake, sql)


# -- 3. disclosure channels


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT current_query()",
        "SELECT json_serialize_plan('SELECT 1')",
        "SELECT json_serialize_sql('SELECT 1')",
        "SELECT stats(id) FROM customers",
        "SELECT current_setting('memory_limit')",
        "SELECT getvariable('x')",
        "SELECT * FROM duckdb_functions()",
        "SELECT main.upper(name) FROM customers",
    ],
)
def test_functions_off_the_allow_list_are_refused(governed_lake: Steward, sql: str) -> None:
    with pytest.raises(Forbidden, match=r"not allowed|qualifier|table function"):
        run(governed_lake, sql)


def test_output_names_come_from_the_callers_sql_only(governed_lake: Steward) -> None:
    key = hash_key(governed_lake)
    result = run(
        governed_lake,
        "SELECT (SELECT min(ssn) FROM customers), (SELECT max(email) FROM customers),"
        " upper(name), id + 1 FROM customers",
    )
    for name in result.columns:
        assert key not in name
        assert "__steward" not in name
        assert "sha256" not in name.lower()
    assert result.columns[2:] == ["UPPER(name)", "id + 1"]
    for value in (v for row in result.rows for v in row):
        assert value not in SSNS
        assert value not in EMAILS


def test_the_hash_key_is_never_in_sql_the_engine_or_the_audit_log_sees(
    governed_lake: Steward,
) -> None:
    key = hash_key(governed_lake)
    result = run(governed_lake, "SELECT ssn FROM customers ORDER BY id")
    assert len(result.rows) == len(EU_IDS)
    assert all(len(row[0]) == 64 for row in result.rows)  # hashed, with the key
    with pytest.raises(InvalidInput) as error:
        run(governed_lake, "SELECT ssn + 1 FROM customers")
    assert key not in str(error.value)
    assert "__steward" not in str(error.value)
    records = query_records(governed_lake)
    assert records
    assert all(key not in str(r.to_json()) for r in records)


# -- 5. filters bind to the view's own table


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM lake.crm.orders",
        "SELECT * FROM (SELECT 'EU' AS region) AS r, LATERAL (SELECT * FROM lake.crm.orders) AS o",
        "SELECT (SELECT count(*) FROM lake.crm.orders) FROM (SELECT 'EU' AS region)",
    ],
)
def test_a_filter_on_a_column_the_table_lacks_denies_the_table(
    governed_lake: Steward, sql: str
) -> None:
    with pytest.raises(Forbidden, match="region"):
        run(governed_lake, sql)
    # Another role, not filtered, reads the table.
    assert len(run(governed_lake, "SELECT * FROM lake.crm.orders", ORDERS).rows) == 5


# -- 6. every outcome is a record, with the full SQL and the columns actually read


def query_records(steward: Steward) -> list[AuditRecord]:
    """The query records, newest first."""
    with steward.store.read() as conn:
        return list_records(conn, AuditFilter(action="query"), limit=1000)


@pytest.mark.parametrize(
    ("sql", "decision"),
    [
        ("SELECT FROM WHERE", "failed"),
        ("SELECT nosuch FROM customers", "failed"),
        ("SELECT salary FROM customers", "denied"),
        ("SELECT * FROM lake.crm.orders", "denied"),
        ("SELECT current_query()", "denied"),
    ],
)
def test_a_query_that_does_not_answer_is_still_recorded(
    governed_lake: Steward, sql: str, decision: str
) -> None:
    with pytest.raises((Forbidden, InvalidInput)):
        run(governed_lake, sql)
    record = query_records(governed_lake)[0]
    assert record.decision == decision
    assert record.details["sql"] == sql


def test_the_full_sql_is_recorded_however_long(governed_lake: Steward) -> None:
    sql = "SELECT id FROM customers /*" + "x" * 20_000 + "*/ WHERE email LIKE 'a%'"
    run(governed_lake, sql)
    assert query_records(governed_lake)[0].details["sql"] == sql


@pytest.mark.parametrize(
    ("sql", "columns"),
    [
        ("SELECT count(*) FROM customers", []),
        ("SELECT count(*) FROM customers WHERE region = 'EU'", ["region"]),
        ("SELECT email FROM (SELECT email, name FROM customers)", ["name", "email"]),
        ("SELECT n FROM (SELECT name AS n FROM customers WHERE ssn IS NULL)", ["name", "ssn"]),
        ("SELECT * FROM customers", ["id", "name", "email", "ssn", "region"]),
        ("SELECT 1 FROM customers c WHERE EXISTS (SELECT 1 WHERE c.ssn IS NULL)", ["ssn"]),
    ],
)
def test_the_columns_recorded_are_the_ones_read(
    governed_lake: Steward, sql: str, columns: list[str]
) -> None:
    run(governed_lake, sql)
    inputs = query_records(governed_lake)[0].details["inputs"]
    assert inputs[0]["columns"] == columns


# -- 7. limits


def test_no_grant_means_no_query_even_without_a_table(governed_lake: Steward) -> None:
    with pytest.raises(Forbidden, match="grants you nothing"):
        run(governed_lake, "SELECT 1", NOBODY)
    assert run(governed_lake, "SELECT 1", BROWSER).rows == [[1]]


def test_sql_nested_too_deep_is_a_clear_input_error(governed_lake: Steward) -> None:
    sql = "SELECT " + "(" * 5000 + "1" + ")" * 5000
    with pytest.raises(InvalidInput, match="nested deeper"):
        run(governed_lake, sql)


@pytest.fixture
def limited(governed_lake: Steward) -> Iterator[Steward]:
    settings = governed_lake.settings.model_copy(
        update={
            "query_timeout_seconds": 0.5,
            "query_max_result_bytes": 2_000,
            "query_memory_limit": "64MB",
        }
    )
    steward = Steward(settings)
    yield steward
    steward.close()


@pytest.fixture
def alone(limited: Steward) -> Iterator[Steward]:
    """`limited`, on Spark with a Spark Connect server of its own (`local[2]`: started by
    Steward, stopped when it closes). On a loaded machine a cancelled statement's work
    has gone on in the server behind the cancel (seen under pytest-xdist: the worker's
    other Spark cases then timed out), so the runaway query must not share the session's
    server with the cases after it."""
    if limited.settings.engine != "spark":
        yield limited
        return
    # The server's JVM is started with the memory limit: 64 MB (`limited`'s) is too little
    # to start one; the limit under test here is the time.
    memory = Settings.model_fields["query_memory_limit"].default
    steward = Steward(
        limited.settings.model_copy(
            update={"spark_remote": "local[2]", "query_memory_limit": memory}
        )
    )
    yield steward
    steward.close()


# Spark plans the two-dozen-way join before the clock can cancel it: seconds when the
# machine is quiet, longer than pytest's default timeout when it is loaded.
@pytest.mark.timeout(600)
def test_a_query_past_its_time_limit_is_cancelled(alone: Steward) -> None:
    # A cross join of the table with itself two dozen times: billions of rows on any
    # engine, with no recursion limit or shortcut to end it before the clock does.
    names = [f"t{i}" for i in range(24)]
    with pytest.raises(InvalidInput, match=r"longer than 0\.5 s"):
        run(
            alone,
            "SELECT count(*) FROM "
            + ", ".join(f"customers {n}" for n in names)
            + " WHERE "
            + " + ".join(f"{n}.id" for n in names)
            + " > 0",
        )
    assert query_records(alone)[0].decision == "failed"


def test_a_result_past_its_byte_limit_is_refused(limited: Steward) -> None:
    # Time enough for any engine to get to the bytes (Spark's statements take seconds).
    settings = limited.settings.model_copy(update={"query_timeout_seconds": 120})
    steward = Steward(settings)
    try:
        with pytest.raises(InvalidInput, match="larger than 2000 bytes"):
            run(
                steward,
                "SELECT a.email, b.email FROM customers a, customers b, customers c, customers d",
            )
    finally:
        steward.close()


def test_the_engine_runs_under_the_configured_memory_and_thread_limits() -> None:
    # DuckDB enforces its memory limit on what it tracks (joins, aggregates, sorts); the
    # connection a governed query runs on is set up, and locked, with the configured one.
    import duckdb

    from steward.engines.base import Limits
    from steward.engines.duckdb import open_connection

    conn = open_connection({}, limits=Limits(memory_limit="64MB", threads=1))
    try:
        memory, threads = conn.execute(
            "SELECT current_setting('memory_limit'), current_setting('threads')"
        ).fetchone() or ("", 0)
        assert memory in ("64.0 MiB", "61.0 MiB", "64.0 MB")
        assert int(threads) == 1
        with pytest.raises(duckdb.Error, match="lock"):
            conn.execute("SET memory_limit = '8GB'")
    finally:
        conn.close()
