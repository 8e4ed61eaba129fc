"""`steward demo`: what it builds, that a second run changes nothing, and `--reset`."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from steward.app import Steward
from steward.audit.log import AuditFilter, list_records
from steward.cli.main import app
from steward.config import Settings
from steward.connectors.iceberg import lake_catalog
from steward.demo.build import build_demo, summarize
from steward.demo.home import MARK, open_demo_home, wipe_demo_home
from steward.demo.lake import AUDIT_BRANCH, ORDERS
from steward.demo.lineage import recorded_events
from steward.errors import InvalidInput
from tests.demo.conftest import BuiltDemo


def test_a_second_run_changes_nothing_and_prints_the_same_tokens(
    built_demo: BuiltDemo, demo_steward: Steward
) -> None:
    before = summarize(demo_steward)
    again = build_demo(demo_steward)
    assert again.built_now == []
    assert again.summary == before
    assert again.tokens == built_demo.demo.tokens
    assert set(again.tokens) == {"analyst", "eu-analyst", "platform-admin"}
    assert before.tables == 4
    # The recorded chain, plus what the governed queries and the publish gate reported.
    assert before.lineage_events > len(recorded_events(built_demo.demo.home.facts["locations"]))
    assert before.pii_columns >= 3  # two emails and a phone number


def test_each_persona_query_is_in_the_audit_log_masked_filtered_or_denied(
    demo_steward: Steward,
) -> None:
    with demo_steward.store.read() as conn:
        records = list_records(conn, AuditFilter(action="query", user=None), limit=1000)
    by_user = {(r.user, r.decision) for r in records}
    assert ("ana", "masked") in by_user
    assert ("eva", "filtered") in by_user
    assert ("ana", "denied") in by_user
    assert ("pat", "allowed") in by_user


def test_the_planted_defect_keeps_the_audit_branch_off_main(
    built_demo: BuiltDemo,
) -> None:
    assert built_demo.demo.home.facts["blocked_by"] == [
        "relationships(user_id -> lake.crm.users.user_id)"
    ]
    catalog = lake_catalog(built_demo.home)
    try:
        orders = catalog.load_table("sales.orders")
        main_ids = sorted(orders.scan().to_arrow()["order_id"].to_pylist())
        assert main_ids == sorted(o[0] for o in ORDERS)
        assert AUDIT_BRANCH in orders.metadata.refs
    finally:
        catalog.close()


def test_the_registry_refusal_names_the_subjects_version(built_demo: BuiltDemo) -> None:
    refused = built_demo.demo.home.facts["registry_refused"]
    assert "repo_id" in refused
    assert "version 1" in refused
    assert "version 0" not in refused  # the rules' index, not a version the subject has


def test_the_leaked_token_is_found_in_history_only(
    built_demo: BuiltDemo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    repo = str(built_demo.home / "demo-repo")
    runner = CliRunner()
    tree = runner.invoke(app, ["scan", repo, "--jobs", "1"])
    assert tree.exit_code == 0, tree.output
    history = runner.invoke(app, ["scan", repo, "--history", "--jobs", "1"])
    assert history.exit_code == 1, history.output
    assert "github-token" in history.output
    assert "deploy/settings.py" in history.output


def test_reset_refuses_a_home_that_is_not_a_demo(tmp_path: Path) -> None:
    home = tmp_path / "real"
    steward = Steward(Settings(home=home))
    steward.upgrade()
    steward.close()
    with pytest.raises(InvalidInput, match="not a demo home"):
        wipe_demo_home(home)
    with pytest.raises(InvalidInput, match="not a demo"):
        open_demo_home(home)
    assert (home / "steward.db").is_file()  # nothing was deleted


def test_steward_demo_refuses_a_home_that_is_not_a_demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "real"
    (home).mkdir()
    (home / "steward.toml").write_text("port = 5001\n", encoding="utf-8")
    monkeypatch.setenv("STEWARD_HOME", str(home))
    monkeypatch.delenv("STEWARD_DATABASE_URL", raising=False)
    for args in (["demo"], ["demo", "--reset"]):
        result = CliRunner().invoke(app, args)
        assert isinstance(result.exception, InvalidInput), result.output
        assert "not a demo" in result.exception.message
    assert sorted(p.name for p in home.iterdir()) == ["steward.toml"]


def test_reset_deletes_a_demo_home(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    open_demo_home(home)
    (home / "steward.db").write_bytes(b"")
    wipe_demo_home(home)
    assert not home.exists()
    assert not (home / MARK).exists()


@pytest.mark.slow  # a whole second build: ~10 s on an idle machine, 30 s on a busy one
def test_steward_demo_reset_builds_the_demo_anew(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.demo.conftest import build_in

    home = tmp_path / "demo"
    first = build_in(home)
    monkeypatch.setenv("STEWARD_HOME", str(home))
    monkeypatch.delenv("STEWARD_DATABASE_URL", raising=False)
    result = CliRunner().invoke(app, ["demo", "--reset"])
    assert result.exit_code == 0, result.output
    assert "deleted the demo home" in result.output
    mark = open_demo_home(home)
    assert set(mark.tokens) == set(first.tokens)
    assert not set(mark.tokens.values()) & set(first.tokens.values())  # new tokens
    steward = Steward(Settings(home=home))
    try:
        assert summarize(steward) == first.summary
    finally:
        steward.close()
