"""`steward demo`'s dbt model: a real `dbt-ol run` when dbt-ol is on PATH, else recorded.

The slow test runs the demo with dbt-core 1.11, dbt-duckdb and openlineage-dbt from their
own virtual environment (`tests/dbt_env.py`, the `dbt_bin` fixture) on PATH. The others
use the session's demo, built without dbt (recorded), and a `dbt-ol` that fails.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from steward.app import Steward
from steward.catalog.models import Identity
from steward.cli.main import app
from steward.config import Settings
from steward.connectors.iceberg import lake_catalog, location_identity
from steward.demo.build import summarize
from steward.demo.dbt import MART, DbtRunFailed, dbt_namespace, find_dbt_ol, run_dbt_ol
from steward.demo.home import open_demo_home
from steward.demo.lake import build_lake
from steward.demo.lineage import is_dbt_event, recorded_events
from steward.lineage.queries import list_events, list_runs
from tests.demo.conftest import BuiltDemo

DBT_JOB = "lake.marts.demo.commits_by_country"


def _check(home: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("STEWARD_HOME", str(home))
    monkeypatch.delenv("STEWARD_DATABASE_URL", raising=False)
    result = CliRunner().invoke(app, ["lineage", "check", "lake.marts.commits_by_country"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.output


def _assert_the_two_findings(output: str) -> None:
    """svc-dbt read all regions of users under an EU-only filter, and commits ungranted."""
    lines = output.splitlines()
    unfiltered = [line for line in lines if "unfiltered-read" in line]
    denied = [line for line in lines if "denied-table" in line]
    assert len(unfiltered) == 1, output
    assert len(denied) == 1, output
    for line in unfiltered + denied:
        assert f"job:dbt:{DBT_JOB} as svc-dbt" in line
    assert "read lake.crm.users without filtering on region" in unfiltered[0]
    assert "read lake.git.commits: nothing grants select" in denied[0]


def _shape(events: Iterable[dict[str, Any]]) -> list[Any]:
    """What the demo's lineage relies on in dbt-ol's events: their kinds, jobs, datasets,
    schemas and column lineage (not times, run ids or producer versions)."""

    def dataset(d: dict[str, Any]) -> tuple[Any, ...]:
        facets = d.get("facets", {})
        fields = [(f["name"], f.get("type")) for f in facets.get("schema", {}).get("fields", [])]
        lineage = {
            column: sorted((i["namespace"], i["name"], i["field"]) for i in item["inputFields"])
            for column, item in facets.get("columnLineage", {}).get("fields", {}).items()
        }
        return (d["namespace"], d["name"], fields, sorted(lineage.items()))

    return [
        (
            e["eventType"],
            e["job"]["namespace"],
            e["job"]["name"],
            "parent" in e["run"].get("facets", {}),
            [dataset(d) for d in e.get("inputs", [])],
            [dataset(d) for d in e.get("outputs", [])],
        )
        for e in events
    ]


@pytest.mark.slow  # a real dbt run: ~10 s on an idle machine, and the dbt venv once
@pytest.mark.timeout(900)  # the first run installs dbt into its cached venv
def test_steward_demo_builds_the_mart_with_a_real_dbt_ol_run(
    dbt_bin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "demo"
    # After the rest of PATH: this process's own tools come first.
    monkeypatch.setenv("PATH", f"{os.environ['PATH']}{os.pathsep}{dbt_bin}")
    monkeypatch.setenv("STEWARD_HOME", str(home))
    monkeypatch.delenv("STEWARD_DATABASE_URL", raising=False)
    built = CliRunner().invoke(app, ["demo"])
    assert built.exit_code == 0, built.output
    assert "dbt model: built by a real `dbt-ol run`" in built.output
    assert "integration/dbt" in built.output  # the producer of the events stored

    steward = Steward(Settings(home=home))
    try:
        with steward.store.read() as conn:
            runs = list_runs(conn, "dbt", DBT_JOB)["runs"]
            assert len(runs) == 1
            run = runs[0]
            events = list_events(conn, run_id=run["runId"])["events"]
        # The model's run is openlineage-dbt's, reported by dbt-ol as dbt ran it.
        assert {e["producer"] for e in events} == {
            e["producer"] for e in events if "/integration/dbt" in e["producer"]
        }
        assert {e["eventType"] for e in events} == {"START", "COMPLETE"}
        assert run["facets"]["dbt_version"]["version"].startswith("1.11.")
        assert run["facets"]["dbt_run"]["project_name"] == "demo"
        # Named as the lake names the mart, dbt-ol's DuckDB name kept as a symlink.
        mart = _lake_identity(home, MART)
        assert run["outputs"] == [{"namespace": mart.namespace, "name": mart.name}]
        complete = next(e for e in events if e["eventType"] == "COMPLETE")
        symlinks = complete["outputs"][0]["facets"]["symlinks"]["identifiers"]
        assert symlinks == [{"namespace": dbt_namespace(home), "name": MART, "type": "TABLE"}]
        summary = summarize(steward)
    finally:
        steward.close()

    # The Iceberg mart's rows are those dbt wrote, the same as the recorded path's mart.
    catalog = lake_catalog(home)
    try:
        mart = catalog.load_table("marts.commits_by_country")
        files = [task.file.file_path for task in mart.scan().plan_files()]
        rows = mart.scan().to_arrow().sort_by("country").to_pylist()
    finally:
        catalog.close()
    assert len(files) == 1, files
    assert Path(files[0]).name.startswith("dbt-"), files
    assert {r["country"]: (r["commits"], r["authors"]) for r in rows} == {
        "DE": (1, 1),
        "ES": (2, 1),
        "GB": (3, 1),
        "JP": (1, 1),
        "SE": (2, 1),
        "SG": (1, 1),
        "US": (2, 2),
    }

    # The recorded dbt events are a dbt-ol run's: the same jobs, datasets and lineage.
    real = [e for e in events_of(home) if is_dbt_event(e)]
    locations = open_demo_home(home).facts["locations"]
    recorded = recorded_events(locations, dbt_namespace=dbt_namespace(home))
    assert _shape(real) == _shape(e for e in recorded if is_dbt_event(e))

    _assert_the_two_findings(_check(home, monkeypatch))

    again = CliRunner().invoke(app, ["demo"])
    assert again.exit_code == 0, again.output
    assert "already built: nothing changed" in again.output
    steward = Steward(Settings(home=home))
    try:
        assert summarize(steward) == summary
    finally:
        steward.close()


def _lake_identity(home: Path, name: str) -> Identity:
    catalog = lake_catalog(home)
    try:
        return location_identity(catalog.load_table(name.removeprefix("lake.")).location())
    finally:
        catalog.close()


def events_of(home: Path) -> list[dict[str, Any]]:
    """The events dbt-ol wrote through its file transport in the demo's dbt project."""
    import orjson

    text = (home / "dbt" / "openlineage-events.ndjson").read_bytes()
    return [orjson.loads(line) for line in text.splitlines() if line.strip()]


