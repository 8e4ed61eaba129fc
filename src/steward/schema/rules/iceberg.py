"""Iceberg tables: the table spec's schema evolution rules, per format version.

Columns are matched by field id, never by name or position, so renames and reorders
are always safe (spec: "Schema Evolution"). Type promotions come from pyiceberg's own
`pyiceberg.schema.promote`, corrected where it answers a different question than the
spec's evolution table (each correction says why in `promotion_allowed`).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from steward.errors import InvalidInput
from steward.schema.compatibility import Incompatibility, SchemaDocument

if TYPE_CHECKING:
    from pyiceberg.schema import Schema as IcebergSchema
    from pyiceberg.types import IcebergType, NestedField

FORMAT_VERSIONS = (1, 2, 3)


def check_iceberg(
    old: IcebergSchema | SchemaDocument,
    new: IcebergSchema | SchemaDocument,
    *,
    format_version: int,
    partition_source_ids: Collection[int] = (),
) -> list[Incompatibility]:
    """Why a table of `format_version` may not change its schema from `old` to `new`.

    Raises:
        InvalidInput: a schema is not an Iceberg schema, or the format version is not 1-3.
    """
    if format_version not in FORMAT_VERSIONS:
        raise InvalidInput(f"format_version: {format_version!r} is not one of 1, 2, 3")
    before, after = parse_iceberg(old, "old"), parse_iceberg(new, "new")
    old_fields = dict(walk(before))
    new_fields = dict(walk(after))
    found: list[Incompatibility] = []

    def report(rule: str, schema: IcebergSchema, field_id: int, message: str) -> None:
        path = schema.find_column_name(field_id) or str(field_id)
        found.append(Incompatibility(rule, path, message))

    for field_id, (field, parent_id) in new_fields.items():
        if format_version < 3 and is_v3_only(field.field_type):
            report(
                "iceberg.type-requires-v3",
                after,
                field_id,
                f"type {field.field_type} needs table format version 3",
            )
        if field_id in old_fields:
            continue
        # A field inside a struct (or list, map) added in the same change has no old
        # rows of its own: old rows hold null for the new parent.
        if parent_id is not None and parent_id not in old_fields:
            continue
        if field.required and not (format_version >= 3 and field.initial_default is not None):
            how = (
                "without an initial default"
                if format_version >= 3
                else f"(format version {format_version} has no default values)"
            )
            report(
                "iceberg.required-column-added",
                after,
                field_id,
                f"required column added {how}: existing rows have no value for it",
            )

    for field_id, (field, _) in old_fields.items():
        if field_id not in new_fields:
            if field_id in partition_source_ids:
                report(
                    "iceberg.partition-source-dropped",
                    before,
                    field_id,
                    "a column the partition spec reads cannot be dropped",
                )
            continue
        new_field = new_fields[field_id][0]
        if new_field.required and not field.required:
            report(
                "iceberg.optional-to-required",
                after,
                field_id,
                "an optional column cannot become required: existing rows may hold nulls",
            )
        found += type_change(after, field, new_field, format_version, partition_source_ids)
        if (
            format_version >= 3
            and field.initial_default is not None
            and new_field.initial_default != field.initial_default
        ):
            report(
                "iceberg.initial-default-changed",
                after,
                field_id,
                "a column's initial default is fixed when it is added",
            )
    return found


def type_change(
    schema: IcebergSchema,
    old: NestedField,
    new: NestedField,
    format_version: int,
    partition_source_ids: Collection[int],
) -> list[Incompatibility]:
    """The finding, if any, for a field whose type changed (nested types by their kind)."""
    from pyiceberg.types import PrimitiveType

    before, after = old.field_type, new.field_type
    path = schema.find_column_name(new.field_id) or str(new.field_id)
    if before == after:
        return []
    if not (isinstance(before, PrimitiveType) and isinstance(after, PrimitiveType)):
        if type(before) is type(after):
            return []  # a struct, list or map: its fields are checked by their own ids
        message = f"{before} cannot become {after}"
        return [Incompatibility("iceberg.type-change-not-allowed", path, message)]
    if promotion_allowed(before, after, format_version):
        if new.field_id in partition_source_ids and changes_partition_values(before, after):
            return [
                Incompatibility(
                    "iceberg.partition-source-promotion",
                    path,
                    f"{before} -> {after} on a partition source column would change the "
                    "partition values of existing rows",
                )
            ]
        return []
    if promotion_allowed(after, before, format_version):
        message = f"{before} -> {after} narrows the type; only widening is allowed"
        return [Incompatibility("iceberg.type-narrowing", path, message)]
    message = f"{before} -> {after} is not a promotion format version {format_version} allows"
    return [Incompatibility("iceberg.type-change-not-allowed", path, message)]


def promotion_allowed(before: IcebergType, after: IcebergType, format_version: int) -> bool:
    """Whether the spec lets a column of type `before` become `after` in this format version.

    Spec table: int -> long, float -> double, decimal(P, S) -> decimal(P', S) with P' > P;
    version 3 adds date -> timestamp / timestamp_ns and unknown -> any type.
    """
    from pyiceberg.exceptions import ResolveError
    from pyiceberg.schema import promote
    from pyiceberg.types import (
        BinaryType,
        DateType,
        DecimalType,
        FixedType,
        StringType,
        TimestampNanoType,
        TimestampType,
        UnknownType,
        UUIDType,
    )

    # pyiceberg's promote answers "can a reader resolve this file type", which also
    # accepts string <-> binary and fixed[16] -> uuid; the spec's evolution table has
    # neither, so they are refused here.
    if isinstance(before, StringType | BinaryType | FixedType) and isinstance(
        after, StringType | BinaryType | UUIDType
    ):
        return False
    # pyiceberg 0.12 compares the file decimal's scale with itself, so a scale change
    # passes; the spec allows widening the precision only.
    if isinstance(before, DecimalType) and isinstance(after, DecimalType):
        return after.scale == before.scale and after.precision > before.precision
    # The version 3 promotions pyiceberg does not know (date -> timestamp), or knows
    # without asking the format version (unknown -> any).
    if isinstance(before, DateType) and isinstance(after, TimestampType | TimestampNanoType):
        return format_version >= 3
    if isinstance(before, UnknownType):
        return format_version >= 3
    try:
        promote(before, after)
    except ResolveError:
        return False
    return True


def changes_partition_values(before: IcebergType, after: IcebergType) -> bool:
    """Whether a promotion may change what a partition transform gives for old values.

    The spec forbids promoting a partition source column when the transform would then
    produce a different value. int -> long and float -> double hash and truncate the
    same; a date read as a timestamp does not (identity, bucket). Without the
    transforms at hand, every date promotion of a partition source is refused.
    """
    from pyiceberg.types import DateType

    return isinstance(before, DateType)


def is_v3_only(field_type: IcebergType) -> bool:
    """Whether a type exists only from table format version 3."""
    from pyiceberg.types import (
        GeographyType,
        GeometryType,
        TimestampNanoType,
        TimestamptzNanoType,
        UnknownType,
    )

    v3 = (TimestampNanoType, TimestamptzNanoType, UnknownType, GeometryType, GeographyType)
    return isinstance(field_type, v3)


def walk(schema: IcebergSchema) -> Iterator[tuple[int, tuple[NestedField, int | None]]]:
    """Every field of a schema, nested ones too, as (id, (field, parent field id))."""
    from pyiceberg.types import ListType, MapType, StructType

    def fields(field_type: IcebergType, parent: int | None) -> Iterator[Any]:
        children: list[NestedField] = []
        if isinstance(field_type, StructType):
            children = list(field_type.fields)
        elif isinstance(field_type, ListType):
            children = [field_type.element_field]
        elif isinstance(field_type, MapType):
            children = [field_type.key_field, field_type.value_field]
        for child in children:
            yield child.field_id, (child, parent)
            yield from fields(child.field_type, child.field_id)

    yield from fields(schema.as_struct(), None)


def parse_iceberg(document: IcebergSchema | SchemaDocument, field: str) -> IcebergSchema:
    """An Iceberg schema from a pyiceberg Schema or the spec's JSON (text or parsed).

    Raises:
        InvalidInput: not an Iceberg schema; the message names `field`.
    """
    from pydantic import ValidationError
    from pyiceberg.schema import Schema

    if isinstance(document, Schema):
        return document
    try:
        parsed: Any = json.loads(document) if isinstance(document, str) else document
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{field}: not JSON: {exc}") from None
    if not isinstance(parsed, Mapping):
        raise InvalidInput(f"{field}: an Iceberg schema is a JSON object")
    try:
        return Schema.model_validate(parsed)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(f"{field}: not an Iceberg schema: {where}: {first['msg']}") from None
