"""Deprecations: a dataset or a column announced to go on a sunset date, with a replacement.

The policy (docs/adr/0001-deprecation-policy.md): a breaking change to a deprecated item
is refused until its sunset and allowed from that day on (the readers were told).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.errors import InvalidInput
from steward.store.schema import catalog_entries, schema_deprecations

DATASET = ""  # the `field` of a deprecation of the whole dataset


@dataclass(frozen=True)
class Deprecation:
    """One deprecated dataset (`column` None) or column."""

    dataset_id: int
    column: str | None
    sunset: date
    replacement: str | None
    created_by: str
    created_at: datetime

    def past_sunset(self, today: date) -> bool:
        """Whether `today` is on or after the sunset: breaking changes are then allowed."""
        return today >= self.sunset

    def covers(self, path: str) -> bool:
        """Whether this deprecation covers the field at `path` (its column or a child)."""
        if self.column is None:
            return True
        return path.lower() == self.column.lower() or path.lower().startswith(
            f"{self.column.lower()}."
        )

    def to_json(self) -> dict[str, Any]:
        """This deprecation as the API, the dataset page and `--json` show it."""
        return {
            "column": self.column,
            "sunset": self.sunset.isoformat(),
            "replacement": self.replacement,
            "createdBy": self.created_by,
            "createdAt": self.created_at.replace(tzinfo=UTC).isoformat(),
        }


def deprecate(
    conn: Connection,
    dataset_id: int,
    column: str | None,
    *,
    sunset: date,
    replacement: str | None,
    author: str,
    columns: Sequence[str] | None = None,
) -> Deprecation:
    """Deprecate a dataset or one of its columns; a second call moves the date.

    Args:
        columns: the dataset's known column names, to refuse a column it does not have.

    Raises:
        InvalidInput: the column is not one of `columns`.
    """
    known = {c.lower() for c in columns or ()}
    if column is not None and columns is not None and column.lower() not in known:
        raise InvalidInput(f"column: the dataset has no column {column!r}")
    field = column or DATASET
    now = datetime.now(UTC).replace(tzinfo=None)
    c = schema_deprecations.c
    conn.execute(schema_deprecations.delete().where(c.dataset_id == dataset_id, c.field == field))
    conn.execute(
        schema_deprecations.insert(),
        {
            "dataset_id": dataset_id,
            "field": field,
            "sunset": sunset,
            "replacement": replacement,
            "created_by": author,
            "created_at": now,
        },
    )
    return Deprecation(dataset_id, column, sunset, replacement, author, now)


def undeprecate(conn: Connection, dataset_id: int, column: str | None) -> bool:
    """Withdraw a deprecation; whether there was one."""
    c = schema_deprecations.c
    gone = conn.execute(
        schema_deprecations.delete().where(
            c.dataset_id == dataset_id, c.field == (column or DATASET)
        )
    )
    return bool(gone.rowcount)


def deprecations(conn: Connection, dataset_ids: Sequence[int]) -> dict[int, list[Deprecation]]:
    """The deprecations of each dataset, the dataset's own first, then by column."""
    c = schema_deprecations.c
    rows = conn.execute(
        sa.select(schema_deprecations)
        .where(c.dataset_id.in_(list(dataset_ids)))
        .order_by(c.dataset_id, c.field)
    ).all()
    out: dict[int, list[Deprecation]] = {i: [] for i in dataset_ids}
    for r in rows:
        out[r.dataset_id].append(
            Deprecation(
                r.dataset_id,
                r.field or None,
                r.sunset,
                r.replacement,
                r.created_by,
                r.created_at,
            )
        )
    return out


def by_catalog_name(conn: Connection, names: Sequence[str]) -> dict[str, list[Deprecation]]:
    """The deprecations of the datasets with these catalog names (search results)."""
    rows = conn.execute(
        sa.select(catalog_entries.c.dataset_id, catalog_entries.c.name).where(
            catalog_entries.c.name.in_(list(names))
        )
    )
    ids = {int(dataset_id): str(name) for dataset_id, name in rows}
    found = deprecations(conn, list(ids))
    return {ids[i]: found[i] for i in ids}


def shown_with(found: Sequence[Deprecation], columns: Sequence[str]) -> list[Deprecation]:
    """The dataset's own deprecation and those of `columns` (the columns a caller sees)."""
    seen = {c.lower() for c in columns}
    return [d for d in found if d.column is None or d.column.lower() in seen]
