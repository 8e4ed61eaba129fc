"""What a governance evaluation says of a dataset, as frozen values.

`evaluate` (see `governance.evaluate`) walks a dataset's upstream lineage and answers,
for every run that wrote toward it: who ran it, under which policy version, and whether
what it read was allowed; and which personal data reaches the dataset, by which path.
The `steward evidence` report and `steward lineage check` both read these values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

# How a run's principal was found: a `[[lineage.principals]]` mapping of its job's
# namespace or producer, the token that posted its events, or not at all.
PrincipalSource = Literal["mapping", "poster", "unknown"]
# A step's verdict: nothing it read breaks the policy in force; something does; or it
# cannot be judged (no principal known, no policy applied yet at the run's time).
Verdict = Literal["allowed", "violation", "unjudged"]
# What a finding says the run did:
# - masked-read-clear: read a column clear that the policy masks for its principal;
# - denied-column: read a column the policy denies (or does not grant) to its principal;
# - denied-table: read a table the policy refuses to its principal;
# - unfiltered-read: read a table the policy row-filters for its principal without
#   filtering on the filter's columns.
FindingKind = Literal["masked-read-clear", "denied-column", "denied-table", "unfiltered-read"]
NodeKind = Literal["dataset", "job"]


@dataclass(frozen=True)
class RunPrincipal:
    """Who a run acted as: a user (or service principal) with groups."""

    user: str | None
    groups: tuple[str, ...] = ()
    source: PrincipalSource = "unknown"
    token_id: str | None = None
    # The mapping that named it (`lineage_principals[0]`), when `source` is mapping.
    mapping: str | None = None

    @property
    def known(self) -> bool:
        """Whether the run's principal is known at all."""
        return self.user is not None


@dataclass(frozen=True)
class Owner:
    """An owner of a dataset as the catalog shows it."""

    name: str
    kind: str = "user"  # user or group
    role: str = "technical"


@dataclass(frozen=True)
class UpstreamNode:
    """A dataset or job on the way to the evaluated dataset (the dataset itself included)."""

    kind: NodeKind
    node_id: str  # `dataset:NS:NAME`, `job:NS:NAME`
    namespace: str
    name: str
    # The dataset's catalog name (`lake.crm.customers`), which policies name; None for a
    # job, or a dataset the catalog does not hold (no policy can govern it).
    catalog_name: str | None = None
    owners: tuple[Owner, ...] = ()


@dataclass(frozen=True)
class ColumnRef:
    """One column of one dataset."""

    dataset: str  # node id, `dataset:NS:NAME`
    column: str
    catalog_name: str | None = None

    @property
    def label(self) -> str:
        """`lake.crm.customers.email`, or `dataset:NS:NAME.column` outside the catalog."""
        return f"{self.catalog_name or self.dataset}.{self.column}"


@dataclass(frozen=True)
class Transformation:
    """One transformation of a column edge, per OpenLineage's column lineage facet."""

    type: str | None  # DIRECT, INDIRECT (or a legacy transformationType: IDENTITY, MASKED)
    subtype: str | None = None  # IDENTITY, TRANSFORMATION, AGGREGATION, FILTER ...
    masking: bool | None = None
    description: str | None = None


@dataclass(frozen=True)
class Finding:
    """One thing a run read that the policy in force at its time did not allow its principal."""

    run_id: str
    job: str  # node id, `job:NS:NAME`
    principal: str | None
    dataset: str  # what it read: the catalog name (`lake.crm.customers`)
    column: str | None  # None for a whole table (denied-table, unfiltered-read)
    rule: str  # the policy rule: `masks[0]`, `deny[1]`, `row_filters[0]`, `default`
    policy_version: int
    kind: FindingKind
    message: str
    # The dataset evaluated, whose upstream the run is on (`dataset:NS:NAME`).
    target: str = ""

    @property
    def key(self) -> str:
        """What identifies the finding across checks: the same job reading the same thing
        the same wrong way toward the same dataset, whichever run did it last."""
        return "|".join([self.target, self.job, self.dataset, self.column or "", self.kind])


@dataclass(frozen=True)
class Step:
    """One run of one job that wrote toward the evaluated dataset, judged."""

    run_id: str
    job: str  # node id
    time: datetime  # when it ran (its start, else its first event), naive UTC
    principal: RunPrincipal
    policy_version: int | None  # the version in force at `time`; None before any apply
    verdict: Verdict
    findings: tuple[Finding, ...] = ()
    inputs: tuple[str, ...] = ()  # node ids of the datasets it read
    outputs: tuple[str, ...] = ()  # node ids of the datasets it wrote, on the way
    # The job's latest run toward the dataset (as of the evaluation's time): what
    # `lineage check` judges by default.
    latest: bool = False
    # Why it is unjudged, or what it read that no policy can govern (not in the catalog).
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class FlowEdge:
    """One column edge on a personal-data path, through one job."""

    source: ColumnRef
    target: ColumnRef
    job: str  # node id
    transformations: tuple[Transformation, ...] = ()
    clear: bool = True  # the value passes unmasked (an IDENTITY copy, a plain transformation)


@dataclass(frozen=True)
class PiiFlow:
    """A column tagged `pii.*` whose values reach a column of the evaluated dataset."""

    source: ColumnRef
    target: ColumnRef
    tags: tuple[str, ...]  # the source column's pii tags (`pii.email`)
    path: tuple[FlowEdge, ...]
    # Every edge passes the value unmasked: clear personal data reaches the dataset.
    clear: bool


@dataclass(frozen=True)
class Evaluation:
    """A dataset's upstream lineage checked against the policy in force at each run."""

    dataset: UpstreamNode
    as_of: datetime | None
    evaluated_at: datetime
    nodes: tuple[UpstreamNode, ...]
    steps: tuple[Step, ...]
    pii_flows: tuple[PiiFlow, ...]

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Every step's findings, in step order."""
        return tuple(f for step in self.steps for f in step.findings)

    @property
    def allowed(self) -> bool:
        """True when no step is a violation."""
        return not any(step.verdict == "violation" for step in self.steps)
