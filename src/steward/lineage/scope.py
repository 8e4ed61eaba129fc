"""What one caller may see of the metadata: the seam the policy domain fills in.

Lineage and the catalog answer questions about datasets and jobs; whether a caller may
see a dataset's details and columns is the access policy's decision (its `describe`),
and the policy domain sits above these in the layering. So listings, graphs, search and
dataset pages take a `Sight`, which the policy domain implements; `None` means the
whole of the metadata (an admin, or the CLI administering the installation).

Two facts are lineage's own and live here: query lineage (job namespace
`steward://query`, consumers in `steward://consumer`, one job and one consumer named
after each user or client) says who read which column, so a caller sees only the nodes
named after themselves; and a raw event belongs to whoever sent it, which the
`lineage.ingest` audit record of its call says.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.store.schema import audit_records, datasets, jobs, namespaces

QUERY_JOB_NAMESPACE = "steward://query"
CONSUMER_NAMESPACE = "steward://consumer"


@dataclass(frozen=True)
class Hidden:
    """Nodes (row ids) a caller never sees: other users' query lineage."""

    datasets: frozenset[int] = frozenset()
    jobs: frozenset[int] = frozenset()


class Sight(Protocol):
    """One caller's view of the metadata, decided once per request."""

    user: str

    def hidden(self, conn: Connection) -> Hidden:
        """Datasets and jobs left out of every answer (graph, listing, search)."""
        ...  # pragma: no cover

    def describable(self, conn: Connection) -> frozenset[str]:
        """The catalog names of the datasets the caller may describe."""
        ...  # pragma: no cover

    def withheld(
        self, conn: Connection, dataset_ids: Collection[int]
    ) -> dict[int, frozenset[str] | None]:
        """For each dataset: None if the caller may not describe it, else its denied columns."""
        ...  # pragma: no cover


def others_query_lineage(conn: Connection, user: str) -> Hidden:
    """The query jobs and consumer datasets not named after `user`."""
    found: dict[str, frozenset[int]] = {}
    for key, table, namespace in (
        ("datasets", datasets, CONSUMER_NAMESPACE),
        ("jobs", jobs, QUERY_JOB_NAMESPACE),
    ):
        rows = conn.execute(
            sa.select(table.c.id)
            .join(namespaces, namespaces.c.id == table.c.namespace_id)
            .where(namespaces.c.name == namespace, table.c.name != user)
        ).scalars()
        found[key] = frozenset(int(i) for i in rows)
    return Hidden(datasets=found["datasets"], jobs=found["jobs"])


def own_consumer(conn: Connection, user: str) -> int | None:
    """The row id of `user`'s consumer dataset (what their queries read), if any."""
    found = conn.execute(
        sa.select(datasets.c.id)
        .join(namespaces, namespaces.c.id == datasets.c.namespace_id)
        .where(namespaces.c.name == CONSUMER_NAMESPACE, datasets.c.name == user)
    ).scalar()
    return None if found is None else int(found)


def posted_jobs(conn: Connection, user: str) -> frozenset[str]:
    """`namespace:name` of the jobs whose events `user` sent (their `lineage.ingest` records).

    Each record names at most 100 jobs of its call; events of further jobs in a larger
    batch stay hidden from their sender (admins see them). A query job counts only when
    named after `user`: a client's name may be shared by several users.
    """
    rows = conn.execute(
        sa.select(audit_records.c.details).where(
            audit_records.c.action == "lineage.ingest", audit_records.c.actor_user == user
        )
    ).scalars()
    named: set[str] = set()
    for details in rows:
        jobs_named: Any = orjson.loads(details).get("jobs") or []
        named.update(str(job) for job in jobs_named)
    prefix = QUERY_JOB_NAMESPACE + ":"
    return frozenset(j for j in named if not j.startswith(prefix) or j == prefix + user)


def strip_dataset(details: dict[str, Any], withheld: frozenset[str] | None) -> dict[str, Any]:
    """A lineage dataset node's details as the caller may see them.

    Not describable (`withheld` None): its id, namespace, name and state only, no fields,
    tags, owners, description or symlinks. Describable: without the denied fields.
    """
    if withheld is None:
        return {
            "id": details["id"],
            "namespace": details["namespace"],
            "name": details["name"],
            "deleted": details["deleted"],
            "described": False,
        }
    if not withheld:
        return details
    fields = [f for f in details["fields"] if f["name"] not in withheld]
    tags = [t for t in details["tags"] if t.get("field") not in withheld]
    return {**details, "fields": fields, "tags": tags}
