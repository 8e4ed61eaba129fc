"""What `analyze` returns: the lineage of each statement of a SQL script, as frozen values.

Transformations follow the OpenLineage ColumnLineageDatasetFacet 1-2-0: `type` is
DIRECT (the value is derived from the input: IDENTITY, TRANSFORMATION, AGGREGATION)
or INDIRECT (the input decides which rows or how, not the value: JOIN, GROUP_BY,
FILTER, SORT, WINDOW, CONDITIONAL); `masking` says a hash or mask function hides
the input value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DIRECT = "DIRECT"
INDIRECT = "INDIRECT"
IDENTITY = "IDENTITY"
TRANSFORMATION = "TRANSFORMATION"
AGGREGATION = "AGGREGATION"
JOIN = "JOIN"
GROUP_BY = "GROUP_BY"
FILTER = "FILTER"
SORT = "SORT"
WINDOW = "WINDOW"
CONDITIONAL = "CONDITIONAL"
_OWN = frozenset({CONDITIONAL, WINDOW})


_RANK = {IDENTITY: 0, TRANSFORMATION: 1, AGGREGATION: 2}


def chain(outer: Transformation, inner: Transformation) -> Transformation:
    """How an input reaches an output through two hops: `inner` (input -> middle), then
    `outer` (middle -> output). Row-level INDIRECT inputs of the inner hop (a subquery's
    WHERE, JOIN, GROUP BY, ORDER BY) keep their kind; a value used as a row-level input
    (even one a CASE or a window made) takes the outer kind; two DIRECT hops give the
    stronger subtype (IDENTITY < TRANSFORMATION < AGGREGATION)."""
    masking = outer.masking or inner.masking
    if inner.type == INDIRECT and (outer.type == DIRECT or inner.subtype not in _OWN):
        return Transformation(INDIRECT, inner.subtype, masking=masking)
    if outer.type == INDIRECT:
        return Transformation(INDIRECT, outer.subtype, masking=masking)
    subtype = max(outer.subtype, inner.subtype, key=_RANK.__getitem__)
    return Transformation(DIRECT, subtype, masking=masking)


@dataclass(frozen=True, order=True)
class Transformation:
    """How one input column reaches an output (OpenLineage `transformations[]` item)."""

    type: str
    subtype: str
    description: str = ""
    masking: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "subtype": self.subtype,
            "description": self.description,
            "masking": self.masking,
        }


@dataclass(frozen=True, order=True)
class Upstream:
    """One input column of an output column (or of a whole output table), and how."""

    table: str
    column: str
    transformations: tuple[Transformation, ...] = ()

    @property
    def direct(self) -> bool:
        """True when the input's value flows into the output (not only decides rows)."""
        return any(t.type == DIRECT for t in self.transformations)

    @property
    def of_column(self) -> bool:
        """True for an input of this column alone: its value flows in (DIRECT), or it is
        the condition of a CASE/IF or the window of the column's own expression."""
        return any(t.type == DIRECT or t.subtype in _OWN for t in self.transformations)


@dataclass(frozen=True)
class ColumnLineage:
    """Where one output column comes from; `table` is None for a bare SELECT's result.

    `upstreams` holds every input of the column with its transformations (the
    facet's `inputFields`); the JSON's `upstreams` list names those that are the
    column's own (DIRECT, or INDIRECT CONDITIONAL/WINDOW of its expression), and
    `transformations` all of them, including the filters and joins of the
    subqueries it passes through.
    """

    table: str | None
    column: str
    upstreams: tuple[Upstream, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "column": self.column,
            "upstreams": [
                {"table": up.table, "column": up.column} for up in self.upstreams if up.of_column
            ],
            "transformations": [
                {"table": up.table, "column": up.column, **t.to_json()}
                for up in self.upstreams
                for t in up.transformations
            ],
        }


@dataclass(frozen=True)
class Unresolved:
    """A column (or `*`) whose origin could not be traced, and why; the rest still is."""

    table: str | None
    column: str | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"table": self.table, "column": self.column, "reason": self.reason}


@dataclass(frozen=True)
class StatementLineage:
    """The lineage of one SQL statement.

    `kind` is one of SELECT, CREATE_TABLE_AS, CREATE_VIEW, CREATE_TABLE, CREATE_TABLE_CLONE, INSERT,
    INSERT_OVERWRITE, MULTI_INSERT, MERGE, UPDATE, DELETE, SELECT_INTO, COPY, DROP, ALTER,
    TRUNCATE, UNKNOWN. `inputs`/`outputs` are full table names; `columns` the lineage of
    each output column; `dataset` the INDIRECT inputs that affect every output
    row (WHERE, JOIN, GROUP BY, ORDER BY: the facet's `dataset` list);
    `reads` the columns read from each input table anywhere in the statement, whether
    or not they reach an output (a `count(*)` reads none).
    """

    kind: str
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    columns: tuple[ColumnLineage, ...] = ()
    dataset: tuple[Upstream, ...] = ()
    reads: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    unresolved: tuple[Unresolved, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "statement": self.kind,
            "inputs": list(self.inputs),
            "outputs": list(self.outputs),
            "columns": [column.to_json() for column in self.columns],
            "dataset": [
                {"table": up.table, "column": up.column, **t.to_json()}
                for up in self.dataset
                for t in up.transformations
            ],
            "unresolved": [item.to_json() for item in self.unresolved],
            "reads": {table: list(columns) for table, columns in self.reads.items()},
        }


@dataclass(frozen=True)
class ScriptLineage:
    """Every statement of a script, with the script's lineage as a whole.

    `inputs` are the tables read before the script writes them (a table the script
    creates and then reads is not an external input); `outputs` the tables written,
    except scratch tables the script both creates and drops; `columns` each output
    column traced through the tables the script wrote on the way
    (`CREATE TEMP TABLE t AS SELECT a FROM s; INSERT INTO x SELECT a FROM t`:
    x.a <- s.a).
    """

    statements: tuple[StatementLineage, ...]
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    columns: tuple[ColumnLineage, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """One statement: its own JSON object. Several:
        `{"statements", "inputs", "outputs", "columns"}`."""
        if len(self.statements) == 1:
            return self.statements[0].to_json()
        return {
            "statements": [statement.to_json() for statement in self.statements],
            "inputs": list(self.inputs),
            "outputs": list(self.outputs),
            "columns": [column.to_json() for column in self.columns],
        }
