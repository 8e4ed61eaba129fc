"""Who breaks? A proposed schema against a dataset's latest version, and the readers it breaks.

Each change the diff finds is judged by a small explicit table of rules (below); each
breaking one names its rule and the readers column lineage says it breaks: every column
downstream (transitively), the dbt model, job or dashboard that reads it, with owners.
A breaking change to a deprecated item is allowed from its sunset on (the ADR
docs/adr/0001-deprecation-policy.md) and refused before, naming the date.

The rules cover what breaks a reader of a table whatever its format: a drop, a rename,
a type change that is not a promotion, and an optional field made required. A change
between Iceberg types is judged by the Iceberg rules (`schema.rules.iceberg`, the
spec's promotions); SQL type names, which OpenLineage producers report, by the small
promotion table below. Iceberg's own rules allow a drop or a rename (old data stays
readable by field id); a downstream reader of the column still breaks, so they count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.errors import NotFound
from steward.lineage.graph import valid_at
from steward.schema.deprecations import Deprecation, deprecations
from steward.schema.diff import Change, ChangeKind, diff_schemas
from steward.schema.fields import Schema
from steward.schema.history import capture, versions
from steward.store.schema import (
    catalog_annotations,
    catalog_entries,
    column_edges,
    dataset_owners,
    datasets,
    jobs,
    lineage_edges,
    namespaces,
)

# Widening a reader can always read: Iceberg's promotions, with the SQL names for them.
_PROMOTIONS = {
    ("int", "long"),
    ("int", "bigint"),
    ("integer", "bigint"),
    ("integer", "long"),
    ("smallint", "integer"),
    ("smallint", "int"),
    ("smallint", "bigint"),
    ("tinyint", "smallint"),
    ("tinyint", "integer"),
    ("tinyint", "bigint"),
    ("float", "double"),
    ("real", "double"),
    ("float", "double precision"),
}
_DECIMAL = re.compile(r"(?:decimal|numeric)\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)")


def is_promotion(old: str | None, new: str | None) -> bool:
    """Whether a reader of `old` can read `new`: the same type, or a widening of it."""
    a, b = (old or "").strip().lower(), (new or "").strip().lower()
    if a == b or (a, b) in _PROMOTIONS:
        return True
    da, db = _DECIMAL.fullmatch(a), _DECIMAL.fullmatch(b)
    # Iceberg: decimal(P, S) to decimal(P2, S) with P2 >= P.
    return bool(da and db and da[2] == db[2] and int(db[1]) >= int(da[1]))


def _iceberg_types(old: str | None, new: str | None) -> tuple[Any, Any] | None:
    """Both types as pyiceberg primitive types, or None when either is not one."""
    from pydantic import TypeAdapter, ValidationError
    from pyiceberg.types import IcebergType, PrimitiveType

    adapter: TypeAdapter[IcebergType] = TypeAdapter(IcebergType)
    try:
        before, after = adapter.validate_python(old), adapter.validate_python(new)
    except ValidationError:
        return None
    if isinstance(before, PrimitiveType) and isinstance(after, PrimitiveType):
        return before, after
    return None


def type_rule(old: str | None, new: str | None, *, format_version: int = 2) -> str | None:
    """The rule a type change breaks, or None for a promotion.

    Iceberg types are judged by the Iceberg rules (`schema.rules.iceberg`, the spec's
    promotions for the table's format version); other type names (SQL's, from
    OpenLineage producers) by this module's promotion table.
    """
    iceberg = _iceberg_types(old, new)
    if iceberg is None:
        return None if is_promotion(old, new) else "promotion-only"
    from steward.schema.rules.iceberg import promotion_allowed

    before, after = iceberg
    if promotion_allowed(before, after, format_version):
        return None
    if promotion_allowed(after, before, format_version):
        return "iceberg.type-narrowing"
    return "iceberg.type-change-not-allowed"


def rule_for(change: Change, *, format_version: int = 2) -> str | None:
    """The rule a change breaks, or None when readers are safe."""
    if change.kind is ChangeKind.DROPPED:
        return "no-drop"
    if change.kind is ChangeKind.RENAMED:
        return "no-rename"
    if change.kind is ChangeKind.TYPE_CHANGED:
        return type_rule(change.old, change.new, format_version=format_version)
    if change.kind is ChangeKind.NULLABILITY_CHANGED and change.new == "required":
        return "no-optional-to-required"
    return None


@dataclass(frozen=True)
class Reader:
    """One reader a change breaks: a column downstream and what writes it from the field."""

    kind: str  # dbt_model | dashboard | job
    dataset: str
    column: str | None  # None: the reader takes the whole dataset
    job: str
    owners: tuple[str, ...] = ()
    depth: int = 1

    def to_json(self) -> dict[str, Any]:
        """This reader as the API and `--json` show it."""
        return {
            "kind": self.kind,
            "dataset": self.dataset,
            "column": self.column,
            "job": self.job,
            "owners": list(self.owners),
            "depth": self.depth,
        }


@dataclass(frozen=True)
class Finding:
    """One change the check judged: breaking or not, and why."""

    change: Change
    rule: str | None
    breaking: bool
    message: str
    readers: tuple[Reader, ...] = ()
    deprecation: Deprecation | None = None

    def to_json(self) -> dict[str, Any]:
        """This finding as the API and `--json` show it."""
        return {
            **self.change.to_json(),
            "rule": self.rule,
            "breaking": self.breaking,
            "message": self.message,
            "readers": [r.to_json() for r in self.readers],
            "deprecation": None if self.deprecation is None else self.deprecation.to_json(),
        }


@dataclass(frozen=True)
class CheckResult:
    """A proposed schema judged against one dataset's latest version."""

    dataset_id: int
    against_version: int
    findings: list[Finding] = field(default_factory=list)

    @property
    def breaking(self) -> list[Finding]:
        """The findings that block the change."""
        return [f for f in self.findings if f.breaking]

    def to_json(self) -> dict[str, Any]:
        """This result as the API and `--json` show it."""
        return {
            "againstVersion": self.against_version,
            "breaking": bool(self.breaking),
            "changes": [f.to_json() for f in self.findings],
        }


