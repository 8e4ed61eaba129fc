"""Judging one run's reads of one table with the query path's own decision (no store)."""

from __future__ import annotations

from steward.governance.findings import judge_table
from steward.governance.models import Transformation
from steward.governance.reads import ColumnRead, carries_value, transformations_of
from steward.policy.decide import caller_for, decide
from steward.policy.load import load

POLICY = """\
roles:
  etl: {groups: [etl]}
  eu: {groups: [eu]}
grants:
  - roles: [etl, eu]
    select: ["lake.crm.*"]
masks:
  - columns: ["tag:pii.email"]
    mask: hash
deny:
  - roles: [etl]
    columns: ["lake.crm.customers.salary"]
  - roles: [eu]
    tables: ["lake.crm.payroll"]
row_filters:
  - table: lake.crm.customers
    roles: [eu]
    where: "region = 'EU' AND country <> 'CH'"
"""
COLUMNS = [
    ("id", frozenset[str]()),
    ("email", frozenset({"pii.email"})),
    ("salary", frozenset[str]()),
    ("region", frozenset[str]()),
    ("country", frozenset[str]()),
]
IDENTITY = (Transformation("DIRECT", "IDENTITY", False),)
HASHED = (Transformation("DIRECT", "HASH", None),)
FILTER = (Transformation("INDIRECT", "FILTER", False),)


def _judge(groups: list[str], table: str, reads: list[ColumnRead]) -> list[tuple[object, ...]]:
    policy = load({"policy.yaml": POLICY}).policy
    caller = caller_for(policy, "svc", groups)
    access = decide(policy, caller, table, COLUMNS, version=3)
    breaches, _ = judge_table(access, reads, principal="svc")
    return [(b.kind, b.column, b.rule) for b in breaches]


def read(column: str, transformations: tuple[Transformation, ...] = IDENTITY) -> ColumnRead:
    return ColumnRead(1, column, transformations, indirect=transformations is FILTER)


def test_denied_column_and_clear_read_of_a_masked_column_are_breaches() -> None:
    assert _judge(["etl"], "lake.crm.customers", [read("salary"), read("email"), read("id")]) == [
        ("masked-read-clear", "email", "masks[0]"),
        ("denied-column", "salary", "deny[0]"),
    ]


def test_a_hash_on_the_way_is_a_read_through_the_mask() -> None:
    assert _judge(["etl"], "lake.crm.customers", [read("email", HASHED)]) == []


def test_a_refused_table_is_one_breach_whatever_was_read() -> None:
    assert _judge(["eu"], "lake.crm.payroll", [read("id"), read("salary")]) == [
        ("denied-table", None, "deny[1]")
    ]


def test_a_row_filter_needs_a_filter_on_every_column_it_names() -> None:
    region_only = [read("id"), read("region", FILTER)]
    assert _judge(["eu"], "lake.crm.customers", region_only) == [
        ("unfiltered-read", None, "row_filters[0]")
    ]
    both = [*region_only, read("country", FILTER)]
    assert _judge(["eu"], "lake.crm.customers", both) == []
    # No column lineage from the table: the filter cannot be judged, and is not a breach.
    assert _judge(["eu"], "lake.crm.customers", []) == []


def test_personal_data_stays_clear_through_identity_and_plain_transformations_only() -> None:
    assert carries_value(IDENTITY, indirect=False)
    assert carries_value((Transformation("DIRECT", "TRANSFORMATION", False),), indirect=False)
    assert not carries_value(HASHED, indirect=False)
    assert not carries_value((Transformation("DIRECT", "AGGREGATION", None),), indirect=False)
    assert not carries_value((Transformation("DIRECT", "TRANSFORMATION", True),), indirect=False)
    assert not carries_value(FILTER, indirect=True)
    # A producer on the legacy field (transformationType) says the same.
    assert not carries_value(transformations_of([], "MASKED"), indirect=False)
    assert carries_value(transformations_of([], "IDENTITY"), indirect=False)
