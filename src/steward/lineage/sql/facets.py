"""A statement's lineage as OpenLineage ColumnLineageDatasetFacet 1-2-0, one per output table."""

from __future__ import annotations

from typing import Any

from steward.lineage.sql.models import StatementLineage, Upstream

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
    every row of the output.
    """
    facets: dict[str, dict[str, Any]] = {}
    for output in statement.outputs:
        fields = {
            column.column: {
                "inputFields": [_input(namespace, up) for up in column.upstreams],
            }
            for column in statement.columns
            if column.table == output
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