@dataclass
class _Names:
    """Display names and owners of the datasets and jobs readers mention."""

    datasets: dict[int, tuple[str, str | None, tuple[str, ...]]]  # name, catalog kind, owners
    jobs: dict[int, tuple[str, str | None, str | None]]  # name, integration, job type


def _names(conn: Connection, dataset_ids: set[int], job_ids: set[int]) -> _Names:
    d, n, e = datasets.c, namespaces.c, catalog_entries.c
    owners: dict[int, list[str]] = {i: [] for i in dataset_ids}
    for dataset_id, name in conn.execute(
        sa.select(dataset_owners.c.dataset_id, dataset_owners.c.name).where(
            dataset_owners.c.dataset_id.in_(dataset_ids)
        )
    ):
        owners[dataset_id].append(name)
    a = catalog_annotations.c
    for dataset_id, name in conn.execute(
        sa.select(a.dataset_id, a.value).where(
            a.dataset_id.in_(dataset_ids), a.attribute == "owner", a.field == ""
        )
    ):
        owners[dataset_id].append(name)
    found = {}
    for dataset_id, namespace, name, entry, kind in conn.execute(
        sa.select(d.id, n.name, d.name, e.name, e.kind)
        .join(namespaces, n.id == d.namespace_id)
        .outerjoin(catalog_entries, e.dataset_id == d.id)
        .where(d.id.in_(dataset_ids))
    ):
        shown = entry or f"{namespace}/{name}"
        found[dataset_id] = (shown, kind, tuple(sorted(set(owners[dataset_id]))))
    j = jobs.c
    job_rows = conn.execute(
        sa.select(j.id, n.name, j.name, j.integration, j.job_type)
        .join(namespaces, n.id == j.namespace_id)
        .where(j.id.in_(job_ids))
    )
    named = {r[0]: (f"{r[1]}/{r[2]}", r[3], r[4]) for r in job_rows}
    return _Names(found, named)


def _kind(catalog_kind: str | None, integration: str | None, job_type: str | None) -> str:
    if catalog_kind == "exposure" or (job_type or "").upper() == "DASHBOARD":
        return "dashboard"
    if catalog_kind == "model" or (integration or "").upper() == "DBT":
        return "dbt_model"
    return "job"


def _whole_readers(
    conn: Connection, reached: dict[int, int]
) -> dict[tuple[int, str | None, int], int]:
    """Jobs that read a reached dataset with no column lineage from it, and what they write.

    Such a job (a dashboard consuming a table, a job whose producer sends no column
    lineage) may read any column, so it counts as broken with no column named.
    """
    e, c = lineage_edges.c, column_edges.c
    current = valid_at(lineage_edges, None)
    reads = conn.execute(
        sa.select(e.job_id, e.dataset_id).where(
            e.dataset_id.in_(list(reached)), e.direction == "input", current
        )
    ).all()
    if not reads:
        return {}
    rows = conn.execute(
        sa.select(c.job_id, c.in_dataset_id)
        .where(c.in_dataset_id.in_(list(reached)), valid_at(column_edges, None))
        .distinct()
    )
    traced = {(int(job), int(ds)) for job, ds in rows}
    untraced = [(job, ds) for job, ds in reads if (job, ds) not in traced]
    if not untraced:
        return {}
    outputs = conn.execute(
        sa.select(e.job_id, e.dataset_id).where(
            e.job_id.in_({job for job, _ in untraced}), e.direction == "output", current
        )
    ).all()
    out: dict[tuple[int, str | None, int], int] = {}
    for job, read in untraced:
        for writer, written in outputs:
            if writer == job:
                out.setdefault((written, None, job), reached[read] + 1)
    return out


