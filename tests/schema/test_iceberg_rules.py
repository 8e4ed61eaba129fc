"""Iceberg schema evolution rules per format version, on real pyiceberg schemas."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyiceberg.schema import Schema
from pyiceberg.types import (
    BinaryType,
    DateType,
    DecimalType,
    DoubleType,
    FixedType,
    FloatType,
    IcebergType,
    IntegerType,
    ListType,
    LongType,
    MapType,
    NestedField,
    StringType,
    StructType,
    TimestampNanoType,
    TimestampType,
    TimestamptzType,
    UnknownType,
    UUIDType,
)

from steward.errors import InvalidInput
from steward.schema.compatibility import check_iceberg


def one_column(field_type: IcebergType, *, required: bool = False) -> Schema:
    return Schema(
        NestedField(1, "id", LongType(), required=True),
        NestedField(2, "c", field_type, required=required),
    )


def rules(
    old: Schema, new: Schema, version: int, partition_source_ids: tuple[int, ...] = ()
) -> list[str]:
    found = check_iceberg(
        old, new, format_version=version, partition_source_ids=partition_source_ids
    )
    return [i.rule for i in found]


# (before, after, verdict in v1, v2, v3); None is allowed, else the rule id.
NARROW = "iceberg.type-narrowing"
CHANGE = "iceberg.type-change-not-allowed"
PROMOTIONS = [
    ("int-to-long", IntegerType(), LongType(), (None, None, None)),
    ("float-to-double", FloatType(), DoubleType(), (None, None, None)),
    ("decimal-precision-widened", DecimalType(10, 2), DecimalType(12, 2), (None, None, None)),
    ("decimal-precision-narrowed", DecimalType(12, 2), DecimalType(10, 2), (NARROW,) * 3),
    ("decimal-scale-changed", DecimalType(10, 2), DecimalType(12, 3), (CHANGE,) * 3),
    ("long-to-int", LongType(), IntegerType(), (NARROW,) * 3),
    ("double-to-float", DoubleType(), FloatType(), (NARROW,) * 3),
    ("int-to-double", IntegerType(), DoubleType(), (CHANGE,) * 3),
    ("int-to-string", IntegerType(), StringType(), (CHANGE,) * 3),
    ("string-to-binary", StringType(), BinaryType(), (CHANGE,) * 3),
    ("binary-to-string", BinaryType(), StringType(), (CHANGE,) * 3),
    ("fixed16-to-uuid", FixedType(16), UUIDType(), (CHANGE,) * 3),
    ("date-to-timestamp", DateType(), TimestampType(), (CHANGE, CHANGE, None)),
    ("date-to-timestamptz", DateType(), TimestamptzType(), (CHANGE,) * 3),
    ("timestamp-to-date", TimestampType(), DateType(), (CHANGE, CHANGE, NARROW)),
    (
        "struct-to-string",
        StructType(NestedField(3, "x", IntegerType())),
        StringType(),
        (CHANGE,) * 3,
    ),
]


@pytest.mark.parametrize(
    ("before", "after", "verdicts"),
    [pytest.param(b, a, v, id=name) for name, b, a, v in PROMOTIONS],
)
@pytest.mark.parametrize("version", [1, 2, 3])
def test_type_promotions_follow_the_spec_table(
    before: IcebergType, after: IcebergType, verdicts: tuple[str | None, ...], version: int
) -> None:
    expected = verdicts[version - 1]
    assert rules(one_column(before), one_column(after), version) == ([expected] if expected else [])


def test_date_to_timestamp_ns_needs_v3_and_the_new_type_too() -> None:
    old, new = one_column(DateType()), one_column(TimestampNanoType())
    assert rules(old, new, 3) == []
    assert rules(old, new, 2) == ["iceberg.type-requires-v3", CHANGE]


def test_unknown_becomes_any_type_in_v3_only() -> None:
    assert rules(one_column(UnknownType()), one_column(StringType()), 3) == []
    assert rules(one_column(UnknownType()), one_column(LongType()), 2) == [CHANGE]
    assert rules(one_column(StringType()), one_column(UnknownType()), 2) == [
        "iceberg.type-requires-v3",
        CHANGE,
    ]


def test_promotion_inside_list_and_map_is_checked_by_element_id() -> None:
    old = Schema(
        NestedField(1, "l", ListType(2, IntegerType(), element_required=False)),
        NestedField(3, "m", MapType(4, StringType(), 5, FloatType(), value_required=False)),
    )
    wide = Schema(
        NestedField(1, "l", ListType(2, LongType(), element_required=False)),
        NestedField(3, "m", MapType(4, StringType(), 5, DoubleType(), value_required=False)),
    )
    assert rules(old, wide, 2) == []
    found = check_iceberg(wide, old, format_version=2)
    assert [(i.rule, i.path) for i in found] == [(NARROW, "l.element"), (NARROW, "m.value")]


def test_renames_and_reorders_are_safe_by_field_id() -> None:
    old = Schema(
        NestedField(1, "id", LongType(), required=True),
        NestedField(2, "name", StringType()),
        NestedField(3, "s", StructType(NestedField(4, "x", IntegerType()))),
    )
    new = Schema(
        NestedField(3, "renamed_struct", StructType(NestedField(4, "y", IntegerType()))),
        NestedField(2, "full_name", StringType()),
        NestedField(1, "key", LongType(), required=True),
    )
    assert rules(old, new, 1) == []


@pytest.mark.parametrize("version", [1, 2, 3])
def test_optional_column_added_is_allowed(version: int) -> None:
    old = Schema(NestedField(1, "id", LongType(), required=True))
    new = Schema(NestedField(1, "id", LongType(), required=True), NestedField(2, "c", StringType()))
    assert rules(old, new, version) == []


@pytest.mark.parametrize("version", [1, 2, 3])
def test_required_column_added_without_default_is_refused(version: int) -> None:
    old = Schema(NestedField(1, "id", LongType(), required=True))
    new = Schema(
        NestedField(1, "id", LongType(), required=True),
        NestedField(2, "c", StringType(), required=True),
    )
    [finding] = check_iceberg(old, new, format_version=version)
    assert (finding.rule, finding.path) == ("iceberg.required-column-added", "c")


def test_required_column_with_initial_default_needs_v3() -> None:
    old = Schema(NestedField(1, "id", LongType(), required=True))
    new = Schema(
        NestedField(1, "id", LongType(), required=True),
        NestedField(2, "c", StringType(), required=True, initial_default="n/a"),
    )
    assert rules(old, new, 3) == []
    assert rules(old, new, 2) == ["iceberg.required-column-added"]


def test_required_field_inside_a_new_optional_struct_is_allowed() -> None:
    old = Schema(NestedField(1, "id", LongType(), required=True))
    new = Schema(
        NestedField(1, "id", LongType(), required=True),
        NestedField(2, "s", StructType(NestedField(3, "x", IntegerType(), required=True))),
    )
    assert rules(old, new, 2) == []


def test_required_field_added_to_an_existing_struct_is_refused() -> None:
    old = Schema(NestedField(1, "s", StructType(NestedField(2, "x", IntegerType()))))
    new = Schema(
        NestedField(
            1,
            "s",
            StructType(
                NestedField(2, "x", IntegerType()),
                NestedField(3, "y", IntegerType(), required=True),
            ),
        )
    )
    [finding] = check_iceberg(old, new, format_version=2)
    assert (finding.rule, finding.path) == ("iceberg.required-column-added", "s.y")


@pytest.mark.parametrize("version", [1, 2, 3])
def test_optional_to_required_is_refused_and_back_is_allowed(version: int) -> None:
    optional, required = one_column(IntegerType()), one_column(IntegerType(), required=True)
    assert rules(optional, required, version) == ["iceberg.optional-to-required"]
    assert rules(required, optional, version) == []


def test_list_element_made_required_is_refused() -> None:
    old = Schema(NestedField(1, "l", ListType(2, IntegerType(), element_required=False)))
    new = Schema(NestedField(1, "l", ListType(2, IntegerType(), element_required=True)))
    assert rules(old, new, 2) == ["iceberg.optional-to-required"]


def test_dropping_a_partition_source_column_is_refused() -> None:
    old = Schema(NestedField(1, "id", LongType(), required=True), NestedField(2, "day", DateType()))
    new = Schema(NestedField(1, "id", LongType(), required=True))
    assert rules(old, new, 2) == []
    assert rules(old, new, 2, partition_source_ids=(2,)) == ["iceberg.partition-source-dropped"]


def test_promoting_a_partition_source_column() -> None:
    assert rules(one_column(IntegerType()), one_column(LongType()), 2, (2,)) == []
    assert rules(one_column(DateType()), one_column(TimestampType()), 3, (2,)) == [
        "iceberg.partition-source-promotion"
    ]


def test_initial_default_cannot_change_in_v3() -> None:
    old = Schema(NestedField(1, "c", StringType(), initial_default="a"))
    new = Schema(NestedField(1, "c", StringType(), initial_default="b"))
    assert rules(old, new, 3) == ["iceberg.initial-default-changed"]


def test_schemas_from_a_real_table_and_as_json(tmp_path: Path) -> None:
    from pyiceberg.catalog.sql import SqlCatalog

    catalog = SqlCatalog(
        "t", uri=f"sqlite:///{tmp_path}/catalog.db", warehouse=f"file://{tmp_path}/warehouse"
    )
    catalog.create_namespace("ns")
    table = catalog.create_table("ns.events", schema=one_column(IntegerType()))
    before = table.schema()
    with table.update_schema() as update:
        update.update_column("c", LongType())
        update.rename_column("c", "count")
    table = catalog.load_table("ns.events")
    version = table.format_version
    assert check_iceberg(before, table.schema(), format_version=version) == []
    found = check_iceberg(
        table.schema().model_dump_json(), before.model_dump(by_alias=True), format_version=version
    )
    assert [(i.rule, i.path) for i in found] == [(NARROW, "c")]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"old": "{nope", "format_version": 2}, "old: not JSON"),
        (
            {"old": {"type": "struct", "fields": [{"id": "x"}]}, "format_version": 2},
            "old: not an Iceberg schema",
        ),
        ({"old": [1], "format_version": 2}, "old: an Iceberg schema is a JSON object"),
        ({"old": one_column(IntegerType()), "format_version": 4}, "format_version: 4"),
    ],
)
def test_bad_input_is_invalid_input(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        check_iceberg(new=one_column(IntegerType()), **kwargs)  # type: ignore[arg-type]
