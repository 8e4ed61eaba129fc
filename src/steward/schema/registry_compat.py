"""Parsing registry schemas to their canonical text, and the one compatibility check.

Avro is parsed by the `avro` package (references resolved as named types), and checked
with its `ReaderWriterCompatibilityChecker`: the same reader/writer rules Confluent's
registry applies. JSON Schema documents are parsed as JSON; their compatibility rules
are not implemented here (see docs/schema-registry.md).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from steward.errors import RegistryError
from steward.schema.registry_models import Level, SchemaKind


def canonical_text(kind: SchemaKind, text: str, referenced: Sequence[str] = ()) -> str:
    """The schema as compact JSON, after checking that it parses as `kind`.

    `referenced` are the texts of the schemas it references, dependencies first.

    Raises:
        RegistryError: 42201 when the schema does not parse.
    """
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise RegistryError(RegistryError.INVALID_SCHEMA, f"Invalid schema: {exc}") from exc
    if kind is SchemaKind.AVRO:
        _parse_avro(text, referenced)
    elif not isinstance(document, dict | bool):
        raise RegistryError(
            RegistryError.INVALID_SCHEMA, "Invalid schema: a JSON Schema is an object or a boolean"
        )
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def _parse_avro(text: str, referenced: Sequence[str]) -> object:
    import avro.errors
    import avro.name
    import avro.schema

    names = avro.name.Names()
    try:
        for other in referenced:
            avro.schema.make_avsc_object(json.loads(other), names)
        return avro.schema.make_avsc_object(json.loads(text), names)
    except (avro.errors.AvroException, ValueError, TypeError, KeyError) as exc:
        raise RegistryError(RegistryError.INVALID_SCHEMA, f"Invalid schema: {exc}") from exc


def incompatibilities(
    kind: SchemaKind,
    new: str,
    previous: Sequence[str],
    level: Level,
    referenced: Sequence[str] = (),
) -> list[str]:
    """Why `new` may not follow `previous` (oldest first) under `level`; empty if it may.

    Non-transitive levels compare with the latest previous schema only.
    """
    if level is Level.NONE or not previous:
        return []
    if kind is not SchemaKind.AVRO:
        # Without JSON Schema rules a JSON subject must be NONE to change at all.
        if all(json.loads(new) == json.loads(old) for old in previous):
            return []
        return [f"JSON Schema compatibility {level.value} is not checked yet; set NONE"]
    compared = previous if level.value.endswith("_TRANSITIVE") else previous[-1:]
    backward = level.value.startswith(("BACKWARD", "FULL"))
    forward = level.value.startswith(("FORWARD", "FULL"))
    return _avro_problems(new, compared, backward, forward, referenced)


def _avro_problems(
    new: str, compared: Sequence[str], backward: bool, forward: bool, referenced: Sequence[str]
) -> list[str]:
    from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType

    checker = ReaderWriterCompatibilityChecker()  # type: ignore[no-untyped-call]
    candidate = _parse_avro(new, referenced)
    problems: list[str] = []
    start = len(compared)
    for offset, old_text in enumerate(compared):
        old = _parse_avro(old_text, referenced)
        pairs = []
        if backward:
            pairs.append(("reader", candidate, old))
        if forward:
            pairs.append(("writer", old, candidate))
        for role, reader, writer in pairs:
            result = checker.get_compatibility(reader, writer)  # type: ignore[arg-type]
            if result.compatibility is SchemaCompatibilityType.compatible:
                continue
            kinds = ", ".join(sorted(str(k.value) for k in result.incompatibilities))
            where = ", ".join(sorted(result.locations))
            new_as = "reader" if role == "reader" else "writer"
            problems.append(
                f"{kinds} at {where} (new schema as {new_as},"
                f" {start - offset} version(s) back): {sorted(result.messages)}"
            )
    return problems
