"""The registry's store: concurrent registrations make no duplicate ids or versions."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from steward.app import Steward
from steward.schema import registry
from steward.schema.registry_models import Level, SchemaInput


def payment(extra: int) -> SchemaInput:
    fields = [{"name": "id", "type": "string"}] + [
        {"name": f"f{i}", "type": "int", "default": 0} for i in range(extra)
    ]
    return SchemaInput(json.dumps({"type": "record", "name": "Payment", "fields": fields}))


def test_concurrent_registrations_of_one_schema_get_one_id_and_one_version(
    steward: Steward,
) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        done = list(
            pool.map(lambda _: registry.register(steward.store, "p-value", payment(1)), range(16))
        )
    assert len({item.version.schema.schema_id for item in done}) == 1
    assert sum(item.created for item in done) == 1
    assert registry.versions(steward.store, "p-value") == [1]


def test_concurrent_registrations_of_different_schemas_get_consecutive_versions(
    steward: Steward,
) -> None:
    registry.set_level(steward.store, Level.NONE)
    with ThreadPoolExecutor(max_workers=4) as pool:
        done = list(
            pool.map(lambda n: registry.register(steward.store, "q-value", payment(n)), range(8))
        )
    assert sorted(item.version.version for item in done) == list(range(1, 9))
    assert len({item.version.schema.schema_id for item in done}) == 8
    assert registry.versions(steward.store, "q-value") == list(range(1, 9))
