"""An OpenLineage event transformer: dbt-ol's names of the demo's lake tables -> the lake's.

dbt-ol names a table by the DuckDB relation dbt reads or builds (namespace
`duckdb:///HOME/dbt/lake.duckdb`, name `lake.crm.users`). The demo's relations are views
over the data files of Iceberg tables, and the mart is a file of one, and OpenLineage names
an Iceberg table by its location (`file` + `/HOME/lakehouse/warehouse/crm/users`), as the
Flink job and Steward's catalog do. openlineage.yml's `transform` transport runs this on
each event dbt-ol emits, before the file transport writes it: a dataset `tables` names
takes its Iceberg identity and keeps dbt-ol's name as a `symlinks` identifier, and column
lineage follows. It runs in dbt's Python (the dbt project's folder is on its PYTHONPATH),
not in Steward's.
"""

from __future__ import annotations

from typing import Any

from openlineage.client.generated.symlinks_dataset import Identifier, SymlinksDatasetFacet
from openlineage.client.transport.transform import EventTransformer


class LakeNames(EventTransformer):
    """Properties: `namespace` (dbt-ol's DuckDB namespace) and `tables` (a relation's name
    -> [namespace, name] of the Iceberg table it is)."""

    def transform(self, event: Any) -> Any:
        """`event` with the lake's tables named as the lake names them."""
        inputs = list(getattr(event, "inputs", None) or [])
        outputs = list(getattr(event, "outputs", None) or [])
        for dataset in [*inputs, *outputs]:
            found = self._lake_name(dataset.namespace, dataset.name)
            if found is None:
                continue
            facets = dataset.facets if dataset.facets is not None else {}
            stated = facets.get("symlinks")
            identifiers = list(stated.identifiers or []) if stated is not None else []
            identifiers.append(
                Identifier(namespace=dataset.namespace, name=dataset.name, type="TABLE")
            )
            facets["symlinks"] = SymlinksDatasetFacet(identifiers=identifiers)
            dataset.facets = facets
            dataset.namespace, dataset.name = found
        for dataset in outputs:
            lineage = (dataset.facets or {}).get("columnLineage")
            if lineage is None:
                continue
            named = [f for item in lineage.fields.values() for f in item.inputFields]
            for field in [*named, *(lineage.dataset or [])]:
                found = self._lake_name(field.namespace, field.name)
                if found is not None:
                    field.namespace, field.name = found
        return event

    def _lake_name(self, namespace: str, name: str) -> tuple[str, str] | None:
        if namespace != self.properties["namespace"]:
            return None
        found = self.properties["tables"].get(name)
        return (str(found[0]), str(found[1])) if found else None
