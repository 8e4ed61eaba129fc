"""A real `dbt-ol build` (dbt-core 1.11, dbt-duckdb, openlineage-dbt) reports to a live Steward.

dbt runs from its own virtual environment (`tests/dbt_env.py`, the `dbt_bin` fixture).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import httpx

from steward.app import Steward
from steward.config import Settings
from steward.quality.history import record_results
from steward.quality.models import CheckResult
from tests.e2e.conftest import Server

PROJECT = Path(__file__).parent / "dbt_shop"


def test_dbt_ol_build_becomes_lineage_in_steward(
    server: Server, dbt_bin: Path, tmp_path: Path
) -> None:
    dbt_ol = dbt_bin / "dbt-ol"
    project = tmp_path / "shop"
    shutil.copytree(PROJECT, project)
    config = tmp_path / "openlineage.yml"
    config.write_text(
        "transport:\n  type: http\n"
        f"  url: {server.url}\n"
        f"  auth: {{type: api_key, apiKey: {server.token}}}\n"
    )
    database = tmp_path / "shop.duckdb"
    env = {
        "PATH": f"{dbt_ol.parent}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "DBT_DUCKDB_PATH": str(database),
        "OPENLINEAGE_CONFIG": str(config),
        "OPENLINEAGE_NAMESPACE": "dbt",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    built = subprocess.run(
        [str(dbt_ol), "build", "--profiles-dir", str(project), "--project-dir", str(project)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    # START and COMPLETE of the seed, two models, and the tests of `revenue`.
    assert "Emitted 8 OpenLineage events" in built.stdout + built.stderr

    headers = {"Authorization": f"Bearer {server.token}"}
    namespace = f"duckdb://{database}"
    answer = httpx.get(
        f"{server.url}/api/v1/lineage",
        headers=headers,
        params={
            "nodeId": f"dataset:{namespace}:shop.main.revenue",
            "direction": "upstream",
            "depth": 1,
            # Wait for the normaliser to build every event acknowledged so far.
            "consistent": "true",
        },
    ).json()
    nodes = {node["id"]: node for node in answer["graph"]}
    assert f"dataset:{namespace}:shop.main.stg_orders" in nodes
    job = nodes["job:dbt:shop.main.shop.revenue.build.run"]
    assert job["data"]["latestRun"]["state"] == "COMPLETE"
    assert job["data"]["integration"] == "DBT"
    revenue = nodes[f"dataset:{namespace}:shop.main.revenue"]["data"]
    assert revenue["description"] == "Revenue per customer."
    assert {f["name"] for f in revenue["fields"]} == {"customer_id", "revenue"}

    # dbt's tests of `revenue`, reported by dbt-ol as data quality assertions, are on the
    # dataset page beside Steward's own checks, attributed to dbt's test job and run.
    revenue_node = f"dataset:{namespace}:shop.main.revenue"
    settings = Settings(
        home=Path(server.env["STEWARD_HOME"]),
        database_url=server.env.get("STEWARD_DATABASE_URL"),
    )
    steward = Steward(settings)
    record_results(
        steward.store,
        [
            CheckResult(
                name="revenue_positive",
                dataset=revenue_node,
                column="revenue",
                kind="min",
                severity="error",
                status="pass",
                failures=0,
                observed=5.5,
                threshold="!=0",
                message="",
                how="steward",
            )
        ],
    )
    steward.close()
    page = httpx.get(f"{server.url}/api/v1/datasets/{revenue_node}", headers=headers).json()
    checks = {check["check"]: check for check in page["quality"]}
    assert checks["revenue_positive"]["source"] == "steward"
    dbt_tests = {name: check for name, check in checks.items() if check["source"] == "openlineage"}
    assert set(dbt_tests) == {
        "not_null_revenue_customer_id",
        "unique_revenue_customer_id",
        "not_null_revenue_revenue",
    }
    for check in dbt_tests.values():
        assert (check["status"], check["success"]) == ("pass", True)
        assert check["job"]["name"].endswith(".build.test")
        assert check["runId"]
    assert dbt_tests["unique_revenue_customer_id"]["column"] == "customer_id"
