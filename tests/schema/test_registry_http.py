"""The schema registry's HTTP surface: Confluent's error bodies, auth, content type, catalog."""

from __future__ import annotations

import base64
import json

from fastapi.testclient import TestClient

from steward.api.server import create_app
from steward.app import Steward
from steward.identity.tokens import create_token

SR = "/api/v1/schema-registry"
MEDIA = "application/vnd.schemaregistry.v1+json"


def record(*fields: dict[str, object], name: str = "Payment") -> str:
    return json.dumps({"type": "record", "name": name, "fields": list(fields)})


V1 = record({"name": "id", "type": "string"}, {"name": "amount", "type": "double"})
V2 = record(
    {"name": "id", "type": "string"},
    {"name": "amount", "type": "double"},
    {"name": "currency", "type": "string", "default": "EUR"},
)
NO_DEFAULT = record(
    {"name": "id", "type": "string"},
    {"name": "amount", "type": "double"},
    {"name": "note", "type": "string"},
)


def post(client: TestClient, path: str, body: object, **kwargs: object) -> object:
    return client.post(
        f"{SR}{path}", content=json.dumps(body), headers={"Content-Type": MEDIA}, **kwargs
    )


def test_register_is_idempotent_and_answers_in_the_registry_media_type(
    client: TestClient,
) -> None:
    first = client.post(f"{SR}/subjects/payments-value/versions", json={"schema": V1})
    again = client.post(
        f"{SR}/subjects/payments-value/versions",
        content=json.dumps({"schema": json.dumps(json.loads(V1), indent=2)}),
        headers={"Content-Type": MEDIA},
    )
    assert first.status_code == 200, first.text
    assert first.headers["content-type"].startswith(MEDIA)
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["version"] == 1
    by_id = client.get(f"{SR}/schemas/ids/{first.json()['id']}")
    assert json.loads(by_id.json()["schema"]) == json.loads(V1)
    assert client.get(f"{SR}/subjects/payments-value/versions").json() == [1]
    assert client.get(f"{SR}/schemas/types").json() == ["AVRO", "JSON"]


def test_errors_have_confluent_codes(client: TestClient) -> None:
    missing_subject = client.get(f"{SR}/subjects/nope/versions")
    assert (missing_subject.status_code, missing_subject.json()["error_code"]) == (404, 40401)
    client.post(f"{SR}/subjects/orders-value/versions", json={"schema": V1})
    missing_version = client.get(f"{SR}/subjects/orders-value/versions/7")
    assert (missing_version.status_code, missing_version.json()["error_code"]) == (404, 40402)
    missing_schema = client.get(f"{SR}/schemas/ids/999")
    assert (missing_schema.status_code, missing_schema.json()["error_code"]) == (404, 40403)
    invalid = client.post(f"{SR}/subjects/orders-value/versions", json={"schema": "{nope"})
    assert (invalid.status_code, invalid.json()["error_code"]) == (422, 42201)
    bad_avro = client.post(
        f"{SR}/subjects/orders-value/versions", json={"schema": '{"type": "recrod"}'}
    )
    assert (bad_avro.status_code, bad_avro.json()["error_code"]) == (422, 42201)
    bad_version = client.get(f"{SR}/subjects/orders-value/versions/zero")
    assert (bad_version.status_code, bad_version.json()["error_code"]) == (422, 42202)
    incompatible = client.post(f"{SR}/subjects/orders-value/versions", json={"schema": NO_DEFAULT})
    assert (incompatible.status_code, incompatible.json()["error_code"]) == (409, 409)
    assert "note" in incompatible.json()["message"]
    bad_level = client.put(f"{SR}/config", json={"compatibility": "SIDEWAYS"})
    assert (bad_level.status_code, bad_level.json()["error_code"]) == (422, 42203)
    assert missing_subject.headers["content-type"].startswith(MEDIA)


def test_soft_deleted_versions_are_hidden_unless_asked_for(client: TestClient) -> None:
    client.put(f"{SR}/config/events-value", json={"compatibility": "NONE"})
    client.post(f"{SR}/subjects/events-value/versions", json={"schema": V1})
    client.post(f"{SR}/subjects/events-value/versions", json={"schema": NO_DEFAULT})
    assert client.delete(f"{SR}/subjects/events-value/versions/1").json() == 1
    again = client.delete(f"{SR}/subjects/events-value/versions/1")
    assert (again.status_code, again.json()["error_code"]) == (404, 40406)
    assert client.get(f"{SR}/subjects/events-value/versions").json() == [2]
    assert client.get(f"{SR}/subjects/events-value/versions?deleted=true").json() == [1, 2]
    hidden = client.get(f"{SR}/subjects/events-value/versions/1")
    assert hidden.json()["error_code"] == 40402
    assert client.get(f"{SR}/subjects/events-value/versions/1?deleted=true").status_code == 200
    not_soft = client.delete(f"{SR}/subjects/events-value?permanent=true")
    assert not_soft.json()["error_code"] == 40405
    assert client.delete(f"{SR}/subjects/events-value").json() == [2]
    assert client.get(f"{SR}/subjects").json() == []
    assert client.get(f"{SR}/subjects?deleted=true").json() == ["events-value"]
    assert client.delete(f"{SR}/subjects/events-value?permanent=true").json() == [1, 2]
    assert client.get(f"{SR}/subjects?deleted=true").json() == []


