"""A Confluent-compatible schema registry: subjects, versions, global ids, levels, modes.

Every write is one transaction. Two clients registering at once cannot make duplicate
ids or versions: the fingerprint and (subject, version) are unique in the store, and a
write that loses the race is retried.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from functools import partial

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.errors import RegistryError
from steward.identity.models import Principal
from steward.lineage.ingest import Learned
from steward.schema.compatibility import SchemaDocument
from steward.schema.registry_compat import Previous, canonical_text, expanded, incompatibilities
from steward.schema.registry_models import (
    CompatibilityResult,
    Mode,
    Reference,
    Registration,
    SchemaInput,
    SchemaKind,
    StoredSchema,
    SubjectVersion,
)
from steward.schema.registry_settings import (
    audit,
    level_of,
    put_setting,
    refuse_read_only,
    retrying,
)
from steward.schema.registry_topics import record_topic
from steward.store import Store
from steward.store.schema import registry_references, registry_schemas, registry_versions


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# Reading


def _schema_row(conn: Connection, schema_id: int) -> StoredSchema | None:
    row = conn.execute(
        sa.select(registry_schemas).where(registry_schemas.c.id == schema_id)
    ).first()
    if row is None:
        return None
    refs = tuple(Reference(r["name"], r["subject"], int(r["version"])) for r in row.refs)
    return StoredSchema(row.id, SchemaKind(row.schema_type), row.schema_text, refs)


def schema_by_id(store: Store, schema_id: int) -> StoredSchema:
    """The schema with global id `schema_id`, or 40403."""
    with store.read() as conn:
        found = _schema_row(conn, schema_id)
    if found is None:
        raise RegistryError(RegistryError.SCHEMA_NOT_FOUND, "Schema not found")
    return found


def versions_of_schema(
    store: Store, schema_id: int, *, deleted: bool = False
) -> list[tuple[str, int]]:
    """The (subject, version) pairs holding schema `schema_id`."""
    schema_by_id(store, schema_id)
    query = sa.select(registry_versions.c.subject, registry_versions.c.version).where(
        registry_versions.c.schema_id == schema_id
    )
    if not deleted:
        query = query.where(registry_versions.c.deleted.is_(False))
    with store.read() as conn:
        rows = conn.execute(query.order_by("subject", "version")).all()
    return [(row.subject, row.version) for row in rows]


def subjects(store: Store, *, deleted: bool = False, prefix: str = "") -> list[str]:
    """Every subject with a version (soft-deleted ones only with `deleted`)."""
    query = sa.select(registry_versions.c.subject).distinct()
    if not deleted:
        query = query.where(registry_versions.c.deleted.is_(False))
    if prefix:
        query = query.where(registry_versions.c.subject.startswith(prefix, autoescape=True))
    with store.read() as conn:
        return sorted(row.subject for row in conn.execute(query))


def _versions(conn: Connection, subject: str, *, deleted: bool) -> list[tuple[int, int, bool]]:
    query = sa.select(
        registry_versions.c.version, registry_versions.c.schema_id, registry_versions.c.deleted
    ).where(registry_versions.c.subject == subject)
    if not deleted:
        query = query.where(registry_versions.c.deleted.is_(False))
    rows = conn.execute(query.order_by(registry_versions.c.version)).all()
    return [(row.version, row.schema_id, row.deleted) for row in rows]


def versions(store: Store, subject: str, *, deleted: bool = False) -> list[int]:
    """The version numbers of `subject`, or 40401 when it has none."""
    with store.read() as conn:
        found = _versions(conn, subject, deleted=deleted)
    if not found:
        raise RegistryError(RegistryError.SUBJECT_NOT_FOUND, f"Subject '{subject}' not found.")
    return [version for version, _, _ in found]


def parse_version(text: str) -> int | None:
    """A version number from a path, None for `latest` (or -1); 42202 otherwise."""
    if text == "latest" or text == "-1":
        return None
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise RegistryError(
            RegistryError.INVALID_VERSION,
            f"The specified version '{text}' is not a valid version id. Allowed values are"
            ' between [1, 2^31-1] and the string "latest"',
        )
    return number


def _version(
    conn: Connection, subject: str, version: int | None, *, deleted: bool
) -> SubjectVersion:
    found = _versions(conn, subject, deleted=deleted)
    if not found:
        raise RegistryError(RegistryError.SUBJECT_NOT_FOUND, f"Subject '{subject}' not found.")
    if version is None:
        number, schema_id, is_deleted = found[-1]
    else:
        match = [row for row in found if row[0] == version]
        if not match:
            raise RegistryError(RegistryError.VERSION_NOT_FOUND, f"Version {version} not found.")
        number, schema_id, is_deleted = match[0]
    stored = _schema_row(conn, schema_id)
    if stored is None:  # pragma: no cover - the foreign key keeps it
        raise RegistryError(RegistryError.SCHEMA_NOT_FOUND, "Schema not found")
    return SubjectVersion(subject, number, stored, is_deleted)


def version(
    store: Store, subject: str, number: int | None, *, deleted: bool = False
) -> SubjectVersion:
    """Version `number` of `subject` (None: the latest), or 40401 / 40402."""
    with store.read() as conn:
        return _version(conn, subject, number, deleted=deleted)


def _referenced_texts(conn: Connection, references: tuple[Reference, ...]) -> list[str]:
    """The texts of referenced schemas and what they reference, dependencies first."""
    texts: list[str] = []
    for ref in references:
        try:
            target = _version(conn, ref.subject, ref.version, deleted=False)
        except RegistryError as exc:
            raise RegistryError(
                RegistryError.INVALID_SCHEMA,
                f"Invalid schema: reference {ref.name!r} to {ref.subject} version"
                f" {ref.version}: {exc.message}",
            ) from exc
        texts.extend(_referenced_texts(conn, target.schema.references))
        texts.append(target.schema.text)
    return texts


def _fingerprint(kind: SchemaKind, text: str, references: tuple[Reference, ...]) -> str:
    refs = [[ref.name, ref.subject, ref.version] for ref in references]
    payload = json.dumps([kind.value, text, refs], separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def lookup(
    store: Store, subject: str, schema: SchemaInput, *, deleted: bool = False
) -> SubjectVersion:
    """The version of `subject` holding `schema`, or 40401 / 40403."""
    with store.read() as conn:
        referenced = _referenced_texts(conn, schema.references)
        text = canonical_text(schema.kind, schema.text, referenced)
        found = _versions(conn, subject, deleted=deleted)
        if not found:
            raise RegistryError(RegistryError.SUBJECT_NOT_FOUND, f"Subject '{subject}' not found.")
        schema_id = conn.execute(
            sa.select(registry_schemas.c.id).where(
                registry_schemas.c.fingerprint == _fingerprint(schema.kind, text, schema.references)
            )
        ).scalar()
        match = [row for row in found if row[1] == schema_id]
        if not match:
            raise RegistryError(RegistryError.SCHEMA_NOT_FOUND, "Schema not found")
        number, _, is_deleted = match[-1]
        stored = _schema_row(conn, int(match[-1][1]))
    assert stored is not None
    return SubjectVersion(subject, number, stored, is_deleted)


# Writing


def register(
    store: Store,
    subject: str,
    schema: SchemaInput,
    *,
    schema_id: int | None = None,
    actor: Principal | None = None,
    kafka_namespace: str | None = None,
) -> Registration:
    """Register `schema` under `subject`: the same schema again returns the same version.

    With `kafka_namespace`, a new version of a `<topic>-value`/`-key` subject is recorded
    on the topic's dataset in the same transaction (`registry_topics`).

    A new version must be compatible with the subject's versions under its level (409
    otherwise). `schema_id` (IMPORT mode only) keeps the id another registry gave it.
    """
    done, applier = retrying(
        store, lambda conn: _register(conn, subject, schema, schema_id, actor, kafka_namespace)
    )
    if applier is not None:
        applier.commit_learned()
    return done


def _register(
    conn: Connection,
    subject: str,
    schema: SchemaInput,
    wanted_id: int | None,
    actor: Principal | None,
    kafka_namespace: str | None,
) -> tuple[Registration, Learned | None]:
    current_mode = refuse_read_only(conn, subject)
    if wanted_id is not None and current_mode is not Mode.IMPORT:
        raise RegistryError(
            RegistryError.OPERATION_NOT_PERMITTED,
            "Subject is not in import mode: a schema id may only be given in IMPORT mode",
        )
    referenced = _referenced_texts(conn, schema.references)
    text = canonical_text(schema.kind, schema.text, referenced)
    fingerprint = _fingerprint(schema.kind, text, schema.references)
    schema_id = conn.execute(
        sa.select(registry_schemas.c.id).where(registry_schemas.c.fingerprint == fingerprint)
    ).scalar()
    if wanted_id is not None:
        _refuse_other_id(conn, wanted_id, schema_id)
    every = _versions(conn, subject, deleted=True)
    live = [row for row in every if not row[2]]
    for number, held, _ in live:
        if held == schema_id:
            stored = _schema_row(conn, held)
            assert stored is not None
            return Registration(SubjectVersion(subject, number, stored), created=False), None
    if current_mode is not Mode.IMPORT:
        previous = Previous([(number, held) for number, held, _ in live], partial(_document, conn))
        new = expanded(schema.kind, text, referenced)
        problems = incompatibilities(schema.kind, new, previous, level_of(conn, subject))
        if problems:
            raise RegistryError(
                RegistryError.INCOMPATIBLE_SCHEMA,
                "Schema being registered is incompatible with an earlier schema for subject"
                f' "{subject}", details: {problems}',
            )
    if schema_id is None:
        values: dict[str, object] = {
            "schema_type": schema.kind.value,
            "schema_text": text,
            "fingerprint": fingerprint,
            "refs": [vars(ref) for ref in schema.references],
            "created_at": _now(),
        }
        if wanted_id is not None:
            values["id"] = wanted_id
        schema_id = conn.execute(
            sa.insert(registry_schemas).values(values).returning(registry_schemas.c.id)
        ).scalar_one()
        if wanted_id is not None and conn.dialect.name == "postgresql":
            # An id given explicitly does not move the sequence; the next one made must
            # come after it.
            conn.execute(
                sa.text(
                    "SELECT setval(pg_get_serial_sequence('registry_schemas', 'id'),"
                    " (SELECT max(id) FROM registry_schemas))"
                )
            )
        if schema.references:
            conn.execute(
                sa.insert(registry_references),
                [{"schema_id": schema_id, **vars(ref)} for ref in schema.references],
            )
    number = (every[-1][0] if every else 0) + 1
    conn.execute(
        sa.insert(registry_versions).values(
            subject=subject, version=number, schema_id=schema_id, deleted=False, created_at=_now()
        )
    )
    stored = _schema_row(conn, schema_id)
    assert stored is not None
    created = SubjectVersion(subject, number, stored)
    applier = None
    if kafka_namespace is not None:
        applier = record_topic(conn, kafka_namespace, created, actor)
    audit(conn, actor, "register", subject=subject, version=number, id=schema_id)
    return Registration(created, created=True), applier


def _refuse_other_id(conn: Connection, wanted_id: int, schema_id: int | None) -> None:
    """42205 when an imported schema's id is another schema's, or it has another id."""
    if schema_id is not None and schema_id != wanted_id:
        raise RegistryError(
            RegistryError.OPERATION_NOT_PERMITTED,
            f"This schema is already registered with id {schema_id}, not {wanted_id}",
        )
    if schema_id is None and _schema_row(conn, wanted_id) is not None:
        raise RegistryError(
            RegistryError.OPERATION_NOT_PERMITTED,
            f"Overwrite new schema with id {wanted_id} is not permitted: it holds another schema",
        )


def _document(conn: Connection, schema_id: int) -> SchemaDocument:
    """A stored schema as the compatibility rules read it (references inlined)."""
    stored = _schema_row(conn, schema_id)
    assert stored is not None  # the versions' foreign key keeps it
    return expanded(stored.kind, stored.text, _referenced_texts(conn, stored.references))


def check_compatibility(
    store: Store,
    subject: str,
    schema: SchemaInput,
    number: int | None = None,
    *,
    all_versions: bool,
) -> CompatibilityResult:
    """Whether `schema` may follow `subject`: its versions under the level (`all_versions`),
    or version `number` alone (None: the latest)."""
    with store.read() as conn:
        referenced = _referenced_texts(conn, schema.references)
        text = canonical_text(schema.kind, schema.text, referenced)
        chosen = level_of(conn, subject)
        live = _versions(conn, subject, deleted=False)
        if all_versions:
            previous = Previous(
                [(version, held) for version, held, _ in live], partial(_document, conn)
            )
        else:
            if not live:
                raise RegistryError(
                    RegistryError.SUBJECT_NOT_FOUND, f"Subject '{subject}' not found."
                )
            one = _version(conn, subject, number, deleted=False)
            previous = Previous([(one.version, one.schema.schema_id)], partial(_document, conn))
        new = expanded(schema.kind, text, referenced)
        problems = incompatibilities(schema.kind, new, previous, chosen)
    return CompatibilityResult(not problems, tuple(problems))


def delete_subject(
    store: Store, subject: str, *, permanent: bool = False, actor: Principal | None = None
) -> list[int]:
    """Delete every version of `subject`: soft first; `permanent` after a soft delete."""

    def write(conn: Connection) -> list[int]:
        refuse_read_only(conn, subject)
        every = _versions(conn, subject, deleted=True)
        if not every:
            raise RegistryError(RegistryError.SUBJECT_NOT_FOUND, f"Subject '{subject}' not found.")
        live = [number for number, _, deleted in every if not deleted]
        where = registry_versions.c.subject == subject
        if permanent:
            if live:
                raise RegistryError(
                    RegistryError.SUBJECT_NOT_SOFT_DELETED,
                    f"Subject '{subject}' was not deleted first before being permanently deleted",
                )
            _refuse_referenced(conn, [(subject, number) for number, _, _ in every])
            conn.execute(sa.delete(registry_versions).where(where))
            put_setting(conn, subject, "compatibility", None)
            gone = [number for number, _, _ in every]
            audit(conn, actor, "delete", subject=subject, versions=gone, permanent=True)
            return gone
        if not live:
            raise RegistryError(
                RegistryError.SUBJECT_SOFT_DELETED,
                f"Subject '{subject}' was soft deleted. Set permanent=true to delete permanently",
            )
        _refuse_referenced(conn, [(subject, number) for number in live])
        conn.execute(sa.update(registry_versions).where(where).values(deleted=True))
        audit(conn, actor, "delete", subject=subject, versions=live, permanent=False)
        return live

    return retrying(store, write)


def delete_version(
    store: Store,
    subject: str,
    number: int | None,
    *,
    permanent: bool = False,
    actor: Principal | None = None,
) -> int:
    """Delete one version of `subject` (None: the latest): soft, or `permanent` after soft."""

    def write(conn: Connection) -> int:
        refuse_read_only(conn, subject)
        try:
            found = _version(conn, subject, number, deleted=permanent)
        except RegistryError as exc:
            if exc.error_code != RegistryError.VERSION_NOT_FOUND or number is None:
                raise
            if _version(conn, subject, number, deleted=True).deleted:
                raise RegistryError(
                    RegistryError.VERSION_SOFT_DELETED,
                    f"Subject '{subject}' Version {number} was soft deleted. Set"
                    " permanent=true to delete permanently",
                ) from None
            raise  # pragma: no cover - a version not found live is found soft-deleted
        if permanent and not found.deleted:
            raise RegistryError(
                RegistryError.VERSION_NOT_SOFT_DELETED,
                f"Subject '{subject}' Version {found.version} was not deleted first before"
                " being permanently deleted",
            )
        _refuse_referenced(conn, [(subject, found.version)])
        where = sa.and_(
            registry_versions.c.subject == subject, registry_versions.c.version == found.version
        )
        if permanent:
            conn.execute(sa.delete(registry_versions).where(where))
        else:
            conn.execute(sa.update(registry_versions).where(where).values(deleted=True))
        audit(conn, actor, "delete", subject=subject, versions=[found.version], permanent=permanent)
        return found.version

    return retrying(store, write)


def _referencing(conn: Connection, targets: list[tuple[str, int]]) -> list[int]:
    """The ids of schemas held by live versions that reference one of `targets`."""
    if not targets:
        return []
    pairs = sa.tuple_(registry_references.c.subject, registry_references.c.version)
    query = (
        sa.select(registry_references.c.schema_id)
        .distinct()
        .join(registry_versions, registry_versions.c.schema_id == registry_references.c.schema_id)
        .where(registry_versions.c.deleted.is_(False), pairs.in_(targets))
    )
    return sorted(int(row.schema_id) for row in conn.execute(query))


def _refuse_referenced(conn: Connection, targets: list[tuple[str, int]]) -> None:
    """42206 when a live version's schema references one of `targets`."""
    users = _referencing(conn, targets)
    if users:
        raise RegistryError(
            RegistryError.REFERENCE_EXISTS,
            f"One or more references exist to the schema {{{targets[0][0]}, version(s)"
            f" {sorted(version for _, version in targets)}}}: schema ids {users}",
        )


def referenced_by(store: Store, subject: str, number: int | None) -> list[int]:
    """The ids of live schemas that reference version `number` of `subject` (None: latest)."""
    with store.read() as conn:
        found = _version(conn, subject, number, deleted=False)
        return _referencing(conn, [(subject, found.version)])
