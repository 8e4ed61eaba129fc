"""Parsing registry schemas to their canonical text, and the one compatibility check.

Avro is parsed by the `avro` package, references resolved as named types. Compatibility
is decided by `steward.schema.compatibility.check`, the rules shared with the rest of
Steward (Avro on Apache Avro's reader/writer checker, JSON Schema as Confluent diffs
it); a schema with references is given to it with the referenced types inlined.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import overload

from steward.errors import InvalidInput, RegistryError
from steward.schema.compatibility import SchemaDocument
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


def expanded(kind: SchemaKind, text: str, referenced: Sequence[str] = ()) -> SchemaDocument:
    """The schema with the named types it references defined inline, as the rules read it."""
    if kind is SchemaKind.AVRO and referenced:
        document: SchemaDocument = _parse_avro(text, referenced).to_json()  # type: ignore[attr-defined]
        return document
    return text


def incompatibilities(
    kind: SchemaKind,
    new: SchemaDocument,
    previous: Sequence[tuple[int, SchemaDocument]],
    level: Level,
) -> list[str]:
    """Why `new` may not follow the `(version, schema)` pairs in `previous` (oldest first)
    under `level`; empty if it may. The rules are `steward.schema.compatibility.check`,
    which reads only the previous versions the level compares with.
    """
    from steward.schema.compatibility import check

    schemas = _Schemas(previous)
    try:
        found = check(kind.value, new, schemas, level.value)
    except InvalidInput as exc:
        raise RegistryError(RegistryError.INVALID_SCHEMA, f"Invalid schema: {exc.message}") from exc
    messages = []
    for item in found:
        message = item.message
        against = ""
        if item.version is not None:
            number = previous[item.version][0]
            against = f" version {number}"
            # The rules number the schemas they were given from 0; a subject's from 1.
            message = message.replace(f"version {item.version}", f"version {number}", 1)
        reading = {"backward": "the new schema reading", "forward": "reading the new schema with"}
        how = reading.get(item.direction or "", "against")
        messages.append(f"{item.rule} at {item.path or '/'}: {message} ({how}{against})")
    return messages


class Previous(Sequence[tuple[int, SchemaDocument]]):
    """A subject's previous versions as (version, schema), each loaded when first indexed.

    Non-transitive levels look at the latest version only, so a subject with a long
    history costs one read, not one per version.
    """

    def __init__(self, held: list[tuple[int, int]], load: Callable[[int], SchemaDocument]) -> None:
        self._held = held
        self._load = load

    def __len__(self) -> int:
        return len(self._held)

    @overload
    def __getitem__(self, index: int) -> tuple[int, SchemaDocument]: ...

    @overload
    def __getitem__(self, index: slice) -> list[tuple[int, SchemaDocument]]: ...

    def __getitem__(
        self, index: int | slice
    ) -> tuple[int, SchemaDocument] | list[tuple[int, SchemaDocument]]:
        if isinstance(index, slice):
            return [self[i] for i in range(len(self))[index]]
        number, schema_id = self._held[index]
        return number, self._load(schema_id)


class _Schemas(Sequence[SchemaDocument]):
    """The schemas of `(version, schema)` pairs, indexed without reading the others."""

    def __init__(self, pairs: Sequence[tuple[int, SchemaDocument]]) -> None:
        self._pairs = pairs

    def __len__(self) -> int:
        return len(self._pairs)

    @overload
    def __getitem__(self, index: int) -> SchemaDocument: ...

    @overload
    def __getitem__(self, index: slice) -> list[SchemaDocument]: ...

    def __getitem__(self, index: int | slice) -> SchemaDocument | list[SchemaDocument]:
        if isinstance(index, slice):
            return [self[i] for i in range(len(self))[index]]
        return self._pairs[index][1]