def test_read_only_mode_refuses_registration(client: TestClient) -> None:
    assert client.put(f"{SR}/mode", json={"mode": "READONLY"}).json() == {"mode": "READONLY"}
    refused = client.post(f"{SR}/subjects/x-value/versions", json={"schema": V1})
    assert (refused.status_code, refused.json()["error_code"]) == (422, 42205)
    client.put(f"{SR}/mode", json={"mode": "READWRITE"})
    assert client.post(f"{SR}/subjects/x-value/versions", json={"schema": V1}).status_code == 200


def test_references_resolve_named_types_from_other_subjects(client: TestClient) -> None:
    money = json.dumps(
        {
            "type": "record",
            "name": "Money",
            "namespace": "shop",
            "fields": [{"name": "units", "type": "long"}],
        }
    )
    client.post(f"{SR}/subjects/money/versions", json={"schema": money})
    order = json.dumps(
        {
            "type": "record",
            "name": "Order",
            "namespace": "shop",
            "fields": [{"name": "total", "type": "shop.Money"}],
        }
    )
    refs = [{"name": "shop.Money", "subject": "money", "version": 1}]
    without = client.post(f"{SR}/subjects/shop-orders-value/versions", json={"schema": order})
    assert without.json()["error_code"] == 42201
    made = client.post(
        f"{SR}/subjects/shop-orders-value/versions", json={"schema": order, "references": refs}
    )
    assert made.status_code == 200, made.text
    assert made.json()["references"] == refs
    assert client.get(f"{SR}/subjects/money/versions/1/referencedby").json() == [made.json()["id"]]
    in_use = client.delete(f"{SR}/subjects/money/versions/1")
    assert (in_use.status_code, in_use.json()["error_code"]) == (422, 42206)


def test_json_schema_subjects_are_accepted(client: TestClient) -> None:
    schema = json.dumps({"type": "object", "properties": {"id": {"type": "string"}}})
    made = client.post(
        f"{SR}/subjects/clicks-value/versions", json={"schema": schema, "schemaType": "JSON"}
    )
    assert made.status_code == 200, made.text
    assert made.json()["schemaType"] == "JSON"


def test_topic_subject_becomes_a_kafka_dataset_with_its_columns(client: TestClient) -> None:
    client.post(f"{SR}/subjects/payments-value/versions", json={"schema": V1})
    client.post(f"{SR}/subjects/payments-value/versions", json={"schema": V2})
    found = client.get("/api/v1/datasets", params={"namespace": "kafka://localhost:9092"})
    assert found.status_code == 200, found.text
    assert "payments" in found.text
    dataset = client.get("/api/v1/datasets/dataset:kafka%3A%2F%2Flocalhost%3A9092:payments")
    assert dataset.status_code == 200, dataset.text
    assert "currency" in dataset.text
    search = client.get("/api/v1/catalog/search", params={"q": "payments"})
    assert search.status_code == 200, search.text
    assert "kafka://localhost:9092" in search.text


def test_no_token_is_401_in_confluent_shape(anonymous: TestClient) -> None:
    answer = anonymous.get(f"{SR}/subjects")
    assert answer.status_code == 401
    assert answer.json()["error_code"] == 401


def test_reader_token_reads_but_cannot_register(steward: Steward, client: TestClient) -> None:
    reader = create_token(steward.store, user="analyst").secret
    writer = create_token(steward.store, user="ci", scopes=["schema:write"]).secret
    with TestClient(create_app(steward)) as http:
        as_reader = {"Authorization": f"Bearer {reader}"}
        refused = http.post(
            f"{SR}/subjects/a-value/versions", json={"schema": V1}, headers=as_reader
        )
        assert (refused.status_code, refused.json()["error_code"]) == (403, 403)
        # The scope is checked before the body is read: a bad body is still 403.
        unread = http.post(
            f"{SR}/subjects/a-value/versions", content=b"{not json", headers=as_reader
        )
        assert unread.status_code == 403
        assert http.get(f"{SR}/subjects", headers=as_reader).status_code == 200
        basic = base64.b64encode(f"ci:{writer}".encode()).decode()
        made = http.post(
            f"{SR}/subjects/a-value/versions",
            json={"schema": V1},
            headers={"Authorization": f"Basic {basic}"},
        )
        assert made.status_code == 200, made.text
        wrong = base64.b64encode(b"ci:not-a-token").decode()
        denied = http.get(f"{SR}/subjects", headers={"Authorization": f"Basic {wrong}"})
        assert denied.status_code == 401


