"""A schema as Steward keeps it: nested fields, read from each format a schema comes in.

One shape for every origin, so any two versions diff alike: OpenLineage schema facets
(nested `fields`), what a catalog sync states (columns with Iceberg field ids), an
Iceberg schema's JSON, an Avro record, a JSON Schema object and a dbt model's contract.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from steward.errors import InvalidInput


@dataclass(frozen=True)
class Field:
    """One field of a schema; `fields` holds a struct's (or a list of structs') children."""

    name: str
    type: str | None = None
    field_id: int | None = None
    # None where the format does not say (OpenLineage facets, catalog columns).
    required: bool | None = None
    # A default as its JSON text, so every format's defaults compare alike.
    default: str | None = None
    doc: str | None = None
    fields: tuple[Field, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """This field as stored in `schema_versions.fields` and shown by the API."""
        return {
            "name": self.name,
            "type": self.type,
            "fieldId": self.field_id,
            "required": self.required,
            "default": self.default,
            "doc": self.doc,
            "fields": [f.to_json() for f in self.fields],
        }


Schema = tuple[Field, ...]


def schema_hash(fields: Schema) -> str:
    """SHA-256 of a schema: equal schemas, equal hashes."""
    payload = [f.to_json() for f in fields]
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


def from_stored(value: Sequence[Mapping[str, Any]]) -> Schema:
    """A schema from `schema_versions.fields` (the shape `Field.to_json` writes)."""
    return tuple(
        Field(
            name=str(f["name"]),
            type=f.get("type"),
            field_id=f.get("fieldId"),
            required=f.get("required"),
            default=f.get("default"),
            doc=f.get("doc"),
            fields=from_stored(f.get("fields") or []),
        )
        for f in value
    )


def from_openlineage(value: Sequence[Mapping[str, Any]]) -> Schema:
    """A schema from an OpenLineage schema facet's `fields` (nested fields included)."""
    return tuple(
        Field(
            name=str(f["name"]),
            type=f.get("type"),
            doc=f.get("description"),
            fields=from_openlineage(f.get("fields") or []),
        )
        for f in value
    )


def from_stated(columns: Sequence[Mapping[str, Any]]) -> Schema:
    """A schema from `catalog_entries.stated["columns"]` (what a catalog sync stated).

    An Iceberg source states each field as its spec's JSON, nested fields, `required`
    and defaults included; other sources state a name, a type and whether it is nullable.
    """
    if columns and all(isinstance(c.get("iceberg"), Mapping) for c in columns):
        return from_iceberg({"type": "struct", "fields": [c["iceberg"] for c in columns]})
    return tuple(
        Field(
            name=str(c["name"]),
            type=c.get("type"),
            field_id=c.get("fieldId"),
            required=None if c.get("nullable") is None else not c["nullable"],
            doc=c.get("description"),
        )
        for c in columns
    )


