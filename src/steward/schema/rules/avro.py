"""Rule set for avro subjects (work in progress: the API shape only)."""

from __future__ import annotations

from collections.abc import Sequence

from steward.schema.compatibility import Incompatibility, Mode, SchemaDocument


def check_avro(
    new: SchemaDocument, previous: Sequence[SchemaDocument], mode: Mode
) -> list[Incompatibility]:
    """Not written yet."""
    raise NotImplementedError
