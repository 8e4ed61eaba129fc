"""A catalog sync and what follows it, as every edge runs it.

The catalog domain may not use the ones below it, so the sequence lives here: sync the
source's tables, classify the columns the sync added or renamed (so a renamed `ssn`
keeps, and a new one earns, its PII tags), and record the schema versions the sync
stated before a later sync replaces them.
"""

from __future__ import annotations

from dataclasses import dataclass

from steward.audit.log import record_change
from steward.catalog.models import Source
from steward.catalog.pii import Classified, classify_changed
from steward.catalog.sync import Progress, SyncResult, sync
from steward.identity.models import Principal
from steward.schema.history import capture
from steward.store import Store


@dataclass(frozen=True)
class SourceSync:
    """What syncing one source did: the sync's counts and columns, and the new tags."""

    result: SyncResult
    classified: list[Classified]


def sync_source(
    store: Store, source: Source, *, actor: Principal, progress: Progress | None = None
) -> SourceSync:
    """Sync `source` into the catalog as `actor`, classify changed columns, keep history."""
    result = sync(
        store,
        source,
        progress=progress,
        record=lambda conn, name, details: record_change(
            conn, actor, "catalog.sync", name, (), details
        ),
    )
    classified = classify_changed(
        store, source, [c.table for c in result.columns], principal=actor, record=record_change
    )
    with store.write() as conn:
        capture(conn)
    return SourceSync(result, classified)
