"""Diffs between two schemas: pairing by field id or name, every kind of change, nested paths."""

from __future__ import annotations

from steward.schema.diff import ChangeKind, diff_schemas
from steward.schema.fields import Field, from_iceberg, schema_hash


def _kinds(
    old: tuple[Field, ...], new: tuple[Field, ...]
) -> set[tuple[str, str, str | None, str | None]]:
    return {(c.kind.value, c.path, c.old, c.new) for c in diff_schemas(old, new)}


def test_with_field_ids_a_rename_and_a_reorder_are_told_apart_from_drop_and_add() -> None:
    old = (Field("id", "long", 1), Field("email", "string", 2), Field("city", "string", 3))
    new = (Field("city", "string", 3), Field("id", "long", 1), Field("mail", "string", 2))
    assert _kinds(old, new) == {
        ("renamed", "mail", "email", "mail"),
        ("reordered", "city", "3", "1"),
        ("reordered", "id", "1", "2"),
        ("reordered", "mail", "2", "3"),
    }


def test_without_field_ids_a_rename_is_a_drop_and_an_add() -> None:
    old = (Field("id", "INT"), Field("email", "VARCHAR"))
    new = (Field("id", "INT"), Field("mail", "VARCHAR"))
    assert _kinds(old, new) == {
        ("dropped", "email", "VARCHAR", None),
        ("added", "mail", None, "VARCHAR"),
    }


def test_the_same_name_with_another_field_id_is_a_new_field() -> None:
    old = (Field("salary", "string", 3),)
    new = (Field("salary", "double", 4),)
    assert _kinds(old, new) == {
        ("dropped", "salary", "string", None),
        ("added", "salary", None, "double"),
    }


def test_nullability_and_default_changes() -> None:
    old = (Field("id", "long", 1, True), Field("note", "string", 2, False, '"n/a"'))
    new = (Field("id", "long", 1, False), Field("note", "string", 2, True, '""'))
    assert _kinds(old, new) == {
        ("nullability_changed", "id", "required", "optional"),
        ("nullability_changed", "note", "optional", "required"),
        ("default_changed", "note", '"n/a"', '""'),
    }
    # Unknown nullability (OpenLineage, catalog columns) is no change.
    assert diff_schemas((Field("id", "long", 1, None),), (Field("id", "long", 1, True),)) == []


def test_nested_fields_diff_under_their_parent_path() -> None:
    def iceberg(city_type: str, with_zip: bool) -> tuple[Field, ...]:
        children = [{"id": 3, "name": "city", "required": False, "type": city_type}]
        if with_zip:
            children.append({"id": 4, "name": "zip", "required": True, "type": "string"})
        return from_iceberg(
            {
                "type": "struct",
                "fields": [
                    {
                        "id": 1,
                        "name": "addresses",
                        "required": False,
                        "type": {
                            "type": "list",
                            "element-id": 2,
                            "element": {"type": "struct", "fields": children},
                            "element-required": False,
                        },
                    }
                ],
            }
        )

    changes = diff_schemas(iceberg("string", False), iceberg("binary", True))
    assert [(c.kind, c.path, c.field_id) for c in changes] == [
        (ChangeKind.ADDED, "addresses.zip", 4),
        (ChangeKind.TYPE_CHANGED, "addresses.city", 3),
    ]
    assert schema_hash(iceberg("string", False)) != schema_hash(iceberg("binary", False))
    assert schema_hash(iceberg("string", False)) == schema_hash(iceberg("string", False))