def test_basic_auth_works_on_every_route(steward: Steward, admin_token: str) -> None:
    basic = base64.b64encode(f"anyone:{admin_token}".encode()).decode()
    with TestClient(create_app(steward)) as http:
        answer = http.get("/api/v1/datasets", headers={"Authorization": f"Basic {basic}"})
    assert answer.status_code == 200


def test_unsupported_content_type_is_refused(client: TestClient) -> None:
    answer = client.post(
        f"{SR}/subjects/t-value/versions",
        content=json.dumps({"schema": V1}),
        headers={"Content-Type": "text/plain"},
    )
    assert answer.status_code == 415


def test_json_schema_subjects_follow_their_level(client: TestClient) -> None:
    def schema(**properties: object) -> dict[str, object]:
        body = {"type": "object", "properties": properties, "additionalProperties": False}
        return {"schema": json.dumps(body), "schemaType": "JSON"}

    client.post(f"{SR}/subjects/views-value/versions", json=schema(id={"type": "string"}))
    narrowed = client.post(
        f"{SR}/subjects/views-value/versions?verbose=true", json=schema(id={"type": "integer"})
    )
    assert (narrowed.status_code, narrowed.json()["error_code"]) == (409, 409)


def test_verbose_compatibility_says_why(client: TestClient) -> None:
    client.post(f"{SR}/subjects/refunds-value/versions", json={"schema": V1})
    quiet = client.post(
        f"{SR}/compatibility/subjects/refunds-value/versions/latest", json={"schema": NO_DEFAULT}
    )
    assert quiet.json() == {"is_compatible": False}
    verbose = client.post(
        f"{SR}/compatibility/subjects/refunds-value/versions/latest?verbose=true",
        json={"schema": NO_DEFAULT},
    )
    assert verbose.json()["is_compatible"] is False
    assert any("note" in message for message in verbose.json()["messages"])


def test_a_refused_basic_token_is_audited_without_its_secret(steward: Steward) -> None:
    from steward.audit.log import list_records

    wrong = base64.b64encode(b"kafka-app:stw_notarealtoken").decode()
    with TestClient(create_app(steward)) as http:
        http.get(f"{SR}/subjects", headers={"Authorization": f"Basic {wrong}"})
    with steward.store.read() as conn:
        refused = [item for item in list_records(conn) if item.action == "auth.failed"]
    assert refused
    assert refused[0].details["path"] == f"{SR}/subjects"
    assert "stw_notarealtoken" not in json.dumps(refused[0].details)


def test_import_mode_keeps_the_id_another_registry_gave(client: TestClient) -> None:
    refused = client.post(f"{SR}/subjects/moved-value/versions", json={"schema": V1, "id": 42})
    assert refused.json()["error_code"] == 42205
    client.put(f"{SR}/mode/moved-value", json={"mode": "IMPORT"})
    made = client.post(f"{SR}/subjects/moved-value/versions", json={"schema": V1, "id": 42})
    assert made.status_code == 200, made.text
    assert made.json()["id"] == 42
    assert client.get(f"{SR}/schemas/ids/42").status_code == 200
    taken = client.post(f"{SR}/subjects/moved-value/versions", json={"schema": V2, "id": 42})
    assert (taken.status_code, taken.json()["error_code"]) == (422, 42205)
    client.put(f"{SR}/mode/moved-value", json={"mode": "READWRITE"})
    after = client.post(f"{SR}/subjects/moved-value/versions", json={"schema": V2})
    assert after.json()["id"] > 42  # ids made later do not collide with imported ones
    client.put(f"{SR}/mode/moved-value", json={"mode": "IMPORT"})
    assert client.delete(f"{SR}/mode/moved-value").json() == {"mode": "IMPORT"}
    assert client.get(f"{SR}/mode/moved-value").json()["error_code"] == 40409


def test_a_key_subject_makes_the_topic_known_without_columns(client: TestClient) -> None:
    key = json.dumps({"type": "record", "name": "Key", "fields": [{"name": "k", "type": "long"}]})
    client.post(f"{SR}/subjects/ledger-key/versions", json={"schema": key})
    found = client.get("/api/v1/datasets", params={"namespace": "kafka://localhost:9092"})
    assert "ledger" in found.text
    dataset = client.get("/api/v1/datasets/dataset:kafka%3A%2F%2Flocalhost%3A9092:ledger")
    assert dataset.status_code == 200, dataset.text
    assert '"k"' not in dataset.text
