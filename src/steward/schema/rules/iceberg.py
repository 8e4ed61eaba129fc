"""Rule set for Iceberg tables (work in progress: the API shape only)."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from steward.schema.compatibility import Incompatibility, SchemaDocument

if TYPE_CHECKING:
    from pyiceberg.schema import Schema as IcebergSchema


def check_iceberg(
    old: IcebergSchema | SchemaDocument,
    new: IcebergSchema | SchemaDocument,
    *,
    format_version: int,
    partition_source_ids: Collection[int] = (),
) -> list[Incompatibility]:
    """Not written yet."""
    raise NotImplementedError