def readers(conn: Connection, dataset_id: int, column: str) -> list[Reader]:
    """Everything downstream of one column by column lineage, nearest first.

    A column's edges are matched case-insensitively at the start (a proposed schema may
    spell it otherwise), exactly after.
    """
    c = column_edges.c
    current = valid_at(column_edges, None)
    first = conn.execute(
        sa.select(c.job_id, c.out_dataset_id, c.out_field).where(
            c.in_dataset_id == dataset_id, sa.func.lower(c.in_field) == column.lower(), current
        )
    ).all()
    found: dict[tuple[int, str | None, int], int] = {}
    frontier = {(r.out_dataset_id, r.out_field, r.job_id) for r in first}
    depth = 1
    seen: set[tuple[int, str]] = {(dataset_id, column.lower())}
    while frontier:
        nxt: set[tuple[int, str]] = set()
        for out_dataset, out_field, job_id in frontier:
            found.setdefault((out_dataset, out_field, job_id), depth)
            if out_field is not None and (out_dataset, out_field) not in seen:
                seen.add((out_dataset, out_field))
                nxt.add((out_dataset, out_field))
        depth += 1
        frontier = set()
        if nxt:
            rows = conn.execute(
                sa.select(
                    c.job_id, c.out_dataset_id, c.out_field, c.in_dataset_id, c.in_field
                ).where(sa.tuple_(c.in_dataset_id, c.in_field).in_(sorted(nxt)), current)
            ).all()
            frontier = {
                (r.out_dataset_id, r.out_field, r.job_id)
                for r in rows
                if (r.out_dataset_id, r.out_field, r.job_id) not in found
            }
    reached = {dataset_id: 0} | {d: at for (d, f, _), at in found.items() if f is not None}
    for key, at in _whole_readers(conn, reached).items():
        found.setdefault(key, at)
    names = _names(conn, {d for d, _, _ in found}, {j for _, _, j in found})
    out = []
    for (out_dataset, out_field, job_id), at in found.items():
        shown, catalog_kind, owners = names.datasets[out_dataset]
        job, integration, job_type = names.jobs[job_id]
        kind = _kind(catalog_kind, integration, job_type)
        out.append(Reader(kind, shown, out_field, job, owners, at))
    return sorted(out, key=lambda r: (r.depth, r.dataset, r.column or "", r.job))


def _judge(
    conn: Connection,
    dataset_id: int,
    change: Change,
    deprecated: list[Deprecation],
    today: date,
    format_version: int,
) -> Finding:
    rule = rule_for(change, format_version=format_version)
    if rule is None:
        return Finding(change, None, False, f"{change.describe()}: readers are safe")
    # A child's change breaks the readers of its top-level column.
    top = change.path.split(".", 1)[0]
    old_name = change.old if change.kind is ChangeKind.RENAMED and change.old else top
    broken = tuple(readers(conn, dataset_id, old_name))
    who = ", ".join(sorted({r.dataset for r in broken})) or "no known reader"
    covering = next((d for d in deprecated if d.covers(old_name)), None)
    if covering is not None and covering.past_sunset(today):
        message = (
            f"{change.describe()}: allowed, deprecated with sunset {covering.sunset.isoformat()}"
            f" (read by {who})"
        )
        return Finding(change, rule, False, message, broken, covering)
    message = f"{change.describe()}: breaks {rule}; read by {who}"
    if covering is not None:
        message += f"; deprecated, but its sunset is {covering.sunset.isoformat()}"
    return Finding(change, rule, True, message, broken, covering)


def check(
    conn: Connection, dataset_id: int, proposed: Schema, *, today: date | None = None
) -> CheckResult:
    """Judge `proposed` against the dataset's latest schema version.

    For a dataset a catalog source states, the latest version the source stated.

    Raises:
        NotFound: no schema version of the dataset is known.
    """
    capture(conn, [dataset_id])
    known = versions(conn, dataset_id)
    if not known:
        raise NotFound(f"dataset {dataset_id}: no schema version is known to check against")
    # A source that states the dataset is its authority: events cannot move the baseline.
    stated = [v for v in known if v.origin == "catalog"]
    latest = (stated or known)[-1]
    deprecated = deprecations(conn, [dataset_id])[dataset_id]
    when = today or datetime.now(UTC).date()
    properties = conn.execute(
        sa.select(catalog_entries.c.properties).where(catalog_entries.c.dataset_id == dataset_id)
    ).scalar()
    # An Iceberg table's format version decides its promotions; 2 is pyiceberg's default.
    format_version = int((properties or {}).get("format-version") or 2)
    findings = [
        _judge(conn, dataset_id, change, deprecated, when, format_version)
        for change in diff_schemas(latest.fields, proposed)
    ]
    return CheckResult(dataset_id, latest.version, findings)
