"""Schema fields, nested ones included (SchemaDatasetFacet 1-1-0 `fields[].fields`).

A struct's, array's or map's members are stored as rows of the schema version with the
dotted path from the top (`address.city`) and their parent's ordinal; answers show them
as a tree (a `fields` list on the field that has members), and column lineage names
them by their path.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from steward.lineage.models import SchemaField


def schema_digest_form(fields: list[SchemaField]) -> list[Any]:
    """What a schema version's hash covers: each field's name, type, description and, for
    a struct, array or map, its nested fields (a flat schema hashes as before 0011)."""
    return [
        (f["name"], f.get("type"), f.get("description"))
        + ((schema_digest_form(nested),) if (nested := f.get("fields")) else ())
        for f in fields
    ]


def field_rows(fields: list[SchemaField]) -> list[dict[str, Any]]:
    """`dataset_fields` rows of a schema, depth first: nested fields with their path."""
    rows: list[dict[str, Any]] = []

    def add(items: list[SchemaField], parent: int | None, prefix: str) -> None:
        for f in items:
            ordinal = len(rows)
            path = prefix + f["name"]
            rows.append(
                {
                    "ordinal": ordinal,
                    "name": f["name"],
                    "type": f.get("type"),
                    "description": f.get("description"),
                    "path": None if parent is None else path,
                    "parent_ordinal": parent,
                }
            )
            add(f.get("fields") or [], ordinal, path + ".")

    add(fields, None, "")
    return rows


def flat_fields(fields: Iterable[dict[str, Any]], prefix: str = "") -> Iterator[dict[str, Any]]:
    """Every field of a schema tree, nested ones named by their dotted path (`address.city`)."""
    for f in fields:
        path = f.get("path") or prefix + str(f["name"])
        yield {**f, "path": path}
        yield from flat_fields(f.get("fields") or [], path + ".")
