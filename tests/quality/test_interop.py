"""dbt test results import from a real `dbt build`; GE suites translate into checks.yaml entries.

The dbt project is the one in tests/connectors/dbt_project (dbt-core 1.11 on DuckDB), copied
with one singular test added that fails on two rows, so the build holds passing, warning,
failing and skipped tests.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from steward.errors import InvalidInput
from steward.quality.interop import ImportedResult, import_dbt_results, translate_ge_suite
from tests.cli_run import steward_cli

PROJECT = Path(__file__).parents[1] / "connectors" / "dbt_project"
FAILING_TEST = "select * from {{ ref('stg_orders') }} where amount < 6\n"


@pytest.fixture(scope="module")
def artifacts(dbt_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """manifest.json and run_results.json of one `dbt build` of the test project."""
    root = tmp_path_factory.mktemp("dbt")
    project = root / "shop"
    shutil.copytree(PROJECT, project)
    (project / "tests").mkdir(exist_ok=True)
    (project / "tests" / "orders_of_at_least_six.sql").write_text(FAILING_TEST)
    env = {
        "PATH": f"{dbt_bin}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(root),
        "DBT_DUCKDB_PATH": str(root / "shop.duckdb"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    dirs = ("--project-dir", str(project), "--profiles-dir", str(project))
    ran = subprocess.run(
        ["dbt", "build", *dirs],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    # A failing error-severity test makes dbt exit 1; the artifacts are written regardless.
    assert ran.returncode == 1, ran.stdout[-3000:] + ran.stderr[-2000:]
    target = project / "target"
    return {
        "manifest": json.loads((target / "manifest.json").read_text()),
        "run_results": json.loads((target / "run_results.json").read_text()),
    }


@pytest.fixture(scope="module")
def imported(artifacts: dict[str, Any]) -> dict[str, ImportedResult]:
    results = import_dbt_results(artifacts["manifest"], artifacts["run_results"])
    return {r.test_name: r for r in results}


def test_every_data_test_of_the_build_is_imported_with_its_status(
    imported: dict[str, ImportedResult],
) -> None:
    statuses = {(r.kind, r.dataset, r.column, r.status) for r in imported.values()}
    assert statuses == {
        ("unique", "shop.main.stg_orders", "order_id", "pass"),
        ("not_null", "shop.main.stg_orders", "order_id", "pass"),
        ("relationships", "shop.main.stg_orders", "customer_id", "pass"),
        ("not_null", "shop.landing.customers", "customer_id", "pass"),
        ("accepted_values", "shop.landing.customers", "tier", "warn"),
        ("singular", "shop.main.stg_orders", None, "fail"),
        # Downstream of the failing test, dbt build skips the model and its test.
        ("not_null", "shop.main.customer_revenue", "customer_id", "skipped"),
    }
    assert all(r.test_id.startswith("test.shop.") for r in imported.values())


def test_failure_counts_severity_and_messages_are_dbt_s(
    imported: dict[str, ImportedResult],
) -> None:
    singular = imported["orders_of_at_least_six"]
    assert singular.failures == 2
    assert singular.severity == "error"
    assert singular.node == "model.shop.stg_orders"
    assert "2 results" in singular.message
    tier = imported["source_accepted_values_landing_customers_tier__gold__silver"]
    assert tier.failures == 1  # `platinum`
    assert tier.severity == "warn"
    assert tier.node == "source.shop.landing.customers"
    assert tier.arguments == {"values": ["gold", "silver"]}
    unique = next(r for r in imported.values() if r.kind == "unique")
    assert unique.failures == 0
    assert unique.execution_time > 0


def test_relationships_test_is_attached_to_the_model_it_tests(
    imported: dict[str, ImportedResult],
) -> None:
    relationships = next(r for r in imported.values() if r.kind == "relationships")
    assert relationships.node == "model.shop.stg_orders"
    assert relationships.arguments["field"] == "customer_id"


def test_a_source_test_without_attached_node_is_found_through_its_model_argument(
    artifacts: dict[str, Any],
) -> None:
    manifest = json.loads(json.dumps(artifacts["manifest"]))
    for node in manifest["nodes"].values():
        if node["resource_type"] == "test":
            node["attached_node"] = None
            node["depends_on"]["nodes"] = sorted(node["depends_on"]["nodes"], reverse=True)
    results = import_dbt_results(manifest, artifacts["run_results"])
    relationships = next(r for r in results if r.kind == "relationships")
    assert relationships.dataset == "shop.main.stg_orders"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m, r: m.pop("nodes"), "manifest.json: nodes must be an object"),
        (lambda m, r: r.update(results={}), "run_results.json: results must be a list"),
        (
            lambda m, r: r["results"][-1].update(status="exploded"),
            r"run_results.json: results\[\d+\].status: 'exploded' is not a dbt test status",
        ),
        (
            lambda m, r: r["results"][-1].update(failures="two"),
            r"results\[\d+\].failures must be an integer",
        ),
        (
            lambda m, r: [m["nodes"].pop(k) for k in list(m["nodes"]) if k.startswith("test.")],
            "is not in manifest.json nodes",
        ),
        (lambda m, r: r["results"][0].pop("unique_id"), r"results\[0\].unique_id"),
    ],
)
def test_malformed_artifacts_are_refused_naming_the_part(
    artifacts: dict[str, Any], change: Any, message: str
) -> None:
    manifest = json.loads(json.dumps(artifacts["manifest"]))
    run_results = json.loads(json.dumps(artifacts["run_results"]))
    run_results["results"].sort(key=lambda r: r["unique_id"].startswith("test."))
    change(manifest, run_results)
    with pytest.raises(InvalidInput, match=message):
        import_dbt_results(manifest, run_results)


# --- Great Expectations -----------------------------------------------------------------

GE_0X = {
    "expectation_suite_name": "lake.shop.orders",
    "data_asset_type": "Dataset",
    "meta": {"great_expectations_version": "0.18.19"},
    "expectations": [
        {"expectation_type": "expect_column_to_exist", "kwargs": {"column": "order_id"}},
        {
            "expectation_type": "expect_column_values_to_not_be_null",
            "kwargs": {"column": "order_id"},
            "meta": {},
        },
        {"expectation_type": "expect_column_values_to_be_unique", "kwargs": {"column": "order_id"}},
        {
            "expectation_type": "expect_column_values_to_be_in_set",
            "kwargs": {"column": "status", "value_set": ["placed", "shipped", "returned"]},
        },
        {
            "expectation_type": "expect_column_values_to_match_regex",
            "kwargs": {"column": "email", "regex": "^[^@]+@[^@]+$"},
        },
        {
            "expectation_type": "expect_column_values_to_be_between",
            "kwargs": {"column": "amount", "min_value": 0, "max_value": 10000},
        },
        {
            "expectation_type": "expect_column_mean_to_be_between",
            "kwargs": {"column": "amount", "min_value": 5, "max_value": 500},
        },
        {
            "expectation_type": "expect_table_row_count_to_be_between",
            "kwargs": {"min_value": 1, "max_value": None},
        },
        {
            "expectation_type": "expect_column_values_to_not_be_null",
            "kwargs": {"column": "email", "mostly": 0.95},
        },
        {
            "expectation_type": "expect_column_values_to_be_in_set",
            "kwargs": {"column": "country", "value_set": ["FR"], "mostly": 0.9},
        },
        {
            "expectation_type": "expect_column_median_to_be_between",
            "kwargs": {"column": "amount", "min_value": 1},
        },
        {
            "expectation_type": "expect_column_values_to_be_null",
            "kwargs": {"column": "deleted_at"},
        },
    ],
}

GE_1X = {
    "name": "orders_suite",
    "id": "7c1a5d8e-0000-4000-8000-000000000001",
    "meta": {"great_expectations_version": "1.3.0"},
    "notes": None,
    "expectations": [
        {
            "type": "expect_table_columns_to_match_set",
            "kwargs": {"column_set": ["order_id", "status"], "exact_match": False},
            "meta": {},
            "id": "a",
        },
        {
            "type": "expect_compound_columns_to_be_unique",
            "kwargs": {"column_list": ["order_id", "line"]},
            "id": "b",
        },
        {
            "type": "expect_column_max_to_be_between",
            "kwargs": {"column": "amount", "max_value": 9000},
            "severity": "warning",
            "id": "c",
        },
        {"type": "expect_column_sum_to_be_between", "kwargs": {"column": "amount", "min_value": 0}},
        {"type": "expect_column_min_to_be_between", "kwargs": {"column": "amount", "min_value": 0}},
        {"type": "expect_table_row_count_to_equal", "kwargs": {"value": 3}},
        {
            "type": "expect_column_values_to_be_unique",
            "kwargs": {"column": "order_id", "row_condition": 'col("status")=="placed"'},
        },
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "status"}},
        {"type": "expect_column_pair_values_a_to_be_greater_than_b", "kwargs": {}},
    ],
}


def test_a_ge_0x_suite_becomes_checks_yaml_entries() -> None:
    datasets, unsupported = translate_ge_suite(GE_0X)
    assert datasets == [
        {
            "name": "lake.shop.orders",
            "checks": [
                {"schema": {"required": ["order_id"]}},
                {"row_count": {"min": 1}},
            ],
            "columns": [
                {"name": "order_id", "checks": ["not_null", "unique"]},
                {
                    "name": "status",
                    "checks": [{"accepted_values": {"values": ["placed", "shipped", "returned"]}}],
                },
                {
                    "name": "email",
                    "checks": [
                        {"regex": {"pattern": "^[^@]+@[^@]+$"}},
                        {"missing_percent": {"max": 5.0}},
                    ],
                },
                {
                    "name": "amount",
                    "checks": [
                        {"min": {"min": 0}},
                        {"max": {"max": 10000}},
                        {"mean": {"min": 5, "max": 500}},
                    ],
                },
            ],
        }
    ]
    assert len(unsupported) == 3
    assert unsupported[0].startswith(
        "expectations[9] expect_column_values_to_be_in_set (column country): mostly=0.9"
    )
    assert "expectations[10] expect_column_median_to_be_between (column amount)" in unsupported[1]
    assert "no median check" in unsupported[1]
    assert unsupported[2].startswith("expectations[11] expect_column_values_to_be_null")


def test_a_ge_1x_suite_becomes_checks_yaml_entries_for_the_dataset_named() -> None:
    datasets, unsupported = translate_ge_suite(GE_1X, dataset="lake.shop.order_lines")
    assert datasets == [
        {
            "name": "lake.shop.order_lines",
            "checks": [
                {"schema": {"required": ["order_id", "status"]}},
                {"duplicate_count": {"columns": ["order_id", "line"]}},
                {"row_count": {"min": 3, "max": 3}},
            ],
            "columns": [
                {
                    "name": "amount",
                    "checks": [
                        {"max": {"max": 9000, "severity": "warn"}},
                        {"sum": {"min": 0}},
                        {"min": {"min": 0}},
                    ],
                },
                {"name": "status", "checks": ["not_null"]},
            ],
        }
    ]
    assert unsupported == [
        "expectations[6] expect_column_values_to_be_unique (column order_id): conditional "
        "expectations (row_condition) are not translated; use `where`",
        "expectations[8] expect_column_pair_values_a_to_be_greater_than_b: "
        "not a check Steward runs",
    ]


def test_the_suite_name_is_the_dataset_unless_one_is_given() -> None:
    datasets, _ = translate_ge_suite(GE_1X)
    assert datasets[0]["name"] == "orders_suite"


@pytest.mark.parametrize(
    ("suite", "message"),
    [
        ({"name": "s"}, "expectations must be a list"),
        ({"expectations": []}, "no name"),
        ({"name": "s", "expectations": [{"kwargs": {}}]}, r"expectations\[0\] has no"),
        (
            {"name": "s", "expectations": [{"type": "expect_column_values_to_be_unique"}]},
            r"expectations\[0\].kwargs.column must be a column name",
        ),
        (
            {
                "name": "s",
                "expectations": [
                    {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "c"}}
                ],
            },
            r"expectations\[0\].kwargs.value_set must be a list",
        ),
    ],
)
def test_a_malformed_suite_is_refused_naming_the_part(suite: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        translate_ge_suite(suite)


def test_imported_dbt_results_are_stored_as_check_history(
    steward: Any, artifacts: dict[str, Any], imported: dict[str, ImportedResult]
) -> None:
    from steward.quality.history import dbt_results, latest, record_results

    results = dbt_results(steward.store, list(imported.values()))
    record_results(steward.store, results)
    expected = {f"dbt:{r.test_name}": r.status for r in imported.values() if r.status != "skipped"}
    assert {r.name: r.status for r in results} == expected
    stored = {}
    with steward.store.read() as conn:
        for dataset in {r.dataset for r in results}:
            stored.update({c["check"]: c["status"] for c in latest(conn, dataset)})
    assert stored == expected


def test_steward_quality_from_ge_writes_checks_the_loader_accepts(tmp_path: Path) -> None:
    from steward.quality.load import read_checks

    suite = tmp_path / "suite.json"
    suite.write_text(json.dumps(GE_1X), encoding="utf-8")
    out = tmp_path / "checks.yaml"
    done = steward_cli(
        tmp_path / "home",
        "quality",
        "from-ge",
        str(suite),
        "--dataset",
        "lake.shop.orders",
        "-o",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    parsed = read_checks(out)
    assert [d.name for d in parsed.datasets] == ["lake.shop.orders"]
    assert parsed.datasets[0].checks
    _, unsupported = translate_ge_suite(GE_1X, dataset="lake.shop.orders")
    assert unsupported
    for line in unsupported:
        assert f"not translated: {line}" in done.stderr
