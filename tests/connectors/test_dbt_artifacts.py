"""The dbt source on hand-written artifacts: bad options, malformed files, dbt's edge cases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from steward.catalog.models import Identity, TableRef
from steward.connectors.dbt import open_dbt
from steward.errors import ConfigError, NotFound, SourceError


def node(uid: str, **fields: Any) -> dict[str, Any]:
    kind, name = uid.split(".")[0], uid.split(".")[-1]
    return {
        "unique_id": uid,
        "resource_type": kind,
        "name": name,
        "database": "wh",
        "schema": "main",
        "alias": name,
        "config": {"materialized": "table"},
        "depends_on": {"nodes": []},
        **fields,
    }


def write_target(target: Path, **artifacts: Any) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for name, content in artifacts.items():
        text = content if isinstance(content, str) else json.dumps(content)
        (target / f"{name}.json").write_text(text)
    return target


def manifest(*nodes: dict[str, Any], **sections: Any) -> dict[str, Any]:
    return {
        "metadata": {"project_name": "proj", "adapter_type": "postgres"},
        "nodes": {n["unique_id"]: n for n in nodes},
        **sections,
    }


def test_a_missing_manifest_is_a_source_error_naming_the_file(tmp_path: Path) -> None:
    source = open_dbt("proj", {"target": "target"}, home=tmp_path)
    with pytest.raises(SourceError, match=r"target/manifest.json: not found"):
        list(source.list_tables())


@pytest.mark.parametrize(
    ("artifacts", "message"),
    [
        ({"manifest": "{not json"}, r"manifest.json: not valid JSON"),
        ({"manifest": "[1, 2]"}, r"manifest.json: expected a JSON object, found list"),
        ({"manifest": {"nodes": {}}}, r"manifest.json: not a dbt manifest"),
        ({"manifest": manifest(sources=[1])}, r"manifest.json: `sources` is not an object"),
        (
            {"manifest": manifest(), "catalog": {"nodes": {"model.p.a": {"columns": []}}}},
            r"catalog.json: nodes.model.p.a.columns is not an object",
        ),
        (
            {"manifest": manifest(), "run_results": {"results": {"a": 1}}},
            r"run_results.json: `results` is not a list",
        ),
    ],
)
def test_malformed_artifacts_are_source_errors_naming_the_file(
    tmp_path: Path, artifacts: dict[str, Any], message: str
) -> None:
    write_target(tmp_path / "target", **artifacts)
    source = open_dbt("proj", {"target": str(tmp_path / "target")}, home=tmp_path)
    with pytest.raises(SourceError, match=message):
        list(source.list_tables())


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, r"sources.proj.target: required"),
        ({"target": "t", "manifest": "m.json"}, r"sources.proj.manifest: not a dbt source option"),
        ({"target": 3}, r"sources.proj.target: expected a path"),
        ({"target": "t", "namespace": ""}, r"sources.proj.namespace: expected a non-empty string"),
        ({"target": "t", "catalog": ["a"]}, r"sources.proj.catalog: expected a path"),
    ],
)
def test_bad_options_are_config_errors_naming_the_key(
    tmp_path: Path, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        open_dbt("proj", options, home=tmp_path)


def test_only_the_manifest_is_required_and_relative_paths_resolve_against_home(
    tmp_path: Path,
) -> None:
    columns = {"id": {"name": "id", "description": "Key.", "data_type": "int"}}
    write_target(
        tmp_path / "home" / "dbt" / "target", manifest=manifest(node("model.p.a", columns=columns))
    )
    source = open_dbt("proj", {"target": "dbt/target"}, home=tmp_path / "home")
    (table,) = [source.load_table(ref) for ref in source.list_tables()]
    assert table.name == "main.a"
    assert [(c.name, c.type, c.description) for c in table.columns] == [("id", "int", "Key.")]
    assert table.tests == ()


def test_without_a_profile_the_namespace_is_the_adapter_type(tmp_path: Path) -> None:
    write_target(tmp_path / "target", manifest=manifest(node("model.p.a")))
    source = open_dbt("proj", {"target": str(tmp_path / "target")}, home=tmp_path)
    (table,) = [source.load_table(ref) for ref in source.list_tables()]
    assert table.identity == Identity("postgres", "wh.main.a")
    assert source.namespace_from == "adapter type"


def test_the_profile_named_in_run_results_gives_the_namespace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    write_target(
        project / "target",
        manifest=manifest(node("model.p.a")),
        run_results={"results": [], "args": {"project_dir": str(project), "target": "prod"}},
    )
    (project / "dbt_project.yml").write_text("name: p\nprofile: warehouse\n")
    (project / "profiles.yml").write_text(
        "warehouse:\n  target: dev\n  outputs:\n"
        "    dev: {type: postgres, host: localhost, port: 5432}\n"
        "    prod: {type: postgres, host: \"{{ env_var('PGHOST') }}\", "
        "port: \"{{ env_var('PGPORT', '6543') | as_number }}\"}\n"
    )
    monkeypatch.setenv("PGHOST", "db.example.com")
    source = open_dbt("proj", {"target": str(project / "target")}, home=tmp_path)
    (table,) = [source.load_table(ref) for ref in source.list_tables()]
    assert table.identity == Identity("postgres://db.example.com:6543", "wh.main.a")
    monkeypatch.delenv("PGHOST")
    # An unset variable without a default cannot be rendered: the fallback, not a wrong name.
    again = open_dbt("proj", {"target": str(project / "target")}, home=tmp_path)
    assert again.namespace == "postgres"


def test_compile_only_statuses_are_not_test_outcomes(tmp_path: Path) -> None:
    test = node(
        "test.p.not_null_a_id",
        attached_node="model.p.a",
        column_name="id",
        test_metadata={"name": "not_null", "kwargs": {"column_name": "id"}},
        depends_on={"nodes": ["model.p.a"]},
    )
    results = {"results": [{"unique_id": "test.p.not_null_a_id", "status": "success"}]}
    write_target(tmp_path / "t", manifest=manifest(node("model.p.a"), test), run_results=results)
    source = open_dbt("proj", {"target": str(tmp_path / "t"), "namespace": "pg"}, home=tmp_path)
    (table,) = [source.load_table(ref) for ref in source.list_tables()]
    assert [(t.name, t.column, t.status) for t in table.tests] == [("not_null", "id", None)]


def test_ephemeral_models_are_no_tables_but_pass_on_their_upstream(tmp_path: Path) -> None:
    nodes = [
        node("model.p.a"),
        node(
            "model.p.b", config={"materialized": "ephemeral"}, depends_on={"nodes": ["model.p.a"]}
        ),
        node("model.p.c", depends_on={"nodes": ["model.p.b", "macro.p.m"]}),
    ]
    write_target(tmp_path / "t", manifest=manifest(*nodes))
    source = open_dbt("proj", {"target": str(tmp_path / "t"), "namespace": "pg"}, home=tmp_path)
    names = [ref.name for ref in source.list_tables()]
    assert sorted(names) == ["main.a", "main.c"]
    assert source.load_table(TableRef("main.c")).upstream == ("main.a",)


def test_a_source_whose_identifier_differs_keeps_dbt_ols_name_as_a_symlink(tmp_path: Path) -> None:
    customers = node("source.p.crm.customers", identifier="tbl_customers", schema="crm")
    customers["source_name"] = "crm"
    write_target(tmp_path / "t", manifest=manifest(sources={customers["unique_id"]: customers}))
    source = open_dbt("proj", {"target": str(tmp_path / "t"), "namespace": "pg"}, home=tmp_path)
    table = source.load_table(TableRef("crm.tbl_customers"))
    assert table.identity == Identity("pg", "wh.crm.tbl_customers")
    assert Identity("pg", "wh.crm.customers") in table.symlinks


def test_tables_outside_the_main_database_are_named_with_their_database(tmp_path: Path) -> None:
    nodes = [node("model.p.a"), node("model.p.b"), node("model.p.c", database="other")]
    write_target(tmp_path / "t", manifest=manifest(*nodes))
    source = open_dbt("proj", {"target": str(tmp_path / "t"), "namespace": "pg"}, home=tmp_path)
    assert sorted(ref.name for ref in source.list_tables()) == ["main.a", "main.b", "other.main.c"]
    with pytest.raises(NotFound, match=r"no dbt node is named main\.c"):
        source.load_table(TableRef("main.c"))


def catalog_entry(uid: str, table: str, columns: list[str]) -> dict[str, Any]:
    return {
        "unique_id": uid,
        "metadata": {"database": "ANALYTICS", "schema": "PUBLIC", "name": table},
        "columns": {c: {"name": c, "type": "NUMBER", "index": i} for i, c in enumerate(columns)},
    }


def test_snowflake_upper_case_names_keep_their_column_lineage(tmp_path: Path) -> None:
    # What dbt-snowflake writes: the relation and columns in upper case in catalog.json,
    # the compiled SQL in whatever case the model was written (unquoted: case-insensitive).
    where = {"database": "ANALYTICS", "schema": "PUBLIC"}
    orders = node("model.p.stg_orders", **where, compiled_code="select 1 as id")
    revenue = node(
        "model.p.revenue",
        **where,
        depends_on={"nodes": ["model.p.stg_orders"]},
        compiled_code=(
            "select customer_id, sum(amount) as revenue, count(*) as orders"
            " from analytics.public.stg_orders where status = 'paid' group by customer_id"
        ),
    )
    catalog = {
        "nodes": {
            "model.p.stg_orders": catalog_entry(
                "model.p.stg_orders", "STG_ORDERS", ["ID", "CUSTOMER_ID", "AMOUNT", "STATUS"]
            ),
            "model.p.revenue": catalog_entry(
                "model.p.revenue", "REVENUE", ["CUSTOMER_ID", "REVENUE", "ORDERS"]
            ),
        },
        "sources": {},
    }
    document = manifest(orders, revenue)
    document["metadata"]["adapter_type"] = "snowflake"
    write_target(tmp_path / "t", manifest=document, catalog=catalog)
    source = open_dbt("proj", {"target": str(tmp_path / "t"), "namespace": "sf"}, home=tmp_path)
    table = source.load_table(TableRef("PUBLIC.revenue"))
    assert [c.name for c in table.columns] == ["CUSTOMER_ID", "REVENUE", "ORDERS"]
    assert dict(table.column_upstream) == {
        "CUSTOMER_ID": (("PUBLIC.stg_orders", "CUSTOMER_ID"),),
        "REVENUE": (("PUBLIC.stg_orders", "AMOUNT"),),
    }
    assert table.column_transformations["REVENUE"] == {
        ("PUBLIC.stg_orders", "AMOUNT"): (("DIRECT", "AGGREGATION"),)
    }