def test_the_recorded_dbt_events_show_the_two_findings(
    built_demo: BuiltDemo, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert built_demo.demo.home.facts["dbt_from"] == "recorded"
    _assert_the_two_findings(_check(built_demo.home, monkeypatch))


def test_steward_demo_says_it_stored_recorded_dbt_events(
    built_demo: BuiltDemo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(built_demo.user_home))
    monkeypatch.delenv("STEWARD_HOME", raising=False)
    monkeypatch.delenv("STEWARD_DATABASE_URL", raising=False)
    result = CliRunner().invoke(app, ["demo", "--recorded"])
    assert result.exit_code == 0, result.output
    assert "dbt model: lineage from recorded dbt-ol events (stored when the demo" in result.output


def _script(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{text}\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_dbt_ol_is_used_only_with_dbt_beside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dbt_ol = _script(tmp_path, "dbt-ol", "exit 0")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_dbt_ol() is None
    _script(tmp_path, "dbt", "exit 0")
    assert find_dbt_ol() == dbt_ol


def test_a_failing_dbt_ol_run_leaves_the_mart_as_it_was(tmp_path: Path) -> None:
    # A dbt-ol that fails as one without the DuckDB adapter does: installing such a dbt
    # for one test would take minutes, and what is tested is what the demo does after.
    dbt_ol = _script(tmp_path, "dbt-ol", 'echo "Could not find adapter type duckdb!"; exit 2')
    home = tmp_path / "home"
    build_lake(home)
    mart_data = next(home.glob("lakehouse/warehouse/marts/commits_by_country/data"))
    before = sorted(p.name for p in mart_data.iterdir())
    with pytest.raises(DbtRunFailed) as failed:
        run_dbt_ol(home, dbt_ol)
    assert "exit code 2" in failed.value.message
    log = home / "dbt" / "dbt-ol.log"
    assert str(log) in failed.value.message
    assert "Could not find adapter type duckdb!" in log.read_text(encoding="utf-8")
    assert sorted(p.name for p in mart_data.iterdir()) == before


def test_the_projects_transformer_names_lake_tables_as_the_lake_does() -> None:
    """The transformer dbt-ol runs (openlineage.yml), on an event built with the real
    openlineage-python client, as dbt-ol builds the model's."""
    import importlib.util
    from importlib.resources import as_file, files

    from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent
    from openlineage.client.generated.column_lineage_dataset import (
        ColumnLineageDatasetFacet,
        Fields,
        InputField,
    )
    from openlineage.client.serde import Serde

    with as_file(files("steward.demo") / "files" / "dbt" / "steward_lake_names.py") as path:
        spec = importlib.util.spec_from_file_location("steward_lake_names", path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    duckdb = "duckdb:///home/dbt/lake.duckdb"
    names = module.LakeNames(
        {
            "namespace": duckdb,
            "tables": {
                "lake.crm.users": ["file", "/w/crm/users"],
                "lake.marts.commits_by_country": ["file", "/w/marts/commits_by_country"],
            },
        }
    )
    lineage = ColumnLineageDatasetFacet(
        fields={
            "country": Fields(
                inputFields=[InputField(namespace=duckdb, name="lake.crm.users", field="country")]
            ),
            "other": Fields(
                inputFields=[InputField(namespace=duckdb, name="lake.crm.other", field="x")]
            ),
        }
    )
    event = RunEvent(
        eventType="COMPLETE",  # type: ignore[arg-type]
        eventTime="2026-11-02T07:00:00Z",
        run=Run(runId="01a228ef-d954-7722-8c22-814e52f1fd0c"),
        job=Job(namespace="dbt", name=DBT_JOB),
        producer="https://github.com/OpenLineage/OpenLineage/tree/1.54.0/integration/dbt",
        inputs=[
            InputDataset(namespace=duckdb, name="lake.crm.users"),
            InputDataset(namespace=duckdb, name="lake.crm.other"),  # not a lake table
        ],
        outputs=[OutputDataset(namespace=duckdb, name=MART, facets={"columnLineage": lineage})],
    )
    written = Serde.to_dict(names.transform(event))
    users, other = written["inputs"]
    assert (users["namespace"], users["name"]) == ("file", "/w/crm/users")
    assert users["facets"]["symlinks"]["identifiers"] == [
        {"namespace": duckdb, "name": "lake.crm.users", "type": "TABLE"}
    ]
    assert (other["namespace"], other["name"]) == (duckdb, "lake.crm.other")
    assert "symlinks" not in other.get("facets", {})
    mart = written["outputs"][0]
    assert (mart["namespace"], mart["name"]) == ("file", "/w/marts/commits_by_country")
    fields = mart["facets"]["columnLineage"]["fields"]
    (country,) = fields["country"]["inputFields"]
    assert (country["namespace"], country["name"]) == ("file", "/w/crm/users")
    (kept,) = fields["other"]["inputFields"]
    assert (kept["namespace"], kept["name"]) == (duckdb, "lake.crm.other")
    assert written["producer"].endswith("/integration/dbt")
