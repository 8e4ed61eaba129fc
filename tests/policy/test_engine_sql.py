"""Policy SQL on each engine: masks rendered per engine keep their meaning; what an engine
cannot run is refused at `steward policy validate --engine`, naming rule, function, engine."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot

from steward.policy.decide import HASH_KEY_PARAMETER, mask_sql
from steward.policy.engine_sql import render_expression
from steward.policy.load import PolicyError, load
from steward.policy.models import Mask, Policy
from steward.policy.statement import AllowList
from tests.cli_run import steward_cli

VALUES = ["ada.lovelace@example.com", "bob@example.org", "no-at-sign", "x@y", None]
KEY = "0f" * 16
POLICY = """
roles:
  analyst: {{groups: [analysts]}}
grants:
  - {{roles: [analyst], select: ["lake.*"]}}
masks:
  - columns: [lake.crm.customers.email]
    sql: "{mask}"
    roles: [analyst]
"""


def _masks() -> dict[str, str]:
    """Each built-in mask and a hand-written one, as policy SQL over `value`."""
    policy = Policy.model_validate({"roles": {}}).with_hash_key(KEY)
    found = {}
    for kind in ("redact", "null", "hash", "email", "last4"):
        mask = Mask(columns=["t.c"], mask=kind)  # type: ignore[arg-type]
        found[kind] = mask_sql(mask, "value", policy)
    found["sql"] = "upper(substr({column}, 1, 3)) || md5({column})".replace("{column}", "value")
    return found


@pytest.fixture(scope="module")
def spark(spark_remote: str) -> Iterator[Any]:
    """A Spark Connect session on the test session's one Spark server (bound to 127.0.0.1;
    a classic local session cannot live beside the Connect sessions other tests open)."""
    pyspark_sql = pytest.importorskip("pyspark.sql")
    session = pyspark_sql.SparkSession.builder.remote(spark_remote).create()
    yield session
    session.stop()


def _on_duckdb(mask: str) -> list[Any]:
    values = ", ".join("(NULL)" if v is None else f"('{v}')" for v in VALUES)
    sql = render_expression(mask, dialect="duckdb")
    with duckdb.connect() as conn:
        query = f"SELECT {sql} FROM (VALUES {values}) AS t(value)"
        params = {HASH_KEY_PARAMETER: KEY} if HASH_KEY_PARAMETER in mask else None
        return [row[0] for row in conn.execute(query, params).fetchall()]


def _on_spark(spark: Any, mask: str) -> list[Any]:
    values = ", ".join("(CAST(NULL AS STRING))" if v is None else f"('{v}')" for v in VALUES)
    # Spark Connect has no named parameters of this kind: the key is bound as a literal.
    bound = mask.replace(f"${HASH_KEY_PARAMETER}", f"'{KEY}'")
    sql = render_expression(bound, dialect="spark")
    rows = spark.sql(f"SELECT {sql} AS masked FROM VALUES {values} AS t(value)").collect()
    return [row[0] for row in rows]


@pytest.mark.parametrize("kind", ["redact", "null", "hash", "email", "last4", "sql"])
def test_a_mask_means_the_same_on_duckdb_and_spark(spark: Any, kind: str) -> None:
    mask = _masks()[kind]
    on_duckdb = _on_duckdb(mask)
    assert on_duckdb != VALUES  # the mask changed something
    assert _on_spark(spark, mask) == on_duckdb


def test_the_year_mask_means_the_same_on_duckdb_and_spark(spark: Any) -> None:
    policy = Policy.model_validate({"roles": {}})
    mask = mask_sql(Mask(columns=["t.c"], mask="year"), "value", policy)  # type: ignore[arg-type]
    duckdb_sql = render_expression(mask, dialect="duckdb")
    spark_sql = render_expression(mask, dialect="spark")
    with duckdb.connect() as conn:
        on_duckdb = conn.execute(f"SELECT {duckdb_sql} FROM (SELECT DATE '2021-07-14' AS value)")
        expected = on_duckdb.fetchall()[0][0]
    found = spark.sql(f"SELECT {spark_sql} FROM (SELECT DATE'2021-07-14' AS value)").collect()
    assert found[0][0] == expected == date(2021, 1, 1)


def test_a_duckdb_only_function_is_refused_for_spark_naming_rule_function_and_engine() -> None:
    sources = {"policy.yaml": POLICY.format(mask="list_reverse({column})")}

    assert load(sources, engine=AllowList.named("duckdb")).policy.masks
    with pytest.raises(PolicyError) as refused:
        load(sources, engine=AllowList.named("spark"))
    (problem,) = refused.value.problems
    assert problem.startswith("policy.yaml:8: masks[0]:")
    assert "list_reverse()" in problem
    assert "spark" in problem


def test_a_group_reference_that_changes_meaning_on_spark_is_refused() -> None:
    text = POLICY.format(mask="regexp_replace({column}, '^(.)[^@]*@', '\\\\1****@')")
    sources = {"policy.yaml": text}

    assert load(sources, engine=AllowList.named("duckdb")).policy.masks
    with pytest.raises(PolicyError, match=r"regexp_replace\(\) refers to a group"):
        load(sources, engine=AllowList.named("spark"))


def test_a_row_filter_is_checked_for_the_engine_too() -> None:
    text = """
roles:
  analyst: {groups: [analysts]}
grants:
  - {roles: [analyst], select: ["lake.*"]}
row_filters:
  - {table: lake.crm.customers, roles: [analyst], where: "jaccard(region, current_user) < 0.5"}
"""
    with pytest.raises(PolicyError, match=r"row_filters\[0\]: function jaccard\(\)"):
        load({"policy.yaml": text}, engine=AllowList.named("spark"))


@pytest.mark.slow  # `steward policy validate` in subprocesses
def test_policy_validate_takes_the_engine_from_the_option_or_the_settings(tmp_path: Path) -> None:
    file = tmp_path / "policy.yaml"
    file.write_text(POLICY.format(mask="list_reverse({column})"), encoding="utf-8")
    home = tmp_path / "home"

    on_duckdb = steward_cli(home, "policy", "validate", "--no-catalog", str(file))
    on_spark = steward_cli(
        home, "policy", "validate", "--no-catalog", "--engine", "spark", str(file)
    )
    home.mkdir(exist_ok=True)
    (home / "steward.toml").write_text('engine = "spark"\n', encoding="utf-8")
    configured = steward_cli(home, "policy", "validate", "--no-catalog", str(file))
    unknown = steward_cli(home, "policy", "validate", "--no-catalog", "--engine", "db2", str(file))

    assert on_duckdb.returncode == 0, on_duckdb.stderr
    assert on_spark.returncode == 2
    assert "masks[0]: function list_reverse() is not allowed on the spark engine" in on_spark.stderr
    assert configured.returncode == 2
    assert "spark engine" in configured.stderr
    assert unknown.returncode == 2
    assert "db2" in unknown.stderr


def test_rendering_is_sqlglots_transpile_of_the_policy_dialect() -> None:
    mask = "sha256(value)"
    assert (
        render_expression(mask, dialect="spark")
        == sqlglot.transpile(mask, read="duckdb", write="spark")[0]
    )
