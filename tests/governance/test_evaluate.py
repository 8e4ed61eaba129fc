"""Lineage checked against policy: each run judged by the policy version in force then."""

from __future__ import annotations

from steward.app import Steward
from steward.config import PrincipalMapping
from steward.governance.evaluate import evaluate
from steward.governance.models import Evaluation
from steward.policy.versions import apply
from tests.governance.conftest import ADMIN, ETL_MAPPING, MASKED, POLICY, RunEtl

TARGET = "dataset:ml:training_set"
# The same policy, but the ETL role reads email clear.
POLICY_ETL_SEES_EMAIL = POLICY.replace("    mask: email\n", "    mask: email\n    except: [etl]\n")


def _found(evaluation: Evaluation) -> list[tuple[object, ...]]:
    return [
        (f.run_id, f.dataset, f.column, f.rule, f.policy_version, f.kind)
        for f in evaluation.findings
    ]


def test_identity_copy_of_masked_email_is_a_finding_naming_run_column_rule_and_version(
    lake: Steward, run_etl: RunEtl
) -> None:
    version = apply(lake.store, POLICY, actor=ADMIN)
    run_id = run_etl()
    evaluation = evaluate(lake.store, TARGET, mappings=ETL_MAPPING)
    assert _found(evaluation) == [
        (run_id, "lake.crm.customers", "email", "masks[0]", version, "masked-read-clear")
    ]
    (step,) = evaluation.steps
    assert (step.run_id, step.verdict, step.policy_version) == (run_id, "violation", version)
    assert step.principal.user == "svc-etl"
    assert step.principal.source == "mapping"
    assert "masks[0]" in step.findings[0].message
    assert run_id in step.findings[0].message
    (flow,) = evaluation.pii_flows
    assert (flow.source.label, flow.target.column, flow.clear) == (
        "lake.crm.customers.email",
        "email",
        True,
    )
    assert [e.job for e in flow.path] == ["job:etl:build_training"]


def test_masking_transformation_makes_the_same_chain_clean(lake: Steward, run_etl: RunEtl) -> None:
    apply(lake.store, POLICY, actor=ADMIN)
    run_etl(email=MASKED)
    evaluation = evaluate(lake.store, TARGET, mappings=ETL_MAPPING)
    assert evaluation.findings == ()
    assert [s.verdict for s in evaluation.steps] == ["allowed"]
    (flow,) = evaluation.pii_flows
    assert flow.clear is False  # masked on the way: not clear personal data
    assert evaluation.allowed


def test_policy_change_between_two_runs_judges_each_by_the_version_then(
    lake: Steward, run_etl: RunEtl
) -> None:
    first_version = apply(lake.store, POLICY, actor=ADMIN)
    first = run_etl()
    second_version = apply(lake.store, POLICY_ETL_SEES_EMAIL, actor=ADMIN)
    second = run_etl()
    evaluation = evaluate(lake.store, TARGET, mappings=ETL_MAPPING)
    judged = [(s.run_id, s.policy_version, s.verdict, s.latest) for s in evaluation.steps]
    assert judged == [
        (first, first_version, "violation", False),
        (second, second_version, "allowed", True),
    ]
    assert _found(evaluation) == [
        (first, "lake.crm.customers", "email", "masks[0]", first_version, "masked-read-clear")
    ]
    # As of between the runs, only the first is on the way, and the policy then was v1.
    earlier = evaluate(lake.store, TARGET, as_of=evaluation.steps[0].time, mappings=ETL_MAPPING)
    assert [(s.run_id, s.policy_version, s.latest) for s in earlier.steps] == [
        (first, first_version, True)
    ]


def test_reading_all_regions_under_an_eu_only_filter_is_a_finding(
    lake: Steward, run_etl: RunEtl
) -> None:
    version = apply(lake.store, POLICY, actor=ADMIN)
    run_id = run_etl(email=MASKED, filtered=False)
    evaluation = evaluate(lake.store, TARGET, mappings=ETL_MAPPING)
    assert _found(evaluation) == [
        (run_id, "lake.crm.customers", None, "row_filters[0]", version, "unfiltered-read")
    ]
    assert "region" in evaluation.findings[0].message


def test_run_without_a_known_principal_is_unjudged(lake: Steward, run_etl: RunEtl) -> None:
    apply(lake.store, POLICY, actor=ADMIN)
    run_etl(actor=None)
    evaluation = evaluate(lake.store, TARGET, mappings=[])
    assert [s.verdict for s in evaluation.steps] == ["unjudged"]
    assert evaluation.findings == ()


def test_poster_is_the_principal_unless_a_mapping_names_the_job(
    lake: Steward, run_etl: RunEtl
) -> None:
    version = apply(lake.store, POLICY, actor=ADMIN)
    run_id = run_etl()  # posted by svc-etl (group etl), mapped by nothing
    evaluation = evaluate(lake.store, TARGET, mappings=[])
    (step,) = evaluation.steps
    assert (step.principal.user, step.principal.groups, step.principal.source) == (
        "svc-etl",
        ("etl",),
        "poster",
    )
    assert _found(evaluation) == [
        (run_id, "lake.crm.customers", "email", "masks[0]", version, "masked-read-clear")
    ]
    # A mapping to an analyst service account (no mask exception, no filter) comes first.
    analyst = [PrincipalMapping(namespace="et*", user="svc-analytics", groups=["analysts"])]
    mapped = evaluate(lake.store, TARGET, mappings=analyst)
    assert mapped.steps[0].principal.user == "svc-analytics"
    assert [f.kind for f in mapped.findings] == ["masked-read-clear"]
