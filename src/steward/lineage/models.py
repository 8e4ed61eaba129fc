"""OpenLineage 2-0-x events as pydantic models: what the ingest path accepts.

Only the facets Steward reads are typed; every other facet is kept as it came.
A facet of the form `{"_deleted": true}` removes an earlier value (spec 1.x+).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, NotRequired
from uuid import UUID

import orjson
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from typing_extensions import TypedDict

from steward.errors import InvalidEvent
from steward.identity.models import Principal
from steward.lineage.facets import (
    DataQualityAssertionsFacet,
    DataQualityMetricsFacet,
    InputFacets,
    OutputFacets,
)

RunState = Literal["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"]
Name = Field(min_length=1, max_length=4096)


def to_utc(value: datetime) -> datetime:
    """Naive UTC, as the store keeps times; a time without a zone is taken as UTC."""
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


class _Facet(BaseModel):
    # Only what Steward reads is typed; the raw event keeps the rest. Producers send
    # `"key": null` for absent optional values, so optional fields accept null.
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


# The big, repeated parts of facets (schema fields, column lineage) are TypedDicts:
# validated as strictly as models, but built as plain dicts, several times faster.
NameStr = Annotated[str, Field(min_length=1, max_length=4096)]


class SchemaField(TypedDict):
    name: NameStr
    type: NotRequired[str | None]
    description: NotRequired[str | None]
    fields: NotRequired[list[SchemaField] | None]


class SchemaFacet(_Facet):
    fields: list[SchemaField] | None = None


class Transformation(TypedDict):
    type: NameStr
    subtype: NotRequired[str | None]
    description: NotRequired[str | None]
    masking: NotRequired[bool | None]


class InputField(TypedDict):
    namespace: NameStr
    name: NameStr
    field: NameStr
    transformations: NotRequired[list[Transformation] | None]


class ColumnLineageField(TypedDict):
    inputFields: list[InputField]
    transformationDescription: NotRequired[str | None]
    transformationType: NotRequired[str | None]


class ColumnLineageFacet(_Facet):
    fields: dict[str, ColumnLineageField] | None = None
    dataset: list[InputField] | None = None


class DocumentationFacet(_Facet):
    description: str


class Owner(_Facet):
    name: str = Field(min_length=1)
    type: str | None = None


class OwnershipFacet(_Facet):
    owners: list[Owner] | None = None


class Tag(_Facet):
    key: str = Field(min_length=1)
    value: str | None = None
    source: str | None = None
    field: str | None = None


class TagsFacet(_Facet):
    tags: list[Tag] | None = None


class DataSourceFacet(_Facet):
    name: str | None = None
    uri: str | None = None


class SymlinkIdentifier(_Facet):
    namespace: str = Name
    name: str = Name
    type: str | None = None


class SymlinksFacet(_Facet):
    identifiers: list[SymlinkIdentifier] | None = None


class DatasetRefId(_Facet):
    namespace: str = Name
    name: str = Name


class LifecycleStateChangeFacet(_Facet):
    lifecycleStateChange: Literal["ALTER", "CREATE", "DROP", "OVERWRITE", "RENAME", "TRUNCATE"]
    previousIdentifier: DatasetRefId | None = None


class _Facets(_Facet):
    """A facets object, typed where Steward reads it; the raw dict stays in the event."""

    @model_validator(mode="before")
    @classmethod
    def _skip_deleted(cls, data: Any) -> Any:
        # `{"_deleted": true}` removes a facet; it has none of the facet's fields to check.
        if isinstance(data, dict) and any(is_deleted(v) for v in data.values()):
            return {k: v for k, v in data.items() if not is_deleted(v)}
        return data


def is_deleted(facet: Any) -> bool:
    """True for a facet of the form `{"_deleted": true}`."""
    return isinstance(facet, dict) and facet.get("_deleted") is True


def facets_of(container: dict[str, Any] | None) -> tuple[dict[str, Any], frozenset[str]]:
    """The facets of a raw dataset, job or run object, and the names it deletes."""
    facets = (container or {}).get("facets") or {}
    return facets, frozenset(name for name, value in facets.items() if is_deleted(value))


class DatasetFacets(_Facets):
    schema_: SchemaFacet | None = Field(default=None, alias="schema")
    columnLineage: ColumnLineageFacet | None = None
    documentation: DocumentationFacet | None = None
    ownership: OwnershipFacet | None = None
    tags: TagsFacet | None = None
    dataSource: DataSourceFacet | None = None
    symlinks: SymlinksFacet | None = None
    lifecycleStateChange: LifecycleStateChangeFacet | None = None
    dataQualityAssertions: DataQualityAssertionsFacet | None = None
    dataQualityMetrics: DataQualityMetricsFacet | None = None


class SourceCodeLocationFacet(_Facet):
    type: str | None = None
    url: str | None = None
    repoUrl: str | None = None
    path: str | None = None
    version: str | None = None


class JobTypeFacet(_Facet):
    processingType: str | None = None
    integration: str | None = None
    jobType: str | None = None


class JobFacets(_Facets):
    documentation: DocumentationFacet | None = None
    sourceCodeLocation: SourceCodeLocationFacet | None = None
    jobType: JobTypeFacet | None = None


class ParentRun(_Facet):
    runId: UUID


class ParentJob(_Facet):
    namespace: str = Name
    name: str = Name


class ParentRoot(_Facet):
    run: ParentRun
    job: ParentJob


class ParentRunFacet(_Facet):
    run: ParentRun
    job: ParentJob
    root: ParentRoot | None = None


class NominalTimeFacet(_Facet):
    nominalStartTime: datetime
    nominalEndTime: datetime | None = None


class RunFacets(_Facets):
    parent: ParentRunFacet | None = None
    nominalTime: NominalTimeFacet | None = None


class Dataset(_Facet):
    namespace: str = Name
    name: str = Name
    facets: DatasetFacets = Field(default_factory=DatasetFacets)
    inputFacets: InputFacets | None = None
    outputFacets: OutputFacets | None = None


class Job(_Facet):
    namespace: str = Name
    name: str = Name
    facets: JobFacets = Field(default_factory=JobFacets)


class Run(_Facet):
    runId: UUID
    facets: RunFacets = Field(default_factory=RunFacets)


class _Event(_Facet):
    eventTime: datetime
    producer: str = Field(min_length=1)
    schemaURL: str | None = None

    @field_validator("eventTime")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return to_utc(value)


class RunEvent(_Event):
    eventType: RunState | None = None
    run: Run
    job: Job
    inputs: list[Dataset] = Field(default_factory=list)
    outputs: list[Dataset] = Field(default_factory=list)


class DatasetEvent(_Event):
    dataset: Dataset


class JobEvent(_Event):
    job: Job
    inputs: list[Dataset] = Field(default_factory=list)
    outputs: list[Dataset] = Field(default_factory=list)


Event = RunEvent | DatasetEvent | JobEvent


def parse_event(data: Any, *, where: str = "") -> Event:
    """Validate one decoded event; `InvalidEvent` names the first bad field.

    The kind follows the spec: a `run` makes a RunEvent (so does an `eventType`),
    else a `dataset` a DatasetEvent, else a `job` a JobEvent.
    """
    if not isinstance(data, dict):
        raise InvalidEvent(f"{where or 'event'}: must be a JSON object")
    model: type[RunEvent] | type[DatasetEvent] | type[JobEvent]
    if "run" in data or "eventType" in data:
        model = RunEvent
    elif "dataset" in data:
        model = DatasetEvent
    elif "job" in data:
        model = JobEvent
    else:
        raise InvalidEvent(
            f"{where}run: required (a RunEvent has run and job, a DatasetEvent has dataset,"
            " a JobEvent has job)"
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidEvent(describe_validation_error(exc, prefix=where)) from None


def describe_validation_error(exc: ValidationError, *, prefix: str = "") -> str:
    """`run.runId: Input should be a valid UUID`, for the first few errors."""
    parts = []
    for err in exc.errors(include_url=False)[:3]:
        loc = ""
        for item in err["loc"]:
            loc += f"[{item}]" if isinstance(item, int) else (f".{item}" if loc else str(item))
        parts.append(f"{prefix}{loc}: {err['msg']}")
    more = len(exc.errors()) - 3
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def event_kind(event: Event) -> str:
    """`RunEvent`, `DatasetEvent` or `JobEvent`."""
    return type(event).__name__


@dataclass(frozen=True)
class Poster:
    """Who posted an event, as its raw row keeps it: user, groups as a JSON list, token id."""

    user: str | None = None
    groups: str | None = None
    token_id: str | None = None

    @classmethod
    def of(cls, principal: Principal | None) -> Poster:
        """The poster for `principal`; nobody proven (None) posts as Steward itself."""
        if principal is None:
            return cls()
        groups = orjson.dumps(sorted(principal.groups)).decode()
        return cls(user=principal.user, groups=groups, token_id=principal.token_id)

    def run_columns(self) -> dict[str, str | None]:
        """The `runs` columns naming this poster."""
        return {
            "principal_user": self.user,
            "principal_groups": self.groups,
            "principal_token": self.token_id,
        }
