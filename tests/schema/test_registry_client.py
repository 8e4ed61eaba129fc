"""confluent-kafka's own SchemaRegistryClient and Avro serdes against a live `steward serve`.

No Kafka broker runs here: the serializer is called as a producer would call it, and the
bytes it makes (magic byte, the schema's global id, the Avro body) are read back by the
deserializer, which fetches the schema by id from Steward.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext

from tests.e2e.conftest import (
    Server,
    server,  # noqa: F401 - the live-server fixture
)


def avro(*fields: dict[str, object]) -> Schema:
    text = json.dumps({"type": "record", "name": "Payment", "fields": list(fields)})
    return Schema(text, "AVRO")


ID = {"name": "id", "type": "string"}
AMOUNT = {"name": "amount", "type": "double"}
CURRENCY = {"name": "currency", "type": "string", "default": "EUR"}
NOTE = {"name": "note", "type": "string"}


def client_for(live: Server) -> SchemaRegistryClient:
    """A client configured as Kafka applications configure one: the token as password."""
    return SchemaRegistryClient(
        {
            "url": f"{live.url}/api/v1/schema-registry",
            "basic.auth.user.info": f"x:{live.token}",
        }
    )


@pytest.fixture
def registry(server: Server) -> Iterator[SchemaRegistryClient]:  # noqa: F811
    with client_for(server) as client:
        yield client


def test_kafka_client_registers_fetches_lists_and_deletes(
    registry: SchemaRegistryClient,
) -> None:
    first = registry.register_schema("payments-value", avro(ID, AMOUNT))
    assert registry.register_schema("payments-value", avro(ID, AMOUNT)) == first
    assert json.loads(registry.get_schema(first).schema_str)["name"] == "Payment"
    second = registry.register_schema("payments-value", avro(ID, AMOUNT, CURRENCY))
    assert second != first
    latest = registry.get_latest_version("payments-value")
    assert (latest.version, latest.schema_id) == (2, second)
    assert registry.get_version("payments-value", 1).schema_id == first
    assert registry.get_subjects() == ["payments-value"]
    assert registry.get_versions("payments-value") == [1, 2]
    found = registry.lookup_schema("payments-value", avro(ID, AMOUNT))
    assert found.version == 1

    assert registry.delete_version("payments-value", 2) == 2
    assert registry.get_versions("payments-value") == [1]
    assert registry.delete_subject("payments-value") == [1]
    assert registry.get_subjects() == []
    assert registry.delete_subject("payments-value", permanent=True) == [1, 2]
    with pytest.raises(SchemaRegistryError) as missing:
        registry.get_versions("payments-value")
    assert missing.value.error_code == 40401


def test_compatibility_levels_as_the_kafka_client_sets_them(
    registry: SchemaRegistryClient,
) -> None:
    registry.register_schema("orders-value", avro(ID, AMOUNT))
    # BACKWARD (the default): a new field needs a default for the new reader.
    assert registry.get_compatibility() == "BACKWARD"
    assert registry.test_compatibility("orders-value", avro(ID, AMOUNT, CURRENCY))
    assert not registry.test_compatibility("orders-value", avro(ID, AMOUNT, NOTE))
    with pytest.raises(SchemaRegistryError) as refused:
        registry.register_schema("orders-value", avro(ID, AMOUNT, NOTE))
    assert (refused.value.http_status_code, refused.value.error_code) == (409, 409)

    # FORWARD: old readers must read new data; dropping a field without a default fails.
    registry.set_compatibility("orders-value", "FORWARD")
    assert registry.get_compatibility("orders-value") == "FORWARD"
    assert registry.test_compatibility("orders-value", avro(ID, AMOUNT, NOTE))
    assert not registry.test_compatibility("orders-value", avro(ID))

    # FULL: both ways.
    registry.set_compatibility("orders-value", "FULL")
    assert registry.test_compatibility("orders-value", avro(ID, AMOUNT, CURRENCY))
    assert not registry.test_compatibility("orders-value", avro(ID, AMOUNT, NOTE))

    # Transitive: a double `amount` with a default reads v2 (no amount), not v1 (a string).
    registry.register_schema("ledger-value", avro(ID, {"name": "amount", "type": "string"}))
    registry.register_schema("ledger-value", avro(ID))
    candidate = avro(ID, {"name": "amount", "type": "double", "default": 0})
    assert registry.test_compatibility_all_versions("ledger-value", candidate)
    registry.set_compatibility("ledger-value", "BACKWARD_TRANSITIVE")
    assert not registry.test_compatibility_all_versions("ledger-value", candidate)
    with pytest.raises(SchemaRegistryError):
        registry.register_schema("ledger-value", candidate)
    registry.set_compatibility("ledger-value", "BACKWARD")
    assert registry.register_schema("ledger-value", candidate) > 0


def test_avro_serializer_round_trips_a_record_through_the_registry(
    server: Server,  # noqa: F811
    registry: SchemaRegistryClient,
) -> None:
    text = avro(ID, AMOUNT, CURRENCY).schema_str
    serialize = AvroSerializer(registry, text)
    deserialize = AvroDeserializer(registry)
    context = SerializationContext("payments", MessageField.VALUE)
    value = {"id": "p-1", "amount": 12.5, "currency": "CHF"}
    data = serialize(value, context)
    assert data is not None
    assert data[0] == 0  # the wire format's magic byte, then the schema's global id
    schema_id = int.from_bytes(data[1:5], "big")
    assert registry.get_latest_version("payments-value").schema_id == schema_id
    assert deserialize(data, context) == value
    # A consumer with an empty cache fetches the writer's schema by id from Steward.
    with client_for(server) as consumer_side:
        assert AvroDeserializer(consumer_side)(data, context) == value


def test_json_serializer_round_trips_through_a_json_schema_subject(
    registry: SchemaRegistryClient,
) -> None:
    from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer

    schema = json.dumps(
        {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "title": "Click",
            "type": "object",
            "properties": {"page": {"type": "string"}, "ms": {"type": "integer"}},
            "required": ["page"],
        }
    )
    context = SerializationContext("clicks", MessageField.VALUE)
    data = JSONSerializer(schema, registry)({"page": "/home", "ms": 12}, context)
    assert data is not None
    assert registry.get_latest_version("clicks-value").schema.schema_type == "JSON"
    # The consumer side has no schema of its own: it fetches the writer's by id.
    deserialize = JSONDeserializer(None, schema_registry_client=registry)
    assert deserialize(data, context) == {"page": "/home", "ms": 12}
