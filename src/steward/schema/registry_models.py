"""The values the schema registry returns: schemas, subject versions, levels and modes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from steward.schema.compatibility import Mode as CompatibilityMode


class SchemaKind(StrEnum):
    """The schema types this registry takes (`schemaType`; AVRO when left out)."""

    AVRO = "AVRO"
    JSON = "JSON"


# A subject's compatibility level is a compatibility mode, as Confluent names them.
Level = CompatibilityMode


class Mode(StrEnum):
    """What the registry (or one subject) accepts: READONLY refuses every change."""

    READWRITE = "READWRITE"
    READONLY = "READONLY"
    IMPORT = "IMPORT"


DEFAULT_LEVEL = Level.BACKWARD
DEFAULT_MODE = Mode.READWRITE


@dataclass(frozen=True)
class Reference:
    """A named type this schema takes from another subject's version."""

    name: str
    subject: str
    version: int


@dataclass(frozen=True)
class SchemaInput:
    """A schema as a client sends it, before it is parsed."""

    text: str
    kind: SchemaKind = SchemaKind.AVRO
    references: tuple[Reference, ...] = ()


@dataclass(frozen=True)
class StoredSchema:
    """A schema under its global id (the id serializers write in every message)."""

    schema_id: int
    kind: SchemaKind
    text: str
    references: tuple[Reference, ...]


@dataclass(frozen=True)
class SubjectVersion:
    """One version of a subject and the schema it holds."""

    subject: str
    version: int
    schema: StoredSchema
    deleted: bool = False


@dataclass(frozen=True)
class CompatibilityResult:
    """Whether a schema may follow a subject's versions, and why not."""

    is_compatible: bool
    messages: tuple[str, ...] = ()


@dataclass(frozen=True)
class Registration:
    """The version a register call answered with; `created` when it is a new version."""

    version: SubjectVersion
    created: bool
