"""Quality that producers report in OpenLineage, beside Steward's own check results.

A producer that tests data says so in a `dataQualityAssertions` facet (dbt-ol puts one
on each tested model, as an input facet of the model's test job, after `dbt test` or
`dbt build`) and measures it in `dataQualityMetrics` (row count, bytes, per-column null
and distinct counts, min, max ...). Lineage keeps each run's facets
(`dataset_run_facets`); here they become what the dataset page shows: each assertion
is a check whose history is one result per run, attributed to the job and run that
reported it (`source` openlineage), and the newest metrics.

What the caller sees follows the same rule as Steward's own checks
(`history.values_shown`): status and time always (the page is shown only to those
who may describe the dataset), observed values only where they may read the
check's columns clear.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.lineage.views import dataset_facets, facets_as_seen, iso
from steward.policy.access import TableAccess
from steward.quality.history import FLAP_WINDOW, WITHHELD, flapping, latest, values_shown
from steward.store.schema import dataset_run_facets, jobs, namespaces

SOURCE = "openlineage"
# Facets whose values are measurements of the data, shown like a check's observed values.
_MEASURED = frozenset({"dataQualityMetrics", "inputStatistics", "outputStatistics"})


def _reported(conn: Connection, dataset_id: int, facet: str) -> list[Any]:
    """Every run's `facet` on the dataset, newest first, with the job that reported it."""
    f = dataset_run_facets.c
    rows = conn.execute(
        sa.select(
            f.run_id,
            f.event_time,
            f.facet,
            namespaces.c.name.label("job_namespace"),
            jobs.c.name.label("job_name"),
        )
        .outerjoin(jobs, jobs.c.id == f.job_id)
        .outerjoin(namespaces, namespaces.c.id == jobs.c.namespace_id)
        .where(f.dataset_id == dataset_id, f.name == facet)
        .order_by(f.event_time.desc(), f.id.desc())
    )
    return list(rows)


def _job(row: Any) -> dict[str, str] | None:
    if row.job_name is None:
        return None
    return {"namespace": row.job_namespace, "name": row.job_name}


def check_name(assertion: dict[str, Any]) -> str:
    """An assertion's check: its `name`, else its kind and column (`not_null(id)`)."""
    if assertion.get("name"):
        return str(assertion["name"])
    column = assertion.get("column")
    return f"{assertion['assertion']}({column})" if column else str(assertion["assertion"])


def status_of(assertion: dict[str, Any]) -> str:
    """pass when it succeeded; a failure of a `warn` severity assertion warns, else fails."""
    if assertion.get("success"):
        return "pass"
    return "warn" if str(assertion.get("severity") or "").lower() == "warn" else "fail"


def assertion_checks(
    conn: Connection, dataset_id: int, *, access: TableAccess | None = None
) -> list[dict[str, Any]]:
    """Each assertion producers reported on the dataset: its newest result and recent ones.

    One result per run (a run reporting the same assertion twice counts once), newest
    first; `access` as in `history.latest` (None: an admin).
    """
    history: dict[tuple[str, str | None], list[tuple[Any, dict[str, Any]]]] = defaultdict(list)
    for row in _reported(conn, dataset_id, "dataQualityAssertions"):
        assertions = row.facet.get("assertions") if isinstance(row.facet, dict) else None
        seen: set[tuple[str, str | None]] = set()
        for assertion in assertions or []:
            if not isinstance(assertion, dict) or not assertion.get("assertion"):
                continue
            key = (check_name(assertion), _job_key(row))
            if key in seen:
                continue
            seen.add(key)
            history[key].append((row, assertion))
    # A denied column is absent for the caller: so are the assertions on it.
    denied = set() if access is None else {c.name for c in access.columns if c.verdict == "denied"}
    out = []
    for (name, _), results in sorted(history.items(), key=lambda item: item[0][0]):
        row, newest = results[0]
        if newest.get("column") in denied:
            continue
        statuses = [status_of(a) for _, a in results[:FLAP_WINDOW]]
        shown: dict[str, Any] = {
            "check": name,
            "source": SOURCE,
            "status": statuses[0],
            "ranAt": iso(row.event_time),
            "runId": row.run_id,
            "job": _job(row),
        }
        if not values_shown(access, newest.get("column")):
            out.append({**shown, "withheld": WITHHELD})
            continue
        shown.update(
            {
                "column": newest.get("column"),
                "kind": newest["assertion"],
                "severity": newest.get("severity") or "error",
                "success": bool(newest.get("success")),
                "observed": newest.get("actual"),
                "expected": newest.get("expected"),
                "message": newest.get("description") or "",
                "recent": statuses,
                "flapping": flapping(statuses),
            }
        )
        out.append(shown)
    return out


