"""`catalog classify`: tag the columns that hold PII, from names and a bounded sample.

Rows are read from the dataset's source (at most `sample_size`), handed to the
classifier (`catalog.classify`) and dropped: only tags, confidences and reasons are
stored, never a sampled value. Each run replaces the classifier's earlier proposals for
the dataset; a tag a human rejected is not proposed again, and one a human confirmed
stays whatever the classifier says.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from steward.catalog.authority import ColumnIdentity
from steward.catalog.classify import Finding, classify_names, classify_table
from steward.catalog.edits import EditRecorder, can_edit
from steward.catalog.models import Source
from steward.catalog.search import reindex
from steward.catalog.views import describe_datasets, resolve_dataset
from steward.errors import Forbidden, InvalidInput, SamplingUnsupported, SourceError
from steward.identity.models import Principal
from steward.store import Store
from steward.store.schema import catalog_annotations, catalog_entries, catalog_sources

MAX_SAMPLE = 10_000
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ColumnFinding:
    """A PII tag proposed for one column."""

    column: str
    tag: str
    confidence: float
    reason: str
    kept_off: bool  # a human rejected this tag earlier, so it was not proposed


@dataclass(frozen=True)
class Classified:
    """One dataset's classification."""

    dataset: str
    sampled_rows: int
    by_name_only: bool
    findings: tuple[ColumnFinding, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "sampledRows": self.sampled_rows,
            "byNameOnly": self.by_name_only,
            "findings": [
                {
                    "column": f.column,
                    "tag": f.tag,
                    "confidence": round(f.confidence, 3),
                    "reason": f.reason,
                    "rejectedByHuman": f.kept_off,
                }
                for f in self.findings
            ],
        }


def classify(
    store: Store,
    open_source: Callable[[str], Source],
    dataset: str | None,
    *,
    principal: Principal,
    sample_size: int = 200,
    record: EditRecorder | None = None,
) -> list[Classified]:
    """Classify one dataset (a catalog name) or, with None, every cataloged dataset."""
    if not 1 <= sample_size <= MAX_SAMPLE:
        raise InvalidInput(f"sample: must be between 1 and {MAX_SAMPLE} rows")
    with store.read() as conn:
        query = sa.select(catalog_entries.c.name, catalog_entries.c.source).where(
            catalog_entries.c.deleted_at.is_(None)
        )
        if dataset is not None:
            dataset_id = resolve_dataset(conn, dataset)
            query = query.where(catalog_entries.c.dataset_id == dataset_id)
        entries = conn.execute(query.order_by(catalog_entries.c.name)).all()
    if dataset is not None and not entries:
        raise InvalidInput(
            f"dataset: {dataset} was not found by a catalog source, so it has no rows to sample"
        )
    sources: dict[str, Source] = {}
    results = []
    try:
        for entry in entries:
            if entry.source not in sources:
                sources[entry.source] = open_source(entry.source)
            results.append(
                _classify_one(
                    store, sources[entry.source], entry.name, principal, sample_size, record
                )
            )
    finally:
        for source in sources.values():
            source.close()
    return results


def classify_changed(
    store: Store,
    source: Source,
    tables: Sequence[str],
    *,
    principal: Principal,
    sample_size: int = 200,
    record: EditRecorder | None = None,
) -> list[Classified]:
    """Classify `tables` of `source` (catalog names) again, after a sync changed their columns.

    A new or renamed column then carries the PII tags its name and a sample earn, as
    `catalog classify` would give it; a source that cannot be sampled is classified by
    names only.
    """
    results = []
    for name in dict.fromkeys(tables):
        try:
            results.append(_classify_one(store, source, name, principal, sample_size, record))
        except SourceError as exc:  # the sync stands; `catalog classify` can be run later
            log.warning("%s: not classified after the sync: %s", name, exc.message)
    return results


