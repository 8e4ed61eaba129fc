"""The demo's lineage: commits -> a Flink ingest job -> Iceberg -> a dbt model -> an API
endpoint -> a dashboard, as OpenLineage events.

The dbt model's events come from a real `dbt-ol run` of the demo's dbt project when
`dbt-ol` is on PATH (`demo.dbt`), else from a recording of such a run. The other jobs'
events are recorded ones, shaped as the Flink integration and the Python client send
them. All recordings are shipped as package data (`files/lineage.ndjson`). An Iceberg
table's OpenLineage identity is its location, and the dbt project's DuckDB namespace is
its file's path, both under the demo's home, so the recorded events name them by the
placeholders `steward-demo-lake` and `duckdb://steward-demo-dbt`, given the real names
here before they are stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from steward.identity.models import Principal

if TYPE_CHECKING:
    from steward.lineage.ingest import IngestResult
    from steward.store import Store

PLACEHOLDER = "steward-demo-lake"
DBT_PLACEHOLDER = "duckdb://steward-demo-dbt"
# The job namespace of the dbt model's events (dbt-ol's OPENLINEAGE_NAMESPACE).
DBT_JOBS = "dbt"


def recorded_events(
    locations: Mapping[str, str], *, dbt_namespace: str = DBT_PLACEHOLDER
) -> list[dict[str, Any]]:
    """The shipped events, with each `lake.*` table given its identity from `locations`
    (catalog name -> table location) and the dbt project's DuckDB `dbt_namespace`."""
    from steward.connectors.iceberg import location_identity

    identities = {}
    for name, location in locations.items():
        identity = location_identity(location)
        identities[name.removeprefix("lake.")] = (identity.namespace, identity.name)
    text = files("steward.demo").joinpath("files", "lineage.ndjson").read_bytes()
    events = [orjson.loads(line) for line in text.splitlines() if line.strip()]
    return [_located(event, identities, dbt_namespace) for event in events]


def _located(value: Any, identities: Mapping[str, tuple[str, str]], dbt_namespace: str) -> Any:
    if isinstance(value, list):
        return [_located(item, identities, dbt_namespace) for item in value]
    if value == DBT_PLACEHOLDER:  # a namespace, or a dataSource facet's name and uri
        return dbt_namespace
    if not isinstance(value, dict):
        return value
    found = {key: _located(item, identities, dbt_namespace) for key, item in value.items()}
    if found.get("namespace") == PLACEHOLDER and found.get("name") in identities:
        found["namespace"], found["name"] = identities[found["name"]]
    return found


def is_dbt_event(event: Mapping[str, Any]) -> bool:
    """Whether `event` is one of the dbt project's (its job is in the dbt namespace)."""
    return bool(event.get("job", {}).get("namespace") == DBT_JOBS)


# Who runs the demo's jobs: the token each job's events are posted with. The dbt project
# runs as an EU analyst's service account, which reads users of every region and the
# commits table its role is not granted: `steward lineage check` and `steward evidence`
# find both. The platform's own jobs run as the platform team.
JOB_PRINCIPALS = {
    DBT_JOBS: Principal(user="svc-dbt", groups=frozenset({"analysts-eu"})),
}
PLATFORM = Principal(user="svc-platform", groups=frozenset({"platform"}))


@dataclass(frozen=True)
class LineageSent:
    """What `send_lineage` stored, and where the dbt model's events came from."""

    result: IngestResult
    dbt_from: str  # "dbt-ol" (a real run) or "recorded"
    dbt_seconds: float | None = None  # how long the real run took
    dbt_producer: str | None = None
    dbt_failure: str | None = None  # why a real run was tried and the recording stored


def send_lineage(
    store: Store,
    home: Path,
    locations: Mapping[str, str],
    *,
    dbt_ol: Path | None = None,
    now: datetime | None = None,
) -> LineageSent:
    """Store the demo's events, each job's as its principal; events stored before change
    nothing.

    With `dbt_ol`, the dbt model's events are those of a real `dbt-ol run` (`demo.dbt`);
    else, or when that run fails (`dbt_failure` says why), the recorded ones. Recorded
    events are moved to happen from `now` on (those after the dbt model's, after the real
    run), so that the policy applied before them judges them.
    """
    from steward.demo.dbt import DbtRunFailed, dbt_namespace, run_dbt_ol

    recorded = recorded_events(locations, dbt_namespace=dbt_namespace(home))
    start = now or datetime.now(UTC)
    run, failure = None, None
    if dbt_ol is not None:
        try:
            run = run_dbt_ol(home, dbt_ol)
        except DbtRunFailed as exc:
            failure = exc.message
    if run is None:
        events = _recent(recorded, start)
        result = _ingest(store, events)
        return LineageSent(result, dbt_from="recorded", dbt_failure=failure)
    first_dbt = next(i for i, e in enumerate(recorded) if is_dbt_event(e))
    before = [e for e in recorded[:first_dbt] if not is_dbt_event(e)]
    after = [e for e in recorded[first_dbt:] if not is_dbt_event(e)]
    end = max(datetime.now(UTC), start)
    events = [*_recent(before, start), *run.events, *_recent(after, end)]
    return LineageSent(
        _ingest(store, events),
        dbt_from="dbt-ol",
        dbt_seconds=run.seconds,
        dbt_producer=str(run.events[0].get("producer", "")),
    )


def _ingest(store: Store, events: list[dict[str, Any]]) -> IngestResult:
    """Store `events` in batches by the principal each job runs as."""
    from steward.lineage.ingest import IngestResult, ingest, parse_events

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
