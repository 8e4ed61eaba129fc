"""`steward schema history|diff|check|deprecate` on the embedded lake, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pyiceberg.schema import Schema
from pyiceberg.types import LongType, NestedField, StringType

from steward.connectors.iceberg import lake_catalog
from tests.cli_run import steward_cli


@pytest.mark.slow
def test_a_schema_session_from_the_command_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    catalog = lake_catalog(home)
    catalog.create_namespace("crm")
    table = catalog.create_table(
        "crm.people",
        Schema(
            NestedField(1, "id", LongType(), required=True),
            NestedField(2, "contact", StringType()),
            NestedField(3, "city", StringType()),
        ),
    )
    assert steward_cli(home, "catalog", "sync", "lake").returncode == 0
    with table.update_schema() as update:
        update.rename_column("contact", "email")
        update.delete_column("city")
    catalog.close()
    # Two syncs without a schema read in between: the sync itself records the versions.
    assert steward_cli(home, "catalog", "sync", "lake").returncode == 0

    shown = steward_cli(home, "schema", "history", "lake.crm.people")
    assert shown.returncode == 0, shown.stderr
    assert "v1" in shown.stdout
    assert "v2" in shown.stdout
    assert "renamed email: contact -> email" in shown.stdout
    assert "dropped city (string)" in shown.stdout

    diffed = steward_cli(home, "schema", "diff", "lake.crm.people", "1", "2", "--json")
    assert diffed.returncode == 0, diffed.stderr
    assert {(c["kind"], c["path"], c["fieldId"]) for c in json.loads(diffed.stdout)} == {
        ("renamed", "email", 2),
        ("dropped", "city", 3),
    }

    # Proposed: an Iceberg schema that drops `email` (field 2) and widens nothing.
    proposed = tmp_path / "proposed.json"
    proposed.write_text(
        json.dumps(
            {
                "type": "struct",
                "fields": [{"id": 1, "name": "id", "required": True, "type": "long"}],
            }
        )
    )
    checked = steward_cli(
        home, "schema", "check", "lake.crm.people", "--proposed", str(proposed), "--json"
    )
    assert checked.returncode == 1, checked.stderr
    report = json.loads(checked.stdout)
    assert report["breaking"] is True
    assert [(c["kind"], c["path"], c["rule"]) for c in report["changes"]] == [
        ("dropped", "email", "no-drop")
    ]

    safe = tmp_path / "safe.json"
    safe.write_text(
        json.dumps(
            [
                {"name": "id", "type": "long"},
                {"name": "email", "type": "string"},
                {"name": "phone", "type": "string"},
            ]
        )
    )
    assert (
        steward_cli(home, "schema", "check", "lake.crm.people", "--proposed", str(safe)).returncode
        == 0
    )

    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    refused = steward_cli(home, "schema", "check", "lake.crm.people", "--proposed", str(bad))
    assert refused.returncode == 2
    assert "--proposed" in refused.stderr

    deprecated = steward_cli(
        home,
        "schema",
        "deprecate",
        "lake.crm.people.email",
        "--sunset",
        "2000-01-01",
        "--replacement",
        "contact_email",
    )
    assert deprecated.returncode == 0, deprecated.stderr
    # Past its sunset, dropping the deprecated column passes.
    after = steward_cli(home, "schema", "check", "lake.crm.people", "--proposed", str(proposed))
    assert after.returncode == 0, after.stdout + after.stderr
    assert "allowed, deprecated with sunset 2000-01-01" in after.stdout
    unknown = steward_cli(
        home, "schema", "deprecate", "lake.crm.people.nope", "--sunset", "2030-01-01"
    )
    assert unknown.returncode == 2
    assert "no column 'nope'" in unknown.stderr
