"""Avro subjects: the specification's schema resolution, checked by Apache Avro's own checker.

`avro.compatibility.ReaderWriterCompatibilityChecker` decides whether a reader schema
can read what a writer schema wrote (promotions, defaults, unions, enums with a
default, aliases, fixed sizes, names). This module only picks the reader/writer pairs a
mode asks for, as Confluent Schema Registry does, and fixes two places where the
Python checker departs from the specification (each says why where it is fixed).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import avro.errors
import avro.schema
from avro.compatibility import (
    CompatibleResult,
    ReaderWriterCompatibilityChecker,
    SchemaCompatibilityResult,
    SchemaCompatibilityType,
    SchemaIncompatibilityType,
    check_fixed_size,
    check_reader_enum_contains_writer_enum,
    check_schema_names,
    incompatible,
    lookup_writer_field,
    merge,
)

from steward.errors import InvalidInput
from steward.schema.compatibility import (
    Direction,
    Incompatibility,
    Mode,
    SchemaDocument,
    versions_to_check,
)

# Avro's incompatibility types, as stable rule ids (docs/schema-rules.md).
RULES = {
    "name_mismatch": "avro.name-mismatch",
    "fixed_size_mismatch": "avro.fixed-size-mismatch",
    "missing_enum_symbols": "avro.missing-enum-symbols",
    "reader_field_missing_default_value": "avro.reader-field-missing-default",
    "type_mismatch": "avro.type-mismatch",
    "missing_union_branch": "avro.missing-union-branch",
}

NAMED_TYPES = ("record", "error", "enum", "fixed")


def check_avro(
    new: SchemaDocument, previous: Sequence[SchemaDocument], mode: Mode
) -> list[Incompatibility]:
    """Check a new Avro schema against the previous versions (oldest first) under `mode`.

    BACKWARD reads each checked previous version's data with the new schema; FORWARD
    reads the new schema's data with each checked previous version.

    Raises:
        InvalidInput: a schema does not parse as Avro.
    """
    new_schema = parse_avro(new, "schema")
    found: list[Incompatibility] = []
    for index in versions_to_check(len(previous), mode):
        old_schema = parse_avro(previous[index], f"previous[{index}]")
        if mode.backward:
            found += reader_writer_incompatibilities(
                new_schema, old_schema, version=index, direction="backward"
            )
        if mode.forward:
            found += reader_writer_incompatibilities(
                old_schema, new_schema, version=index, direction="forward"
            )
    return found


def parse_avro(document: SchemaDocument, field: str) -> avro.schema.Schema:
    """Parse an Avro schema (JSON text or parsed JSON) into `avro.schema.Schema`.

    Raises:
        InvalidInput: the text is not JSON or not an Avro schema; the message names `field`.
    """
    if isinstance(document, str):
        try:
            parsed: Any = json.loads(document)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{field}: not JSON: {exc}") from None
    else:
        parsed = document
    try:
        return avro.schema.parse(json.dumps(qualify_aliases(parsed, None)))
    except (avro.errors.AvroException, TypeError, ValueError, AttributeError, KeyError) as exc:
        raise InvalidInput(f"{field}: not a valid Avro schema: {exc}") from None


def qualify_aliases(node: Any, namespace: str | None) -> Any:
    """A copy of a parsed schema whose named-type aliases are full names.

    The specification lets an alias be relative to the namespace of the name it
    aliases; the Python checker compares aliases with the writer's full name as
    written, so a relative alias would never match. Qualifying them first fixes that.
    """
    if isinstance(node, list):
        return [qualify_aliases(branch, namespace) for branch in node]
    if not isinstance(node, Mapping):
        return node
    out = dict(node)
    name = out.get("name")
    if out.get("type") in NAMED_TYPES and isinstance(name, str):
        if "." in name:
            namespace = name.rsplit(".", 1)[0]
        elif isinstance(out.get("namespace"), str):
            namespace = out["namespace"] or None
        aliases = out.get("aliases")
        if isinstance(aliases, list) and namespace:
            out["aliases"] = [
                a if not isinstance(a, str) or "." in a else f"{namespace}.{a}" for a in aliases
            ]
    if isinstance(out.get("fields"), list):
        out["fields"] = [
            {**f, "type": qualify_aliases(f["type"], namespace)}
            if isinstance(f, Mapping) and "type" in f
            else f
            for f in out["fields"]
        ]
    for key in ("items", "values", "type"):
        if isinstance(out.get(key), list | Mapping):
            out[key] = qualify_aliases(out[key], namespace)
    return out


def reader_writer_incompatibilities(
    reader: avro.schema.Schema, writer: avro.schema.Schema, *, version: int, direction: Direction
) -> list[Incompatibility]:
    """Why `reader` cannot read data written with `writer`; empty when it can."""
    who = (
        f"the new schema cannot read data written with version {version}"
        if direction == "backward"
        else f"version {version} cannot read data written with the new schema"
    )
    checker = _Checker()
    result = checker.get_compatibility(reader, writer)
    if result.compatibility is not SchemaCompatibilityType.incompatible:
        return []
    found = checker.findings
    if Counter(kind for kind, _, _ in found) != Counter(
        kind.value for kind in result.incompatibilities
    ):
        # Some findings were not seen one by one (the library merges the locations and
        # messages of several into sets, losing which belongs where): report each kind
        # with all of them rather than guess.
        # A compatible part merged in brings the root location "/" along: leave it out.
        locations = sorted(result.locations - {"/"}) or ["/"]
        messages = sorted(result.messages)
        kinds = dict.fromkeys(kind.value for kind in result.incompatibilities)
        found = [(kind, " ".join(locations), "; ".join(messages)) for kind in kinds]
    return [
        Incompatibility(
            rule=RULES.get(kind, f"avro.{kind.replace('_', '-')}"),
            path=path,
            message=f"{who}: {kind.replace('_', ' ')}: {message}",
            version=version,
            direction=direction,
        )
        for kind, path, message in found
    ]


class _Checker(ReaderWriterCompatibilityChecker):
    """Avro's checker with one fix to record field resolution.

    When a reader field is missing from the writer and has no default, the Python
    checker (1.12) treats an enum-typed field with an enum default as if the enum could
    be read from the writer's whole record, and reports a type mismatch. The
    specification (Schema Resolution, records) says such a field is an error because
    it has no field default; the enum's own default only covers unknown symbols. So
    report it as the missing default it is.
    """

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # avro leaves it unannotated
        # Each finding once, as (kind, location, message): the library's result merges
        # several into sets, so the pairs are collected as they are found.
        self.findings: list[tuple[str, str, str]] = []

    def get_compatibility(
        self,
        reader: avro.schema.Schema,
        writer: avro.schema.Schema,
        reference_token: str = ReaderWriterCompatibilityChecker.ROOT_REFERENCE_TOKEN,
        location: list[str] | None = None,
    ) -> SchemaCompatibilityResult:
        """The library's answer for one reader/writer pair, noting a single finding."""
        mark = len(self.findings)
        result = super().get_compatibility(reader, writer, reference_token, location)
        if result.compatibility is SchemaCompatibilityType.compatible:
            # Findings of a pair that turned out compatible were trials (a reader union
            # tries its branches until one fits): they are not reasons.
            del self.findings[mark:]
        else:
            self.note(result)
        return result

    def calculate_compatibility(
        self, reader: avro.schema.Schema, writer: avro.schema.Schema, location: list[str]
    ) -> SchemaCompatibilityResult:
        """The library's calculation, after noting a named type's own findings."""
        # The library builds a named type's own findings (name, size, symbols) inside this
        # call and merges them with the rest; build them once more to keep them apart.
        if reader.type == writer.type and isinstance(reader, avro.schema.NamedSchema):
            assert isinstance(writer, avro.schema.NamedSchema)
            self.note(check_schema_names(reader, writer, location))
            if isinstance(reader, avro.schema.FixedSchema):
                assert isinstance(writer, avro.schema.FixedSchema)
                self.note(check_fixed_size(reader, writer, location))
            if isinstance(reader, avro.schema.EnumSchema):
                assert isinstance(writer, avro.schema.EnumSchema)
                self.note(check_reader_enum_contains_writer_enum(reader, writer, location))
        return super().calculate_compatibility(reader, writer, location)

    def note(self, result: SchemaCompatibilityResult) -> None:
        """Keep a result that holds exactly one finding (it is then unambiguous)."""
        if len(result.incompatibilities) == 1 and len(result.locations) == 1:
            finding = (
                result.incompatibilities[0].value,
                next(iter(result.locations)),
                next(iter(result.messages), ""),
            )
            if finding not in self.findings:
                self.findings.append(finding)

    def check_reader_writer_record_fields(
        self,
        reader: avro.schema.RecordSchema,
        writer: avro.schema.RecordSchema,
        location: list[str],
    ) -> SchemaCompatibilityResult:
        """The library's record field resolution, with the missing default fixed."""
        result = CompatibleResult
        for i, reader_field in enumerate(reader.fields):
            writer_field = lookup_writer_field(writer_schema=writer, reader_field=reader_field)
            at = [*location, "fields", str(i)]
            if writer_field is None:
                if not reader_field.has_default:
                    missing = incompatible(
                        SchemaIncompatibilityType.reader_field_missing_default_value,
                        f"field {reader_field.name!r} has no default",
                        at,
                    )
                    self.note(missing)
                    result = merge(result, missing)
            else:
                result = merge(
                    result, self.get_compatibility(reader_field.type, writer_field.type, "type", at)
                )
        return result
