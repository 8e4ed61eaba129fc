"""A discovered table as OpenLineage: what `sync` feeds the lineage store.

A table becomes a DatasetEvent carrying the facets every producer uses (schema,
documentation, ownership, tags, symlinks, datasetType), so a table found by a source
and the same table named by Spark or dbt-ol events are one dataset with one history.
A table built from others (a view, a dbt model, an exposure) also becomes a JobEvent
whose inputs are its upstream tables and whose output is the table, with column
lineage where the source knows it: OpenLineage's static lineage.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from steward.catalog.models import DiscoveredTable, Identity

PRODUCER = "https://github.com/steward-data/steward/catalog"
_SPEC = "https://openlineage.io/spec"
_DATASET_EVENT = f"{_SPEC}/2-0-2/OpenLineage.json#/$defs/DatasetEvent"
_JOB_EVENT = f"{_SPEC}/2-0-2/OpenLineage.json#/$defs/JobEvent"
SOURCE_JOB_NAMESPACE_PREFIX = "steward://"


def _facet(name: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "_producer": PRODUCER,
        "_schemaURL": f"{_SPEC}/facets/1-0-0/{name}.json",
        **body,
    }


def owner_name(kind: str, name: str) -> str:
    """An owner as OpenLineage's ownership facet names one: `user:alice`, `group:data-eng`."""
    return f"{kind}:{name}"


def dataset_facets(table: DiscoveredTable, *, source: str) -> dict[str, Any]:
    """The facets that describe `table` as its source reports it."""
    fields = [
        {
            "name": c.name,
            "type": c.type,
            **({"description": c.description} if c.description else {}),
        }
        for c in table.columns
    ]
    facets: dict[str, Any] = {
        "schema": _facet("SchemaDatasetFacet", {"fields": fields}),
        "datasetType": _facet(
            "DatasetTypeDatasetFacet", {"datasetType": table.kind.upper(), "subType": ""}
        ),
        "lifecycleStateChange": _facet(
            "LifecycleStateChangeDatasetFacet", {"lifecycleStateChange": "CREATE"}
        ),
    }
    # Source-stated values always appear, even when empty, so that a value removed at
    # the source is removed here too (a facet replaces the earlier one of its name).
    facets["documentation"] = _facet(
        "DocumentationDatasetFacet", {"description": table.description or ""}
    )
    facets["ownership"] = _facet(
        "OwnershipDatasetFacet",
        {"owners": [{"name": owner_name(o.kind, o.name), "type": o.role} for o in table.owners]},
    )
    tags = [{"key": tag, "value": "true", "source": source} for tag in table.tags]
    tags += [
        {"key": tag, "value": "true", "source": source, "field": column.name}
        for column in table.columns
        for tag in column.tags
    ]
    facets["tags"] = _facet("TagsDatasetFacet", {"tags": tags})
    facets["symlinks"] = _facet(
        "SymlinksDatasetFacet",
        {
            "identifiers": [
                {"namespace": s.namespace, "name": s.name, "type": "TABLE"} for s in table.symlinks
            ]
        },
    )
    return facets


def dataset_event(identity: Identity, facets: dict[str, Any], when: datetime) -> dict[str, Any]:
    """A DatasetEvent for one dataset."""
    return {
        "eventTime": when.isoformat(),
        "producer": PRODUCER,
        "schemaURL": _DATASET_EVENT,
        "dataset": {"namespace": identity.namespace, "name": identity.name, "facets": facets},
    }


def dropped_event(identity: Identity, when: datetime) -> dict[str, Any]:
    """A DatasetEvent saying the table is gone from its source (history is kept)."""
    facets = {
        "lifecycleStateChange": _facet(
            "LifecycleStateChangeDatasetFacet", {"lifecycleStateChange": "DROP"}
        )
    }
    return dataset_event(identity, facets, when)


def build_job_event(
    table: DiscoveredTable,
    identity: Identity,
    *,
    source: str,
    identity_of: Callable[[str], Identity | None],
    when: datetime,
) -> dict[str, Any] | None:
    """A JobEvent linking `table` to what it is built from; None when it has no upstream.

    `identity_of` maps a table name within the same source to its identity (None when the
    source does not know it; such upstream names are skipped).
    """
    inputs: dict[Identity, dict[str, Any]] = {}
    for name in table.upstream:
        found = identity_of(name)
        if found is not None:
            inputs[found] = {"namespace": found.namespace, "name": found.name}
    for other in table.upstream_identities:
        inputs[other] = {"namespace": other.namespace, "name": other.name}
    if not inputs:
        return None
    output: dict[str, Any] = {"namespace": identity.namespace, "name": identity.name}
    lineage = _column_lineage(table, identity_of)
    if lineage:
        facet = _facet("ColumnLineageDatasetFacet", lineage)
        # `transformations` came with version 1-2-0 of the facet.
        facet["_schemaURL"] = f"{_SPEC}/facets/1-2-0/ColumnLineageDatasetFacet.json"
        output["facets"] = {"columnLineage": facet}
    verb = "consumes" if table.kind == "exposure" else "builds"
    return {
        "eventTime": when.isoformat(),
        "producer": PRODUCER,
        "schemaURL": _JOB_EVENT,
        "job": {
            "namespace": f"{SOURCE_JOB_NAMESPACE_PREFIX}{source}",
            "name": table.name,
            "facets": {
                "jobType": _facet(
                    "JobTypeJobFacet",
                    {
                        "processingType": "BATCH",
                        "integration": "STEWARD",
                        "jobType": table.kind.upper(),
                    },
                ),
                "documentation": _facet(
                    "DocumentationJobFacet",
                    {"description": f"{source}.{table.name} {verb} its upstream tables"},
                ),
            },
        },
        "inputs": list(inputs.values()),
        "outputs": [output],
    }


def _column_lineage(
    table: DiscoveredTable, identity_of: Callable[[str], Identity | None]
) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for column, sources in table.column_upstream.items():
        how = table.column_transformations.get(column, {})
        inputs = []
        for upstream_table, upstream_column in sources:
            found = identity_of(upstream_table)
            if found is None:
                continue
            kinds = how.get((upstream_table, upstream_column)) or (("DIRECT", "TRANSFORMATION"),)
            inputs.append(
                {
                    "namespace": found.namespace,
                    "name": found.name,
                    "field": upstream_column,
                    "transformations": [{"type": kind, "subtype": sub} for kind, sub in kinds],
                }
            )
        if inputs:
            fields[column] = {"inputFields": inputs}
    whole = []
    for upstream_table, upstream_column, kinds in table.dataset_upstream:
        found = identity_of(upstream_table)
        if found is not None:
            whole.append(
                {
                    "namespace": found.namespace,
                    "name": found.name,
                    "field": upstream_column,
                    "transformations": [{"type": kind, "subtype": sub} for kind, sub in kinds],
                }
            )
    if not fields and not whole:
        return {}
    return {"fields": fields, **({"dataset": whole} if whole else {})}
