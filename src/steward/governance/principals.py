"""Who ran a job's run: a configured service principal, else the token that posted it.

`[[lineage.principals]]` in steward.toml maps job namespaces and producers (glob
patterns) to a service principal with groups: an Airflow deployment's identity, a Spark
service account. The first mapping matching a run's job namespace and producer names
its principal; without one, the principal of the token (or OIDC identity) that posted
the run's first event does (`runs.principal_*`, kept at ingest).
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.config import PrincipalMapping
from steward.governance.models import RunPrincipal
from steward.store.schema import jobs, lineage_events, namespaces, runs

UNKNOWN = RunPrincipal(user=None)


def mapped_principal(
    mappings: Sequence[PrincipalMapping], namespace: str, producer: str | None
) -> RunPrincipal | None:
    """The principal the first matching mapping names for a job namespace and producer."""
    for index, mapping in enumerate(mappings):
        if mapping.namespace is not None and not fnmatch.fnmatchcase(namespace, mapping.namespace):
            continue
        if mapping.producer is not None and not fnmatch.fnmatchcase(
            producer or "", mapping.producer
        ):
            continue
        return RunPrincipal(
            user=mapping.user,
            groups=tuple(sorted(set(mapping.groups))),
            source="mapping",
            mapping=f"lineage_principals[{index}]",
        )
    return None


def _groups(value: Any) -> tuple[str, ...]:
    """The poster's groups as stored: a JSON list as text (or already decoded)."""
    if value is None:
        return ()
    decoded = json.loads(value) if isinstance(value, str) else value
    return tuple(sorted({str(g) for g in decoded or []}))


def _poster_columns() -> list[sa.Column[Any]]:
    return [runs.c.principal_user, runs.c.principal_groups, runs.c.principal_token]


def run_principals(
    conn: Connection, run_ids: Sequence[str], mappings: Sequence[PrincipalMapping]
) -> dict[str, RunPrincipal]:
    """Each run's principal: a mapping of its job namespace and producer, else its poster."""
    if not run_ids:
        return {}
    wanted = sorted(set(run_ids))
    first_event = (
        sa.select(lineage_events.c.run_id, sa.func.min(lineage_events.c.id).label("first"))
        .where(lineage_events.c.run_id.in_(wanted))
        .group_by(lineage_events.c.run_id)
        .subquery()
    )
    producers = dict(
        conn.execute(
            sa.select(first_event.c.run_id, lineage_events.c.producer).join(
                lineage_events, lineage_events.c.id == first_event.c.first
            )
        ).all()
    )
    rows = conn.execute(
        sa.select(runs.c.run_id, namespaces.c.name.label("namespace"), *_poster_columns())
        .join(jobs, jobs.c.id == runs.c.job_id)
        .join(namespaces, namespaces.c.id == jobs.c.namespace_id)
        .where(runs.c.run_id.in_(wanted))
    ).all()
    out: dict[str, RunPrincipal] = {}
    for row in rows:
        mapped = mapped_principal(mappings, row.namespace, producers.get(row.run_id))
        if mapped is not None:
            out[row.run_id] = mapped
        elif row.principal_user is not None:
            out[row.run_id] = RunPrincipal(
                user=row.principal_user,
                groups=_groups(row.principal_groups),
                source="poster",
                token_id=row.principal_token,
            )
        else:
            out[row.run_id] = UNKNOWN
    return out


def principal_json(principal: RunPrincipal) -> dict[str, Any]:
    """A run's principal and how it was known, as the API and reports show it."""
    return {
        "user": principal.user,
        "groups": list(principal.groups),
        "source": principal.source,
        "mapping": principal.mapping,
    }
