"""Whether a new schema may follow the ones before it: the shared shapes and the entry points.

Avro and JSON Schema subjects are checked per compatibility mode, as Confluent Schema
Registry and Redpanda define the modes; Iceberg tables by the table spec's evolution
rules for the table's format version. Each rule set lives in `steward.schema.rules`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

from steward.errors import InvalidInput

if TYPE_CHECKING:
    from pyiceberg.schema import Schema as IcebergSchema

SchemaType = Literal["AVRO", "JSON"]
"""The registry formats with modes, spelt as Confluent's `schemaType`."""

SchemaDocument = str | Mapping[str, Any] | Sequence[Any]
"""A schema as JSON text, or already parsed (an Avro union is a JSON list).

A `str` is always JSON text: the Avro primitive `int` is `'"int"'`.
"""


class Mode(StrEnum):
    """A compatibility mode, as Confluent Schema Registry and Redpanda define it.

    BACKWARD: the new schema can read data written with the latest registered one.
    FORWARD: the latest registered schema can read data written with the new one.
    FULL: both. The `_TRANSITIVE` forms check against every previous version, not just
    the latest. NONE checks nothing.
    """

    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"
    NONE = "NONE"

    @property
    def backward(self) -> bool:
        """Whether the new schema must read what previous ones wrote."""
        return self in (Mode.BACKWARD, Mode.BACKWARD_TRANSITIVE, Mode.FULL, Mode.FULL_TRANSITIVE)

    @property
    def forward(self) -> bool:
        """Whether previous schemas must read what the new one writes."""
        return self in (Mode.FORWARD, Mode.FORWARD_TRANSITIVE, Mode.FULL, Mode.FULL_TRANSITIVE)

    @property
    def transitive(self) -> bool:
        """Whether every previous version counts, not only the latest."""
        return self.value.endswith("_TRANSITIVE")


Direction = Literal["backward", "forward"]
"""`backward`: the new schema reads old data; `forward`: an old schema reads new data."""


@dataclass(frozen=True)
class Incompatibility:
    """One reason a new schema may not follow a previous one.

    Attributes:
        rule: a stable rule id, such as `avro.reader-field-missing-default` or
            `iceberg.type-narrowing`; docs/schema-rules.md lists them all.
        path: where in the schema, as a JSON pointer for Avro and JSON Schema
            (`/fields/2/type`, `/properties/age`) and a dotted column name for Iceberg.
        message: a sentence for a person.
        version: the index in `previous` (0 is the oldest) of the schema it conflicts
            with; None for Iceberg, which compares two schemas only.
        direction: which way the reading fails; None for Iceberg.
    """

    rule: str
    path: str
    message: str
    version: int | None = None
    direction: Direction | None = None


def versions_to_check(previous_count: int, mode: Mode) -> range:
    """The indexes of previous versions a mode checks against, oldest first."""
    if mode is Mode.NONE or previous_count == 0:
        return range(0)
    if mode.transitive:
        return range(previous_count)
    return range(previous_count - 1, previous_count)


def check_avro(
    new: SchemaDocument, previous: Sequence[SchemaDocument], mode: Mode | str
) -> list[Incompatibility]:
    """Check a new Avro schema against the previous versions of its subject (oldest first).

    Raises:
        InvalidInput: a schema does not parse as Avro.
    """
    from steward.schema.rules.avro import check_avro as check_avro_rules

    return check_avro_rules(new, previous, parse_mode(mode))


def check_json_schema(
    new: SchemaDocument, previous: Sequence[SchemaDocument], mode: Mode | str
) -> list[Incompatibility]:
    """Check a new JSON Schema against the previous versions of its subject (oldest first).

    Raises:
        InvalidInput: a schema is not a JSON Schema document.
    """
    from steward.schema.rules.json_schema import check_json_schema as check_json_rules

    return check_json_rules(new, previous, parse_mode(mode))


def check(
    schema_type: SchemaType | str,
    new: SchemaDocument,
    previous: Sequence[SchemaDocument],
    mode: Mode | str,
) -> list[Incompatibility]:
    """Check a new registry schema of `schema_type` (`AVRO` or `JSON`) under `mode`.

    The new schema is always parsed, so a schema that does not parse is refused even
    with no previous versions or under NONE. An empty list means compatible.

    Raises:
        InvalidInput: an unknown schema type or mode, or a schema that does not parse.
    """
    kind = schema_type.upper()
    if kind == "AVRO":
        return check_avro(new, previous, mode)
    if kind == "JSON":
        return check_json_schema(new, previous, mode)
    raise InvalidInput(f"schemaType: {schema_type!r} is not one of AVRO, JSON")


def check_iceberg(
    old: IcebergSchema | SchemaDocument,
    new: IcebergSchema | SchemaDocument,
    *,
    format_version: int,
    partition_source_ids: Collection[int] = (),
) -> list[Incompatibility]:
    """Check an Iceberg table's schema change from `old` to `new` by the table spec.

    Columns match by field id, so renames and reorders are safe. `partition_source_ids`
    are the field ids the table's partition spec reads; they may not be dropped.

    Raises:
        InvalidInput: a schema is not an Iceberg schema, or the format version is not 1-3.
    """
    from steward.schema.rules.iceberg import check_iceberg as check_iceberg_rules

    return check_iceberg_rules(
        old, new, format_version=format_version, partition_source_ids=partition_source_ids
    )


def parse_mode(mode: Mode | str) -> Mode:
    """The mode named by `mode` (any case).

    Raises:
        InvalidInput: not one of the seven modes.
    """
    if isinstance(mode, Mode):
        return mode
    try:
        return Mode(mode.upper())
    except ValueError:
        names = ", ".join(m.value for m in Mode)
        raise InvalidInput(f"compatibility: {mode!r} is not one of {names}") from None
