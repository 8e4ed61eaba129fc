"""`steward quality validate` and `run`: line numbers, exit codes, JUnit XML, JSON."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from steward.app import Steward
from tests.cli_run import steward_cli
from tests.quality.conftest import checks_text, make_shop

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return steward_cli(home, "quality", *args)


def test_validate_names_the_line_of_each_mistake(tmp_path: Path) -> None:
    path = tmp_path / "checks.yaml"
    path.write_text(
        "version: 1\ndatasets:\n  - name: lake.shop.orders\n    columns:\n"
        "      - name: id\n        checks:\n          - not_nul\n"
        "          - accepted_values: {values: [a], error_if: 'lots'}\n",
        encoding="utf-8",
    )
    done = run(tmp_path / "home", "validate", str(path))
    assert done.returncode == 2
    assert f"{path}:7: datasets[0].columns[0].checks[0]: unknown check 'not_nul'" in done.stderr
    assert f"{path}:8: " in done.stderr
    assert "'lots' is not a threshold" in done.stderr


@pytest.mark.slow
@SQLITE_ONLY
def test_run_exits_1_on_failure_and_writes_junit(steward: Steward, tmp_path: Path) -> None:
    make_shop(steward)
    path = tmp_path / "checks.yaml"
    path.write_text(checks_text("lake.shop.orders", "lake.shop.customers"), encoding="utf-8")
    junit = tmp_path / "junit.xml"
    done = run(steward.settings.home, "run", str(path), "--junit", str(junit), "--json")
    assert done.returncode == 1, done.stderr
    results = {r["name"]: r for r in json.loads(done.stdout)}
    assert results["not_null(order_id)"]["failures"] == 1
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert suite.get("name") == "lake.shop.orders"
    failed = {c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None}
    assert "relationships(customer_id -> lake.shop.customers.id)" in failed
    assert suite.get("tests") == str(len(results))
    assert suite.get("failures") == str(len(failed))


@pytest.mark.slow
@SQLITE_ONLY
def test_run_exit_codes_for_clean_warn_and_unrunnable(steward: Steward, tmp_path: Path) -> None:
    make_shop(steward)
    path = tmp_path / "checks.yaml"
    path.write_text(
        "version: 1\ndatasets:\n  - name: lake.shop.orders_clean\n    checks:\n"
        "      - row_count: {max: 1, severity: warn}\n    columns:\n"
        "      - name: order_id\n        checks: [not_null, unique]\n",
        encoding="utf-8",
    )
    done = run(steward.settings.home, "run", "lake.shop.orders_clean", "--checks", str(path))
    assert done.returncode == 0, done.stderr
    assert "warn" in done.stdout
    path.write_text(
        "version: 1\ndatasets:\n  - name: lake.shop.orders_clean\n    checks:\n"
        "      - sql: {sql: 'select no_such_column from lake.shop.orders_clean'}\n",
        encoding="utf-8",
    )
    junit = tmp_path / "junit.xml"
    done = run(steward.settings.home, "run", str(path), "--junit", str(junit))
    assert done.returncode == 3, done.stdout
    assert ET.parse(junit).getroot().find("testsuite/testcase/error") is not None


@pytest.mark.slow
@SQLITE_ONLY
def test_checks_held_in_the_catalog_run_and_gate_without_a_file(
    steward: Steward, tmp_path: Path
) -> None:
    make_shop(steward)
    path = tmp_path / "checks.yaml"
    path.write_text(checks_text("lake.shop.orders", "lake.shop.customers"), encoding="utf-8")
    attached = run(steward.settings.home, "attach", str(path))
    assert attached.returncode == 0, attached.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    home = steward.settings.home
    done = steward_cli(home, "quality", "run", "lake.shop.orders", "--json", cwd=elsewhere)
    assert done.returncode == 1, done.stderr
    results = {r["name"]: r for r in json.loads(done.stdout)}
    assert results["not_null(order_id)"]["failures"] == 1
    missing = steward_cli(home, "quality", "run", "lake.shop.nothing", cwd=elsewhere)
    assert missing.returncode == 2
    assert "catalog holds none" in missing.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\ndatasets:\n  - name: lake.shop.orders\n    checks: [nope]\n")
    refused = run(steward.settings.home, "attach", str(bad))
    assert refused.returncode == 2
    assert "bad.yaml:4" in refused.stderr
