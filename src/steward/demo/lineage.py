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
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from typing import TYPE_CHECKING, Any

import orjson

from steward.identity.models import Principal

if TYPE_CHECKING:
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


# Who runs the demo's jobs: the token each job's events are posted with. The dbt project
# runs as an EU analyst's service account, which reads users of every region and the
# commits table its role is not granted: `steward lineage check` and `steward evidence`
# find both. The platform's own jobs run as the platform team.
JOB_PRINCIPALS = {
    "dbt": Principal(user="svc-dbt", groups=frozenset({"analysts-eu"})),
}
PLATFORM = Principal(user="svc-platform", groups=frozenset({"platform"}))


def send_lineage(
    store: Store, locations: Mapping[str, str], *, now: datetime | None = None
) -> IngestResult:
    """Store the demo's events, each job's as its principal, as if they ran from `now`
    on, so that the policy applied before them judges them; events stored before change
    nothing."""
    from steward.lineage.ingest import IngestResult, ingest, parse_events

    events = _recent(recorded_events(locations), now or datetime.now(UTC))
    by_principal: dict[Principal, list[dict[str, Any]]] = {}
    for event in events:
        namespace = event.get("job", {}).get("namespace", "")
        by_principal.setdefault(JOB_PRINCIPALS.get(namespace, PLATFORM), []).append(event)
    received = stored = 0
    for principal, batch in by_principal.items():
        result = ingest(store, parse_events(batch, batch=True), actor=principal)
        received += result.received
        stored += result.stored
    return IngestResult(received=received, stored=stored, duplicates=received - stored)


def _recent(events: list[dict[str, Any]], start: datetime) -> list[dict[str, Any]]:
    """`events` moved to happen from `start` on, in their recorded order, their hours
    pressed into two seconds (after the policy applied just before, which judges them)."""
    times = [datetime.fromisoformat(e["eventTime"].replace("Z", "+00:00")) for e in events]
    first, span = min(times), (max(times) - min(times)) or timedelta(seconds=1)
    moved = []
    for event, time in zip(events, times, strict=True):
        at = start + timedelta(seconds=2) * ((time - first) / span)
        moved.append({**event, "eventTime": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")})
    return moved
