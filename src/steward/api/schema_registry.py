"""The schema registry routes: Confluent's REST API under /api/v1/schema-registry.

Requests may be sent as `application/vnd.schemaregistry.v1+json`,
`application/vnd.schemaregistry+json` or `application/json`; answers are
`application/vnd.schemaregistry.v1+json`. Errors are Confluent's bodies
(`{"error_code": 40401, "message": ...}`, see `api.responses`). Reading needs any
valid token; registering, deleting and configuring need `schema:write`.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.responses import Response

from steward.api.auth import principal, require_scope, steward_of
from steward.api.responses import Json
from steward.errors import RegistryError
from steward.identity.models import SCHEMA_WRITE, Principal
from steward.schema import registry
from steward.schema import registry_settings as settings
from steward.schema.registry_models import (
    CompatibilityResult,
    Level,
    Mode,
    Reference,
    SchemaInput,
    SchemaKind,
    StoredSchema,
    SubjectVersion,
)

PREFIX = "/api/v1/schema-registry"
MEDIA_TYPE = "application/vnd.schemaregistry.v1+json"
_ACCEPTED = ("application/vnd.schemaregistry.v1+json", "application/vnd.schemaregistry+json")

router = APIRouter(prefix=PREFIX)
write = [Depends(require_scope(SCHEMA_WRITE))]
Deleted = Annotated[bool, Query()]
Caller = Annotated[Principal, Depends(principal)]


class RegistryJson(Json):
    """A JSON answer in the registry's own media type."""

    media_type = MEDIA_TYPE


