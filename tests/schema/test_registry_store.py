"""The registry's store: concurrent registrations make no duplicate ids or versions."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from steward.app import Steward
from steward.schema import registry, registry_settings
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
    registry_settings.set_level(steward.store, Level.NONE)
    with ThreadPoolExecutor(max_workers=4) as pool:
        done = list(
            pool.map(lambda n: registry.register(steward.store, "q-value", payment(n)), range(8))
        )
    assert sorted(item.version.version for item in done) == list(range(1, 9))
    assert len({item.version.schema.schema_id for item in done}) == 8
    assert registry.versions(steward.store, "q-value") == list(range(1, 9))


def test_each_registered_value_schema_is_a_version_of_the_topic_dataset(
    steward: Steward,
) -> None:
    import sqlalchemy as sa

    from steward.store.schema import dataset_versions, datasets, namespaces

    for extra in range(3):
        done = registry.register(
            steward.store, "payments-value", payment(extra), kafka_namespace="kafka://b:9092"
        )
        assert done.created
    registry.register(steward.store, "not-a-topic", payment(0), kafka_namespace="kafka://b:9092")
    with steward.store.read() as conn:
        found = conn.execute(
            sa.select(datasets.c.name, sa.func.count())
            .select_from(dataset_versions)
            .join(datasets, datasets.c.id == dataset_versions.c.dataset_id)
            .join(namespaces, namespaces.c.id == datasets.c.namespace_id)
            .where(namespaces.c.name == "kafka://b:9092")
            .group_by(datasets.c.name)
        ).all()
    assert [tuple(row) for row in found] == [("payments", 3)]


def test_registry_changes_are_audited_with_the_actor(steward: Steward) -> None:
    from steward.audit.log import list_records
    from steward.identity.models import Principal

    ci = Principal("ci", scopes=frozenset({"schema:write"}))
    registry.register(steward.store, "audited-value", payment(0), actor=ci)
    registry.register(steward.store, "audited-value", payment(0), actor=ci)  # no change
    registry_settings.set_level(steward.store, Level.FULL, "audited-value", actor=ci)
    registry.delete_subject(steward.store, "audited-value", actor=ci)
    with steward.store.read() as conn:
        records = list_records(conn)
    actions = [(item.action, item.user) for item in reversed(records)]
    assert actions[-3:] == [
        ("schema_registry.register", "ci"),
        ("schema_registry.config", "ci"),
        ("schema_registry.delete", "ci"),
    ]
