"""Rebuild the lineage graph from the raw log: `steward lineage replay`.

Identities stay: namespaces, datasets, jobs, schema versions (with their fields) and job
versions keep their ids, because the catalog, schema history and quality results refer
to them and the normaliser remembers them (`lineage.known`); applying the same events
finds them again. Everything else the events stated is cleared and stated again: runs and
their states, inputs and outputs, edges and column edges, per-run facets, owners, tags,
symlinks, and the facet columns of datasets and jobs.
"""

from __future__ import annotations

import sqlalchemy as sa

from steward.lineage.normaliser import BATCH, normalise_once
from steward.lineage.run_facets import NOT_YET_REPORTED
from steward.store import Store
from steward.store.locks import one_writer_at_a_time
from steward.store.schema import (
    column_edges,
    column_lineage_heads,
    dataset_owners,
    dataset_run_facets,
    dataset_symlinks,
    dataset_tags,
    datasets,
    jobs,
    lineage_cursor,
    lineage_edges,
    lineage_events,
    run_io,
    run_states,
    runs,
)

# Children before parents (run_states and run_io refer to runs).
_CLEARED = (
    run_states,
    run_io,
    dataset_run_facets,
    column_edges,
    column_lineage_heads,
    lineage_edges,
    runs,
    dataset_owners,
    dataset_tags,
    dataset_symlinks,
)


def replay(store: Store, *, limit: int = BATCH) -> int:
    """Clear what the events stated, reset the cursor and apply the whole raw log again.

    Returns how many raw events were applied. Run it with no normaliser running (stop
    `steward serve`); on PostgreSQL it waits for appends in flight and holds the cursor.
    """
    with store.write() as conn:
        one_writer_at_a_time(conn, "lineage.append")
        conn.execute(sa.select(lineage_cursor.c.applied_id).with_for_update()).all()
        for table in _CLEARED:
            conn.execute(table.delete())
        conn.execute(
            datasets.update().values(
                updated_at=datasets.c.created_at,
                description=None,
                source_name=None,
                source_uri=None,
                lifecycle_state=None,
                deleted_at=None,
                current_version_id=None,
                facets={},
            )
        )
        # A job not yet reported is dated NOT_YET_REPORTED, earlier than any event.
        conn.execute(
            jobs.update().values(
                updated_at=NOT_YET_REPORTED,
                description=None,
                job_type=None,
                integration=None,
                processing_type=None,
                source_code_location=None,
                facets={},
                current_version_id=None,
                latest_run_id=None,
                io_run_id=None,
                io_time=None,
            )
        )
        conn.execute(lineage_events.update().values(apply_error=None))
        conn.execute(lineage_cursor.update().values(applied_id=0, applied_at=None))
    total = 0
    while True:
        applied = normalise_once(store, limit=limit)
        if not applied.count:
            return total
        total += applied.count