class _Reference(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str = Field(min_length=1)
    subject: str = Field(min_length=1)
    version: int = Field(ge=1)


class _SchemaBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    schema_: str = Field(alias="schema")
    schemaType: str = "AVRO"
    references: list[_Reference] = Field(default_factory=list)
    id: int | None = Field(default=None, ge=1)


async def _json_body(request: Request) -> Any:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind and kind not in _ACCEPTED and kind != "application/json":
        raise RegistryError(
            415, f"Content-Type {kind!r} is not supported; send {MEDIA_TYPE} or application/json"
        )
    try:
        return orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise RegistryError(RegistryError.INVALID_SCHEMA, f"body: not JSON ({exc})") from None


async def schema_body(request: Request) -> _SchemaBody:
    """The schema a request carries; 42201 when it is not one."""
    try:
        return _SchemaBody.model_validate(await _json_body(request))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        raise RegistryError(
            RegistryError.INVALID_SCHEMA, f"Invalid schema: {where}: {first.get('msg')}"
        ) from None


def _input(body: _SchemaBody) -> SchemaInput:
    try:
        kind = SchemaKind(body.schemaType.upper())
    except ValueError:
        raise RegistryError(
            RegistryError.INVALID_SCHEMA,
            f"Invalid schema: schemaType {body.schemaType!r} is not one of AVRO, JSON",
        ) from None
    refs = tuple(Reference(ref.name, ref.subject, ref.version) for ref in body.references)
    return SchemaInput(body.schema_, kind, refs)


def _schema_json(schema: StoredSchema) -> dict[str, Any]:
    shaped: dict[str, Any] = {"schema": schema.text}
    if schema.kind is not SchemaKind.AVRO:
        shaped["schemaType"] = schema.kind.value
    if schema.references:
        shaped["references"] = [vars(ref) for ref in schema.references]
    return shaped


def _version_json(found: SubjectVersion) -> dict[str, Any]:
    return {
        "subject": found.subject,
        "version": found.version,
        "id": found.schema.schema_id,
        **_schema_json(found.schema),
    }


# Schemas by global id


@router.get("/schemas/types")
def schema_types() -> Response:
    """The schema types this registry takes."""
    return RegistryJson([kind.value for kind in SchemaKind])


@router.get("/schemas/ids/{schema_id}")
def schema_by_id(request: Request, schema_id: int) -> Response:
    """The schema with this global id."""
    return RegistryJson(_schema_json(registry.schema_by_id(steward_of(request).store, schema_id)))


@router.get("/schemas/ids/{schema_id}/schema")
def schema_text_by_id(request: Request, schema_id: int) -> Response:
    """The schema with this global id, as the schema document alone."""
    found = registry.schema_by_id(steward_of(request).store, schema_id)
    return Response(found.text, media_type=MEDIA_TYPE)


@router.get("/schemas/ids/{schema_id}/versions")
def schema_versions(request: Request, schema_id: int, deleted: Deleted = False) -> Response:
    """The subject versions holding this schema."""
    pairs = registry.versions_of_schema(steward_of(request).store, schema_id, deleted=deleted)
    return RegistryJson([{"subject": subject, "version": number} for subject, number in pairs])


@router.get("/schemas/ids/{schema_id}/subjects")
def schema_subjects(request: Request, schema_id: int, deleted: Deleted = False) -> Response:
    """The subjects holding this schema."""
    pairs = registry.versions_of_schema(steward_of(request).store, schema_id, deleted=deleted)
    return RegistryJson(sorted({subject for subject, _ in pairs}))


# Subjects and versions


@router.get("/subjects")
def list_subjects(request: Request, deleted: Deleted = False, subjectPrefix: str = "") -> Response:
    """Every subject (soft-deleted ones too with `?deleted=true`)."""
    store = steward_of(request).store
    return RegistryJson(registry.subjects(store, deleted=deleted, prefix=subjectPrefix))


@router.get("/subjects/{subject}/versions")
def list_versions(request: Request, subject: str, deleted: Deleted = False) -> Response:
    """The version numbers of a subject."""
    return RegistryJson(registry.versions(steward_of(request).store, subject, deleted=deleted))


@router.get("/subjects/{subject}/versions/{version}")
def get_version(request: Request, subject: str, version: str, deleted: Deleted = False) -> Response:
    """One version of a subject (`latest` for the newest)."""
    number = registry.parse_version(version)
    found = registry.version(steward_of(request).store, subject, number, deleted=deleted)
    return RegistryJson(_version_json(found))


@router.get("/subjects/{subject}/versions/{version}/schema")
def get_version_schema(
    request: Request, subject: str, version: str, deleted: Deleted = False
) -> Response:
    """One version of a subject, as the schema document alone."""
    number = registry.parse_version(version)
    found = registry.version(steward_of(request).store, subject, number, deleted=deleted)
    return Response(found.schema.text, media_type=MEDIA_TYPE)


@router.get("/subjects/{subject}/versions/{version}/referencedby")
def get_referenced_by(request: Request, subject: str, version: str) -> Response:
    """The ids of schemas that reference this version."""
    number = registry.parse_version(version)
    return RegistryJson(registry.referenced_by(steward_of(request).store, subject, number))


@router.post("/subjects/{subject}/versions", dependencies=write)
def register(
    request: Request,
    subject: str,
    body: Annotated[_SchemaBody, Depends(schema_body)],
    caller: Caller,
) -> Response:
    """Register a schema under a subject; the same schema again gives the same id."""
    steward = steward_of(request)
    done = registry.register(
        steward.store,
        subject,
        _input(body),
        schema_id=body.id,
        actor=caller,
        kafka_namespace=steward.settings.schema_registry_kafka_namespace,
    )
    return RegistryJson(_version_json(done.version))


@router.post("/subjects/{subject}")
def lookup(
    request: Request,
    subject: str,
    body: Annotated[_SchemaBody, Depends(schema_body)],
    deleted: Deleted = False,
) -> Response:
    """The version of a subject that holds this schema."""
    found = registry.lookup(steward_of(request).store, subject, _input(body), deleted=deleted)
    return RegistryJson(_version_json(found))


@router.delete("/subjects/{subject}", dependencies=write)
def delete_subject(
    request: Request, subject: str, caller: Caller, permanent: bool = False
) -> Response:
    """Soft-delete a subject's versions; `?permanent=true` after that removes them."""
    store = steward_of(request).store
    return RegistryJson(registry.delete_subject(store, subject, permanent=permanent, actor=caller))


@router.delete("/subjects/{subject}/versions/{version}", dependencies=write)
def delete_version(
    request: Request, subject: str, version: str, caller: Caller, permanent: bool = False
) -> Response:
    """Soft-delete one version; `?permanent=true` after that removes it."""
    number = registry.parse_version(version)
    store = steward_of(request).store
    return RegistryJson(
        registry.delete_version(store, subject, number, permanent=permanent, actor=caller)
    )


# Compatibility


def _compatibility(result: CompatibilityResult, verbose: bool) -> Response:
    shaped: dict[str, Any] = {"is_compatible": result.is_compatible}
    if verbose:
        shaped["messages"] = list(result.messages)
    return RegistryJson(shaped)


@router.post("/compatibility/subjects/{subject}/versions/{version}")
def compatible_with_version(
    request: Request,
    subject: str,
    version: str,
    body: Annotated[_SchemaBody, Depends(schema_body)],
    verbose: bool = False,
) -> Response:
    """Whether a schema may follow one version of a subject, under the subject's level."""
    number = registry.parse_version(version)
    store = steward_of(request).store
    result = registry.check_compatibility(store, subject, _input(body), number, all_versions=False)
    return _compatibility(result, verbose)


@router.post("/compatibility/subjects/{subject}/versions")
def compatible_with_subject(
    request: Request,
    subject: str,
    body: Annotated[_SchemaBody, Depends(schema_body)],
    verbose: bool = False,
) -> Response:
    """Whether a schema may follow a subject's versions (all of them if transitive)."""
    store = steward_of(request).store
    result = registry.check_compatibility(store, subject, _input(body), all_versions=True)
    return _compatibility(result, verbose)


# Config and mode


async def _setting_body(request: Request, *keys: str) -> str:
    body = await _json_body(request)
    for key in keys:
        if isinstance(body, dict) and isinstance(body.get(key), str):
            return str(body[key])
    raise RegistryError(422, f"body: needs {' or '.join(repr(key) for key in keys)}")


async def level_body(request: Request) -> Level:
    """The level a PUT /config carries (`compatibility`, or `compatibilityLevel`)."""
    return settings.parse_level(await _setting_body(request, "compatibility", "compatibilityLevel"))


async def mode_body(request: Request) -> Mode:
    """The mode a PUT /mode carries."""
    return settings.parse_mode(await _setting_body(request, "mode"))


@router.get("/config")
def get_global_level(request: Request) -> Response:
    """The global compatibility level."""
    return RegistryJson({"compatibilityLevel": settings.level(steward_of(request).store)})


@router.put("/config", dependencies=write)
def put_global_level(
    request: Request, value: Annotated[Level, Depends(level_body)], caller: Caller
) -> Response:
    """Set the global compatibility level."""
    store = steward_of(request).store
    return RegistryJson({"compatibility": settings.set_level(store, value, actor=caller)})


@router.delete("/config", dependencies=write)
def delete_global_level(request: Request, caller: Caller) -> Response:
    """Reset the global compatibility level to BACKWARD; answers the level it had."""
    store = steward_of(request).store
    return RegistryJson({"compatibilityLevel": settings.delete_level(store, actor=caller)})


@router.get("/config/{subject}")
def get_level(request: Request, subject: str, defaultToGlobal: bool = False) -> Response:
    """A subject's compatibility level (40408 if it has none, unless `defaultToGlobal`)."""
    store = steward_of(request).store
    found = settings.level(store, subject, default_to_global=defaultToGlobal)
    return RegistryJson({"compatibilityLevel": found})


@router.put("/config/{subject}", dependencies=write)
def put_level(
    request: Request, subject: str, value: Annotated[Level, Depends(level_body)], caller: Caller
) -> Response:
    """Set a subject's compatibility level."""
    store = steward_of(request).store
    return RegistryJson({"compatibility": settings.set_level(store, value, subject, actor=caller)})


@router.delete("/config/{subject}", dependencies=write)
def delete_level(request: Request, subject: str, caller: Caller) -> Response:
    """Forget a subject's level (it follows the global one again); answers the level it had."""
    store = steward_of(request).store
    before = settings.delete_level(store, subject, actor=caller)
    return RegistryJson({"compatibilityLevel": before})


@router.get("/mode")
def get_global_mode(request: Request) -> Response:
    """The global mode."""
    return RegistryJson({"mode": settings.mode(steward_of(request).store)})


@router.put("/mode", dependencies=write)
def put_global_mode(
    request: Request, value: Annotated[Mode, Depends(mode_body)], caller: Caller
) -> Response:
    """Set the global mode."""
    store = steward_of(request).store
    return RegistryJson({"mode": settings.set_mode(store, value, actor=caller)})


@router.get("/mode/{subject}")
def get_mode(request: Request, subject: str, defaultToGlobal: bool = False) -> Response:
    """A subject's mode (40409 if it has none, unless `defaultToGlobal`)."""
    store = steward_of(request).store
    return RegistryJson({"mode": settings.mode(store, subject, default_to_global=defaultToGlobal)})


@router.put("/mode/{subject}", dependencies=write)
def put_mode(
    request: Request, subject: str, value: Annotated[Mode, Depends(mode_body)], caller: Caller
) -> Response:
    """Set a subject's mode."""
    store = steward_of(request).store
    return RegistryJson({"mode": settings.set_mode(store, value, subject, actor=caller)})


@router.delete("/mode/{subject}", dependencies=write)
def delete_mode(request: Request, subject: str, caller: Caller) -> Response:
    """Forget a subject's mode; answers the mode it had."""
    store = steward_of(request).store
    return RegistryJson({"mode": settings.delete_mode(store, subject, actor=caller)})
