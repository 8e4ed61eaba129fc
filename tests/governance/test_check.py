"""`steward lineage check`: exit codes, JUnit that CI parses, findings raised once and
resolved when fixed, alerts to a real Alertmanager receiver on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from click.testing import Result
from typer.testing import CliRunner

from steward.app import Steward
from steward.cli.main import app
from steward.config import Settings
from steward.governance.check import check, datasets_to_check
from steward.policy.versions import apply
from tests.cli_run import steward_cli
from tests.governance.conftest import ADMIN, MASKED, POLICY, RunEtl
from tests.quality.test_alerts import Receiver

TRAINING = "dataset:ml:training_set"


def lineage_check(home: Path, *args: str) -> Result:
    """`steward lineage check ARGS...` run in this process against `home`."""
    return CliRunner().invoke(app, ["lineage", "check", *args], env={"STEWARD_HOME": str(home)})


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.close()


@pytest.mark.slow
def test_lineage_check_exits_1_with_junit_naming_the_finding_then_0_once_fixed(
    lake: Steward, run_etl: RunEtl
) -> None:
    home = lake.settings.home
    version = apply(lake.store, POLICY, actor=ADMIN)
    run_id = run_etl()  # posted by svc-etl: reads email clear where masks[0] masks it

    first = steward_cli(home, "lineage", "check", "--format", "junit")
    assert first.returncode == 1, first.stderr
    suites = ET.fromstring(first.stdout)
    (suite,) = suites.findall("testsuite")
    assert suite.get("name") == TRAINING
    assert suite.get("failures") == "1"
    (case,) = suite.findall("testcase")
    assert case.get("name") == f"job:etl:build_training run {run_id}"
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("type") == "masked-read-clear"
    assert f"policy v{version}" in (failure.text or "")
    assert "lake.crm.customers.email" in (failure.text or "")
    assert "masks[0]" in (failure.text or "")

    # The same command in this process (a subprocess start costs seconds here).
    again = lineage_check(home, TRAINING, "--format", "json")
    assert again.exit_code == 1, again.stderr
    answer = json.loads(again.stdout)
    assert [(f["runId"], f["column"], f["rule"], f["new"]) for f in answer["findings"]] == [
        (run_id, "email", "masks[0]", False)  # raised by the first check, not again
    ]

    run_etl(email=MASKED)  # the job now reads email through the mask
    fixed = lineage_check(home)
    assert fixed.exit_code == 0, fixed.stdout + fixed.stderr
    assert f"{TRAINING}: allowed" in fixed.stdout
    assert "resolved: " in fixed.stdout
    assert "resolved" not in lineage_check(home).stdout


def test_lineage_check_exits_2_when_a_dataset_cannot_be_evaluated(lake: Steward) -> None:
    home = lake.settings.home
    unknown = lineage_check(home, "dataset:nowhere:nothing")
    assert unknown.exit_code == 2
    assert "error: dataset:nowhere:nothing" in unknown.stdout
    bad_time = lineage_check(home, "--since", "yesterday")
    assert bad_time.exit_code == 2
    assert "--since: 'yesterday' is not an ISO 8601 time" in bad_time.stderr


def test_a_finding_alerts_once_while_it_persists_and_resolves_once(
    lake: Steward, run_etl: RunEtl, receiver: Receiver
) -> None:
    apply(lake.store, POLICY, actor=ADMIN)
    run_etl()
    steward = Steward(Settings(home=lake.settings.home, quality_alertmanager_url=receiver.url))
    try:
        first = check(steward)
        second = check(steward)
        run_etl(email=MASKED)
        third = check(steward)
    finally:
        steward.close()
    assert (len(first.raised), len(second.raised), len(third.resolved)) == (1, 0, 1)
    assert [f.kind for f in second.findings] == ["masked-read-clear"]
    alerts = [a for body in receiver.bodies("/api/v2/alerts") for a in body]
    assert [("startsAt" in a, a["labels"]["dataset"]) for a in alerts] == [
        (True, TRAINING),
        (False, TRAINING),
    ]
    assert "lake.crm.customers.email" in alerts[0]["labels"]["check"]
    assert "masks[0]" in alerts[0]["annotations"]["description"]


def test_since_checks_only_the_datasets_a_run_wrote_since(lake: Steward, run_etl: RunEtl) -> None:
    apply(lake.store, POLICY, actor=ADMIN)
    before = datetime.now(UTC).replace(tzinfo=None)
    run_etl()
    after = datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=1)
    assert datasets_to_check(lake.store) == [TRAINING]
    assert datasets_to_check(lake.store, since=before) == [TRAINING]
    assert datasets_to_check(lake.store, since=after) == []
    quiet = check(lake, since=after, alert=False)
    assert (quiet.evaluations, quiet.exit_code) == ((), 0)
    assert check(lake, since=before, alert=False).exit_code == 1


def test_a_check_judges_each_jobs_latest_run_unless_asked_for_all(
    lake: Steward, run_etl: RunEtl
) -> None:
    apply(lake.store, POLICY, actor=ADMIN)
    first = run_etl()  # reads email clear under v1
    apply(
        lake.store,
        POLICY.replace("    mask: email\n", "    mask: email\n    except: [etl]\n"),
        actor=ADMIN,
    )
    run_etl()  # the same read, allowed under v2
    assert check(lake, alert=False).exit_code == 0
    history = check(lake, all_runs=True, alert=False)
    assert history.exit_code == 1
    assert [(f.run_id, f.policy_version) for f in history.findings] == [(first, 1)]
