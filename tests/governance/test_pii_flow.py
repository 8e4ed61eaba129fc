"""Personal data traced by tag through column lineage, with the transformations on the way."""

from __future__ import annotations

from typing import Any

from steward.app import Steward
from steward.governance.evaluate import evaluate
from steward.lineage.ingest import ingest, parse_events
from tests.openlineage_events import FACET, PRODUCER

IDENTITY = {"type": "DIRECT", "subtype": "IDENTITY", "masking": False}
AGGREGATION = {"type": "DIRECT", "subtype": "AGGREGATION", "masking": False}
JOIN = {"type": "INDIRECT", "subtype": "JOIN", "masking": False}


def _output(name: str, fields: dict[str, list[tuple[str, str, dict[str, Any]]]]) -> dict[str, Any]:
    return {
        "namespace": "wh",
        "name": name,
        "facets": {
            "schema": {**FACET, "fields": [{"name": f, "type": "VARCHAR"} for f in fields]},
            "columnLineage": {
                **FACET,
                "fields": {
                    out: {
                        "inputFields": [
                            {"namespace": "wh", "name": n, "field": f, "transformations": [t]}
                            for n, f, t in inputs
                        ]
                    }
                    for out, inputs in fields.items()
                },
            },
        },
    }


def _run(job: str, inputs: list[str], output: dict[str, Any], second: int) -> dict[str, Any]:
    return {
        "eventType": "COMPLETE",
        "eventTime": f"2024-05-01T10:00:{second:02d}Z",
        "producer": PRODUCER,
        "run": {"runId": f"00000000-0000-4000-8000-0000000000{second:02d}", "facets": {}},
        "job": {"namespace": "etl", "name": job, "facets": {}},
        "inputs": [{"namespace": "wh", "name": n, "facets": {}} for n in inputs],
        "outputs": [output],
    }


def test_identity_copies_stay_clear_and_an_aggregate_on_the_way_does_not(
    steward: Steward,
) -> None:
    users = {
        "eventTime": "2024-05-01T09:00:00Z",
        "producer": PRODUCER,
        "dataset": {
            "namespace": "wh",
            "name": "users",
            "facets": {
                "schema": {
                    **FACET,
                    "fields": [{"name": "email", "type": "VARCHAR"}, {"name": "id"}],
                },
                "tags": {**FACET, "tags": [{"key": "pii.email", "field": "email"}]},
            },
        },
    }
    events = [
        users,
        _run(
            "stage",
            ["users"],
            _output(
                "stage", {"email": [("users", "email", IDENTITY)], "id": [("users", "id", JOIN)]}
            ),
            1,
        ),
        _run("mart", ["stage"], _output("mart", {"emails": [("stage", "email", AGGREGATION)]}), 2),
        _run("copy", ["stage"], _output("copy", {"contact": [("stage", "email", IDENTITY)]}), 3),
    ]
    ingest(steward.store, parse_events(events, batch=True))

    copied = evaluate(steward.store, "dataset:wh:copy")
    (flow,) = copied.pii_flows
    assert (flow.source.label, flow.target.label, flow.tags, flow.clear) == (
        "dataset:wh:users.email",
        "dataset:wh:copy.contact",
        ("pii.email",),
        True,
    )
    assert [(e.job, e.target.column) for e in flow.path] == [
        ("job:etl:stage", "email"),
        ("job:etl:copy", "contact"),
    ]

    (counted,) = evaluate(steward.store, "dataset:wh:mart").pii_flows
    assert counted.clear is False
    assert [(e.job, e.clear) for e in counted.path] == [
        ("job:etl:stage", True),
        ("job:etl:mart", False),
    ]
    # A join key decides rows, not values: `id` carries no personal data, and no flow.
    assert all(
        f.target.column != "id" for f in evaluate(steward.store, "dataset:wh:stage").pii_flows
    )
