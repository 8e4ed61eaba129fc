"""The demo's lineage: commits -> a Flink ingest job -> Iceberg -> a dbt model -> an API
endpoint -> a dashboard, as OpenLineage events.

The events are recorded ones shipped as package data (`files/lineage.ndjson`), shaped as
the Flink and dbt integrations and the Python client send them. An Iceberg table's
OpenLineage identity is its location, which depends on where the demo's home is, so the
recorded events name the demo's tables in the placeholder namespace `steward-demo-lake`
and are given the real locations here before they are stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.resources import files
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from steward.identity.models import Principal
    from steward.lineage.ingest import IngestResult
    from steward.store import Store

PLACEHOLDER = "steward-demo-lake"


def recorded_events(locations: Mapping[str, str]) -> list[dict[str, Any]]:
    """The shipped events, with each `lake.*` table given its identity from `locations`
    (catalog name -> table location)."""
    from steward.connectors.iceberg import location_identity

    identities = {}
    for name, location in locations.items():
        identity = location_identity(location)
        identities[name.removeprefix("lake.")] = (identity.namespace, identity.name)
    text = files("steward.demo").joinpath("files", "lineage.ndjson").read_bytes()
    events = [orjson.loads(line) for line in text.splitlines() if line.strip()]
    return [_located(event, identities) for event in events]


def _located(value: Any, identities: Mapping[str, tuple[str, str]]) -> Any:
    if isinstance(value, list):
        return [_located(item, identities) for item in value]
    if not isinstance(value, dict):
        return value
    found = {key: _located(item, identities) for key, item in value.items()}
    if found.get("namespace") == PLACEHOLDER and found.get("name") in identities:
        found["namespace"], found["name"] = identities[found["name"]]
    return found


def send_lineage(store: Store, locations: Mapping[str, str], *, actor: Principal) -> IngestResult:
    """Store the demo's events; events stored before change nothing."""
    from steward.lineage.ingest import ingest, parse_events

    events = parse_events(recorded_events(locations), batch=True)
    return ingest(store, events, actor=actor)