def _job_key(row: Any) -> str | None:
    return None if row.job_name is None else f"{row.job_namespace}:{row.job_name}"


def latest_metrics(
    conn: Connection, dataset_id: int, *, access: TableAccess | None = None
) -> dict[str, Any] | None:
    """The newest `dataQualityMetrics` reported on the dataset, with its run and job.

    Row count and bytes need every column clear; each column's metrics that column.
    """
    rows = _reported(conn, dataset_id, "dataQualityMetrics")
    if not rows or not isinstance(rows[0].facet, dict):
        return None
    row, facet = rows[0], rows[0].facet
    whole = values_shown(access, None)
    found = facet.get("columnMetrics")
    columns: dict[str, Any] = found if isinstance(found, dict) else {}
    shown_columns = {c: m for c, m in columns.items() if values_shown(access, c)}
    metrics: dict[str, Any] = {
        "source": SOURCE,
        "runId": row.run_id,
        "job": _job(row),
        "reportedAt": iso(row.event_time),
        "columnMetrics": shown_columns,
    }
    for key in ("rowCount", "bytes", "fileCount", "lastUpdated"):
        metrics[key] = facet.get(key) if whole else None
    if not whole or len(shown_columns) < len(columns):
        metrics["withheld"] = WITHHELD
    return metrics


def _facets_shown(conn: Connection, dataset_id: int, access: TableAccess | None) -> dict[str, Any]:
    """The dataset's facets as the caller may see them.

    Nothing of a denied column (`lineage.views.facets_as_seen`); no metrics of, nor
    assertions on, a column they may not read clear; no measurements at all for a caller
    who may not select the table unfiltered (they describe rows the caller cannot see).
    """
    view = dataset_facets(conn, [dataset_id])[dataset_id]
    if access is None:
        return view
    denied = frozenset(c.name for c in access.columns if c.verdict == "denied")
    unclear = frozenset(c.name for c in access.columns if c.verdict != "clear")
    view = facets_as_seen(view, denied)
    whole = access.allowed and not access.row_filters

    def shown(name: str, facet: Any) -> Any:
        if name not in _MEASURED | {"dataQualityAssertions"} or not isinstance(facet, dict):
            return facet
        if not whole:
            return {"withheld": WITHHELD}
        return facets_as_seen(
            {"facets": {name: facet}, "inputFacets": {}, "outputFacets": {}}, unclear
        )["facets"][name]

    return {
        "facets": {k: shown(k, v) for k, v in view["facets"].items()},
        **{
            kind: {
                k: {**entry, "facet": shown(k, entry["facet"])} for k, entry in view[kind].items()
            }
            for kind in ("inputFacets", "outputFacets")
        },
    }


def dataset_quality_view(
    conn: Connection, name: str, dataset_id: int, *, access: TableAccess | None = None
) -> dict[str, Any]:
    """What the dataset page shows of quality and facets.

    `quality`: Steward's own checks of `name` (`source` steward) then the assertions
    producers reported; `metrics`: the newest reported metrics; `facets`,
    `inputFacets`, `outputFacets`: as `lineage.views.dataset_facets`.
    """
    own = [{**check, "source": "steward"} for check in latest(conn, name, access=access)]
    return {
        "quality": own + assertion_checks(conn, dataset_id, access=access),
        "metrics": latest_metrics(conn, dataset_id, access=access),
        **_facets_shown(conn, dataset_id, access),
    }
