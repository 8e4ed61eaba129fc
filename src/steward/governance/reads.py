"""What a run read, from the column lineage its events stated, and how it read it.

OpenLineage's column lineage facet says, per output column, which input columns it came
from and through which transformations: `DIRECT` (the value flows: `IDENTITY`,
`TRANSFORMATION`, `AGGREGATION`) or `INDIRECT` (the input decides which rows or how:
`FILTER`, `JOIN`, `GROUP_BY`, `SORT`, `WINDOW`, `CONDITIONAL`), each with `masking` true
when the transformation masks the value. The legacy `transformationType` (`IDENTITY`,
`MASKED`) says the same for producers that predate `transformations`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from steward.governance.models import Transformation

# Subtypes that hide the value itself: the input is read through a mask (a hash is a mask).
MASKING_SUBTYPES = frozenset({"MASKED", "MASKING", "MASK", "HASH", "HASHED", "HASHING"})
# Subtypes that do not carry one row's value: an aggregate is not one person's data.
SUMMARISING_SUBTYPES = frozenset({"AGGREGATION", "AGGREGATE"})


def transformations_of(stored: Any, legacy_type: str | None) -> tuple[Transformation, ...]:
    """A column edge's transformations as stored (`column_edges.transformations`)."""
    found = tuple(
        Transformation(
            type=t.get("type"),
            subtype=t.get("subtype"),
            masking=t.get("masking"),
            description=t.get("description") or None,
        )
        for t in stored or []
        if isinstance(t, dict)
    )
    if found:
        return found
    if legacy_type:
        return (Transformation(type=legacy_type, masking=legacy_type.upper() == "MASKED"),)
    return ()


def masks(transformations: Iterable[Transformation]) -> bool:
    """Whether the edge reads its input through a mask (masking, a hash, legacy MASKED)."""
    for t in transformations:
        if t.masking:
            return True
        if (t.subtype or "").upper() in MASKING_SUBTYPES:
            return True
        if (t.type or "").upper() in MASKING_SUBTYPES:
            return True
    return False


def carries_value(transformations: Iterable[Transformation], *, indirect: bool) -> bool:
    """Whether the input's values flow into the output unmasked (personal data stays clear).

    An IDENTITY copy or a plain TRANSFORMATION does; a mask, a hash or an aggregate does
    not, nor does an INDIRECT input (a filter or join key decides rows, not values).
    """
    items = list(transformations)
    if indirect or any((t.type or "").upper() == "INDIRECT" for t in items):
        return False
    if masks(items):
        return False
    return not any((t.subtype or "").upper() in SUMMARISING_SUBTYPES for t in items)


def filters(transformations: Iterable[Transformation]) -> bool:
    """Whether the edge says the input column filters rows (INDIRECT/FILTER)."""
    return any((t.subtype or "").upper() == "FILTER" for t in transformations)


@dataclass(frozen=True)
class ColumnRead:
    """A run's use of one input column, from one column edge."""

    dataset_id: int
    column: str
    transformations: tuple[Transformation, ...]
    indirect: bool  # a whole-dataset input (the facet's `dataset` list) or INDIRECT

    @property
    def masked(self) -> bool:
        """Read through a mask: the run never saw the clear value."""
        return masks(self.transformations)

    @property
    def filtering(self) -> bool:
        """The column filters the rows the run read."""
        return filters(self.transformations)