def _classify_one(
    store: Store,
    source: Source,
    name: str,
    principal: Principal,
    sample_size: int,
    record: EditRecorder | None,
) -> Classified:
    with store.read() as conn:
        dataset_id = resolve_dataset(conn, name)
        view = describe_datasets(conn, [dataset_id])[dataset_id]
    if not principal.is_admin and not _owns(view, principal):
        raise Forbidden(f"dataset {name}: only its owners and admins may classify it")
    columns = [(c["name"], c["type"] or "") for c in view["columns"]]
    by_name_only = False
    rows: list[dict[str, Any]] = []
    try:
        rows = source.sample(
            name.removeprefix(f"{source.name}."), [c for c, _ in columns], sample_size
        )
        found = classify_table(columns, rows)
    except SamplingUnsupported:
        by_name_only = True
        found = classify_names(columns)
    sampled = len(rows)
    del rows  # sampled values go no further than the classifier
    outcome = Classified(name, sampled, by_name_only, ())
    # A tag binds to the column's Iceberg field id, so that it follows a rename.
    identities = {c["name"]: ColumnIdentity(c["name"], c.get("fieldId")) for c in view["columns"]}
    return _store_findings(store, dataset_id, outcome, found, identities, principal, record)


def _owns(view: dict[str, Any], principal: Principal) -> bool:
    return can_edit(view, principal)


def _store_findings(
    store: Store,
    dataset_id: int,
    outcome: Classified,
    found: dict[str, list[Finding]],
    identities: dict[str, ColumnIdentity],
    principal: Principal,
    record: EditRecorder | None,
) -> Classified:
    when = datetime.now(UTC).replace(tzinfo=None)
    with store.write() as conn:
        rejected = [
            (ColumnIdentity(row.field, row.field_id), row.value)
            for row in conn.execute(
                sa.select(
                    catalog_annotations.c.field,
                    catalog_annotations.c.field_id,
                    catalog_annotations.c.value,
                ).where(
                    catalog_annotations.c.dataset_id == dataset_id,
                    catalog_annotations.c.attribute == "tag",
                    catalog_annotations.c.origin == "human",
                    catalog_annotations.c.status == "rejected",
                )
            )
        ]
        conn.execute(
            catalog_annotations.delete().where(
                catalog_annotations.c.dataset_id == dataset_id,
                catalog_annotations.c.origin == "classifier",
            )
        )
        findings = []
        rows = []
        for column, column_findings in sorted(found.items()):
            for finding in column_findings:
                target = identities.get(column, ColumnIdentity(column))
                kept_off = any(
                    value == finding.tag and where.binds(target) for where, value in rejected
                )
                findings.append(
                    ColumnFinding(column, finding.tag, finding.confidence, finding.reason, kept_off)
                )
                if not kept_off:
                    rows.append(
                        {
                            "dataset_id": dataset_id,
                            "field": column,
                            "field_id": target.field_id,
                            "attribute": "tag",
                            "value": finding.tag,
                            "origin": "classifier",
                            "author": "classifier",
                            "status": "proposed",
                            "confidence": finding.confidence,
                            "reason": finding.reason,
                            "updated_at": when,
                        }
                    )
        if rows:
            conn.execute(catalog_annotations.insert(), rows)
        reindex(conn, [dataset_id])
        result = replace(outcome, findings=tuple(findings))
        if record is not None:
            columns = tuple(sorted({f.column for f in findings}))
            details = result.as_json()
            record(conn, principal, "catalog.classify", outcome.dataset, columns, details)
    return result


def source_status(store: Store, names: Sequence[str]) -> list[dict[str, Any]]:
    """Each source with its last sync time and table count (None when never synced)."""
    with store.read() as conn:
        synced = {row.name: row for row in conn.execute(sa.select(catalog_sources))}
    out = []
    for name in names:
        row = synced.get(name)
        out.append(
            {
                "name": name,
                "type": row.type if row else None,
                "syncedAt": row.synced_at.isoformat() + "Z" if row else None,
                "tables": row.tables if row else None,
            }
        )
    return out
