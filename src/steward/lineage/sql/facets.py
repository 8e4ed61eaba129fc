"""A statement's lineage as OpenLineage ColumnLineageDatasetFacet 1-2-0, one per output table."""

from __future__ import annotations

from typing import Any

from steward.lineage.sql.models import StatementLineage, Transformation, Upstream

PRODUCER = "https://github.com/steward-data/steward/lineage/sql"
SCHEMA_URL = (
    "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json"
    "#/$defs/ColumnLineageDatasetFacet"
)


def column_lineage_facets(
    statement: StatementLineage, namespace: str, *, producer: str = PRODUCER
) -> dict[str, dict[str, Any]]:
    """`{output table: columnLineage facet}`; inputs are named in `namespace`.

    `fields` holds each output column's inputs with every transformation (DIRECT and
    the INDIRECT ones of the column itself or of subqueries it passes through);
    `dataset` the statement's WHERE/JOIN/GROUP BY/ORDER BY inputs, which affect
    every row of the output. Output columns that share a name are one field, with the
    inputs of each (a facet's fields are keyed by name).
    """
    facets: dict[str, dict[str, Any]] = {}
    for output in statement.outputs:
        # `fields` is keyed by name: two output columns of one name (`SELECT a.id, b.id`
        # into a table) are one field holding the inputs of both
        merged: dict[str, dict[tuple[str, str], dict[Transformation, None]]] = {}
        for column in statement.columns:
            if column.table != output:
                continue
            inputs = merged.setdefault(column.column, {})
            for up in column.upstreams:
                inputs.setdefault((up.table, up.column), {}).update(
                    dict.fromkeys(up.transformations)
                )
        fields = {
            name: {
                "inputFields": [
                    _input(namespace, Upstream(table, field, tuple(how)))
                    for (table, field), how in inputs.items()
                ]
            }
            for name, inputs in merged.items()
        }
        facets[output] = {
            "_producer": producer,
            "_schemaURL": SCHEMA_URL,
            "fields": fields,
            "dataset": [_input(namespace, up) for up in statement.dataset],
        }
    return facets


def _input(namespace: str, upstream: Upstream) -> dict[str, Any]:
    return {
        "namespace": namespace,
        "name": upstream.table,
        "field": upstream.column,
        "transformations": [t.to_json() for t in upstream.transformations],
    }
