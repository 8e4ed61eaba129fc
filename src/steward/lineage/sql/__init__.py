"""One SQL lineage engine: tables and columns each statement reads and writes.

`analyze(sql, dialect=..., schema=...)` returns a `ScriptLineage` (see `models.py`);
`ScriptLineage.to_json()` is the JSON the CLI and the API print.
"""

from __future__ import annotations

from steward.lineage.sql.analyze import analyze
from steward.lineage.sql.facets import column_lineage_facets
from steward.lineage.sql.models import (
    ColumnLineage,
    ScriptLineage,
    StatementLineage,
    Transformation,
    Unresolved,
    Upstream,
)

__all__ = [
    "ColumnLineage",
    "ScriptLineage",
    "StatementLineage",
    "Transformation",
    "Unresolved",
    "Upstream",
    "analyze",
    "column_lineage_facets",
]
