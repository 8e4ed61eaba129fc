"""`steward catalog`, `steward search` and `steward export` on the embedded lake."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
import yaml
from pyiceberg.schema import Schema
from pyiceberg.types import LongType, NestedField, StringType

from steward.connectors.iceberg import lake_catalog
from tests.cli_run import steward_cli

STEWARD = [sys.executable, "-m", "steward.cli"]


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return steward_cli(home, *args)


@pytest.mark.slow  # a dozen `steward` processes in a row (~2 minutes here under load)
def test_a_catalog_session_from_the_command_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    catalog = lake_catalog(home)
    catalog.create_namespace("crm")
    schema = Schema(NestedField(1, "id", LongType()), NestedField(2, "contact", StringType()))
    table = catalog.create_table("crm.people", schema)
    table.append(
        pa.table(
            {
                "id": pa.array(range(30), pa.int64()),
                "contact": [f"p{i}@mail.example.org" for i in range(30)],
            },
            schema=schema.as_arrow(),
        )
    )
    catalog.close()

    synced = run(home, "catalog", "sync", "lake")
    assert synced.returncode == 0, synced.stderr
    assert "lake: 1 tables; 1 new" in synced.stderr
    assert run(home, "catalog", "describe", "crm.people", "x").returncode == 4  # not a name
    described = run(
        home, "catalog", "describe", "lake.crm.people", "Everyone we know", "--author", "kim"
    )
    assert described.returncode == 0, described.stderr
    assert run(home, "catalog", "own", "lake.crm.people", "crm", "--group").returncode == 0

    classified = run(home, "catalog", "classify", "lake.crm.people", "--json")
    assert classified.returncode == 0, classified.stderr
    findings = json.loads(classified.stdout)[0]["findings"]
    assert [(f["column"], f["tag"]) for f in findings] == [("contact", "pii.email")]
    assert "@" not in findings[0]["reason"]

    rejected = run(
        home, "catalog", "tag", "lake.crm.people", "pii.email", "--column", "contact", "--reject"
    )
    assert rejected.returncode == 0, rejected.stderr
    shown = json.loads(run(home, "catalog", "show", "lake.crm.people", "--json").stdout)
    assert shown["description"]["author"] == "kim"
    assert next(c for c in shown["columns"] if c["name"] == "contact")["tags"] == []

    found = json.loads(run(home, "search", "everyone", "--json").stdout)
    assert [f["name"] for f in found] == ["lake.crm.people"]
    assert json.loads(run(home, "search", "everyone", "--owner", "nobody", "--json").stdout) == []

    out = tmp_path / "catalog-info.yaml"
    assert run(home, "export", "backstage", "-o", str(out)).returncode == 0
    (entity,) = yaml.safe_load_all(out.read_text())
    assert entity["spec"]["owner"] == "group:default/crm"
    docs = run(home, "export", "docs", "-o", str(tmp_path / "dictionary"))
    assert docs.returncode == 0, docs.stderr
    assert "Everyone we know" in (tmp_path / "dictionary" / "lake.crm.people.html").read_text()
