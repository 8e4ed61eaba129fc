"""Subjects that name Kafka topics join the catalog as the topics' datasets.

Under Kafka's TopicNameStrategy a topic's value schema is the subject `<topic>-value` and
its key schema `<topic>-key`. Each registration is recorded as an OpenLineage
DatasetEvent for the topic (namespace `kafka://host:port`, name the topic, as the
OpenLineage naming spec says), so lineage keeps every version as the dataset's schema
history and the catalog lists the topic with its columns. The value schema gives the
columns; a key subject only makes sure the topic is known.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Connection

from steward.audit.log import record
from steward.identity.models import Principal
from steward.lineage.ingest import Learned, parse_events, store_events
from steward.schema.registry_models import SchemaKind, SubjectVersion

PRODUCER = "https://github.com/steward-data/steward/schema-registry"
SCHEMA_FACET = (
    "https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet"
)


def topic_of(subject: str) -> tuple[str, str] | None:
    """(topic, "value" or "key") for a TopicNameStrategy subject, else None."""
    for part in ("value", "key"):
        suffix = f"-{part}"
        if subject.endswith(suffix) and len(subject) > len(suffix):
            return subject[: -len(suffix)], part
    return None


def columns(kind: SchemaKind, text: str) -> list[dict[str, str]]:
    """The top-level fields of a record schema (Avro) or object schema (JSON Schema)."""
    document = json.loads(text)
    if not isinstance(document, dict):
        return []
    if kind is SchemaKind.AVRO:
        if document.get("type") != "record":
            return []
        return [
            _field(str(field["name"]), _avro_type(field.get("type")), field.get("doc"))
            for field in document.get("fields", [])
        ]
    properties = document.get("properties")
    if not isinstance(properties, dict):
        return []
    return [
        _field(
            str(name),
            str(spec.get("type", "any")) if isinstance(spec, dict) else "any",
            spec.get("description") if isinstance(spec, dict) else None,
        )
        for name, spec in properties.items()
    ]


def _field(name: str, type_: str, description: object) -> dict[str, str]:
    found = {"name": name, "type": type_}
    if isinstance(description, str):
        found["description"] = description
    return found


def _avro_type(avro: object) -> str:
    if isinstance(avro, str):
        return avro
    if isinstance(avro, list):
        return "union<" + ",".join(_avro_type(item) for item in avro) + ">"
    if isinstance(avro, dict):
        logical = avro.get("logicalType")
        return str(logical or avro.get("name") or avro.get("type"))
    return "unknown"


def topic_event(namespace: str, registered: SubjectVersion) -> dict[str, Any] | None:
    """The DatasetEvent recording `registered` on its topic, or None for other subjects."""
    found = topic_of(registered.subject)
    if found is None:
        return None
    topic, part = found
    facets: dict[str, Any] = {}
    if part == "value":
        facets["schema"] = {
            "_producer": PRODUCER,
            "_schemaURL": SCHEMA_FACET,
            "fields": columns(registered.schema.kind, registered.schema.text),
        }
    return {
        "eventTime": datetime.now(UTC).isoformat(),
        "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
        "dataset": {"namespace": namespace, "name": topic, "facets": facets},
    }


def record_topic(
    conn: Connection, namespace: str, registered: SubjectVersion, actor: Principal | None
) -> Learned | None:
    """Record a registration on its Kafka topic's dataset, inside the caller's transaction.

    Audited as `lineage.ingest` (source `schema-registry`), as `lineage.ingest.ingest`
    audits events. Returns the applier whose `commit_learned()` the caller calls once
    its transaction committed (None when the subject names no topic).
    """
    event = topic_event(namespace, registered)
    if event is None:
        return None
    events = parse_events([event], batch=False)
    result, applier = store_events(conn, events)
    record(
        conn,
        actor=actor,
        action="lineage.ingest",
        details={"source": "schema-registry", "received": 1, "stored": result.stored},
    )
    return applier