def _default(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _iceberg_type(value: Any, path: str) -> tuple[str, Schema]:
    """An Iceberg type's text (as pyiceberg prints it) and its struct children, if any."""
    if isinstance(value, str):
        return value, ()
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{path}.type: an Iceberg type is a string or an object")
    kind = value.get("type")
    if kind == "struct":
        children = from_iceberg(value, path=path)
        inner = ", ".join(f"{c.name}: {c.type}" for c in children)
        return f"struct<{inner}>", children
    if kind == "list":
        element, children = _iceberg_type(value.get("element"), f"{path}.element")
        return f"list<{element}>", children
    if kind == "map":
        key, _ = _iceberg_type(value.get("key"), f"{path}.key")
        item, children = _iceberg_type(value.get("value"), f"{path}.value")
        return f"map<{key}, {item}>", children
    raise InvalidInput(f"{path}.type: unknown Iceberg type {kind!r}")


def from_iceberg(value: Mapping[str, Any], *, path: str = "schema") -> Schema:
    """A schema from an Iceberg schema's JSON (`{"type": "struct", "fields": [...]}`)."""
    raw = value.get("fields")
    if not isinstance(raw, list):
        raise InvalidInput(f"{path}.fields: an Iceberg struct needs a list of fields")
    out: list[Field] = []
    for i, f in enumerate(raw):
        where = f"{path}.fields[{i}]"
        if not isinstance(f, Mapping) or not isinstance(f.get("name"), str):
            raise InvalidInput(f"{where}.name: required")
        if not isinstance(f.get("id"), int):
            raise InvalidInput(f"{where}.id: an Iceberg field needs an integer id")
        type_, children = _iceberg_type(f.get("type"), where)
        initial = f.get("initial-default", f.get("write-default"))
        out.append(
            Field(
                name=f["name"],
                type=type_,
                field_id=f["id"],
                required=bool(f.get("required", False)),
                default=None if initial is None else _default(initial),
                doc=f.get("doc"),
                fields=children,
            )
        )
    return tuple(out)


def _avro_type(value: Any, path: str) -> tuple[str, bool, Schema]:
    """An Avro type's text, whether it is required (no null branch), and record children."""
    if isinstance(value, list):
        branches = [b for b in value if b != "null"]
        if len(branches) == 1:
            text, _, children = _avro_type(branches[0], path)
            return text, len(branches) == len(value), children
        texts = [_avro_type(b, path)[0] for b in branches]
        return f"union<{', '.join(texts)}>", len(branches) == len(value), ()
    if isinstance(value, str):
        return value, True, ()
    if isinstance(value, Mapping):
        kind = value.get("type")
        logical = value.get("logicalType")
        if kind == "record":
            return str(value.get("name", "record")), True, from_avro(value, path=path)
        if kind == "array":
            item, _, children = _avro_type(value.get("items"), f"{path}.items")
            return f"array<{item}>", True, children
        if kind == "map":
            item, _, children = _avro_type(value.get("values"), f"{path}.values")
            return f"map<{item}>", True, children
        if logical:
            return f"{kind}({logical})", True, ()
        if isinstance(kind, str | list | dict):
            return _avro_type(kind, path)
    raise InvalidInput(f"{path}.type: not an Avro type")


def from_avro(value: Mapping[str, Any], *, path: str = "schema") -> Schema:
    """A schema from an Avro record schema; a field with a `null` branch is optional."""
    raw = value.get("fields")
    if value.get("type") != "record" or not isinstance(raw, list):
        raise InvalidInput(f"{path}: an Avro schema here is a record with a list of fields")
    out: list[Field] = []
    for i, f in enumerate(raw):
        where = f"{path}.fields[{i}]"
        if not isinstance(f, Mapping) or not isinstance(f.get("name"), str):
            raise InvalidInput(f"{where}.name: required")
        type_, required, children = _avro_type(f.get("type"), where)
        out.append(
            Field(
                name=f["name"],
                type=type_,
                required=required,
                default=_default(f["default"]) if "default" in f else None,
                doc=f.get("doc"),
                fields=children,
            )
        )
    return tuple(out)


def from_json_schema(value: Mapping[str, Any], *, path: str = "schema") -> Schema:
    """A schema from a JSON Schema object: `properties`, with `required` naming the required."""
    props = value.get("properties")
    if not isinstance(props, Mapping):
        raise InvalidInput(f"{path}.properties: a JSON Schema object needs properties")
    required = set(value.get("required") or [])
    out: list[Field] = []
    for name, prop in props.items():
        where = f"{path}.properties.{name}"
        if not isinstance(prop, Mapping):
            raise InvalidInput(f"{where}: not a JSON Schema")
        kind = prop.get("type")
        types = kind if isinstance(kind, list) else [kind]
        nullable = "null" in types
        types = [t for t in types if t != "null"]
        text = "|".join(str(t) for t in types) if types else None
        children: Schema = ()
        if "object" in types and "properties" in prop:
            children = from_json_schema(prop, path=where)
        elif "array" in types and isinstance(prop.get("items"), Mapping):
            items = prop["items"]
            text = f"array<{items.get('type')}>"
            if "properties" in items:
                children = from_json_schema(items, path=f"{where}.items")
        out.append(
            Field(
                name=str(name),
                type=text,
                required=name in required and not nullable,
                default=_default(prop["default"]) if "default" in prop else None,
                doc=prop.get("description"),
                fields=children,
            )
        )
    return tuple(out)


def from_dbt_contract(value: Mapping[str, Any], *, path: str = "model") -> Schema:
    """A schema from a dbt model's contract: its `columns` with `data_type` and constraints.

    Accepts a manifest node or a `models:` entry of a properties YAML, read as JSON/YAML.
    """
    columns = value.get("columns")
    if isinstance(columns, Mapping):
        columns = list(columns.values())
    if not isinstance(columns, list):
        raise InvalidInput(f"{path}.columns: a dbt contract needs columns")
    out: list[Field] = []
    for i, c in enumerate(columns):
        where = f"{path}.columns[{i}]"
        if not isinstance(c, Mapping) or not isinstance(c.get("name"), str):
            raise InvalidInput(f"{where}.name: required")
        constraints = c.get("constraints") or []
        not_null = any(
            isinstance(k, Mapping) and k.get("type") in ("not_null", "primary_key")
            for k in constraints
        )
        out.append(
            Field(
                name=c["name"],
                type=c.get("data_type"),
                required=not_null,
                doc=c.get("description") or None,
            )
        )
    return tuple(out)


def parse_proposed(value: Any, *, dbt_contract: bool = False) -> Schema:
    """A proposed schema in any format this module reads, told apart by its shape.

    Raises:
        InvalidInput: the value is no schema Steward can read.
    """
    if dbt_contract:
        if not isinstance(value, Mapping):
            raise InvalidInput("proposed: a dbt contract is a model (an object)")
        models = value.get("models")
        if isinstance(models, list):
            if len(models) != 1:
                raise InvalidInput("proposed.models: name exactly one model")
            return from_dbt_contract(models[0], path="models[0]")
        return from_dbt_contract(value)
    if isinstance(value, list):
        if not all(isinstance(f, Mapping) and isinstance(f.get("name"), str) for f in value):
            raise InvalidInput("proposed: a list of fields each needs a name")
        return from_openlineage(value)
    if not isinstance(value, Mapping):
        raise InvalidInput("proposed: expected a JSON object or a list of fields")
    if value.get("type") == "struct":
        return from_iceberg(value)
    if value.get("type") == "record":
        return from_avro(value)
    if "properties" in value:
        return from_json_schema(value)
    if isinstance(value.get("fields"), list):
        return from_openlineage(value["fields"])
    raise InvalidInput(
        "proposed: not a schema (an Iceberg struct, an Avro record, a JSON Schema object,"
        " an OpenLineage schema facet or a list of fields)"
    )
