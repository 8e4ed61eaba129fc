"""Check results kept as history: each check's latest state, and flapping checks.

Every `steward quality run` stores its results (one row per check) under one run id.
A check is **flapping** when, over its last `FLAP_WINDOW` results, its status changed
between passing (pass, warn) and failing (fail, error) at least `FLAP_CHANGES` times:
a check that cannot make up its mind is a broken check or a racy pipeline, and an
alert on it is noise.

What a result shows depends on who asks (`latest(..., access=)`): its observed value,
failures and message come from the data, so only a caller who may read the check's
columns clear sees them; others see the check's name, status and time.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.policy.access import TableAccess
from steward.quality.models import CheckResult
from steward.store import Store
from steward.store.schema import quality_alert_state, quality_results

FLAP_WINDOW = 6
FLAP_CHANGES = 3
_FAILING = {"fail", "error"}


def record_results(store: Store, results: Sequence[CheckResult]) -> str:
    """Store one run's results in one transaction; returns the run id."""
    run_id = str(uuid.uuid4())
    when = datetime.now(UTC).replace(tzinfo=None)
    rows = [
        {
            "run_id": run_id,
            "dataset": r.dataset,
            "check_name": r.name,
            "column_name": r.column,
            "kind": r.kind,
            "severity": r.severity,
            "status": r.status,
            "failures": r.failures,
            "observed": None if r.observed is None else str(r.observed),
            "threshold": r.threshold,
            "message": r.message,
            "how": r.how,
            "ran_at": when,
        }
        for r in results
    ]
    if rows:
        with store.write() as conn:
            conn.execute(quality_results.insert(), rows)
    return run_id


def flapping(statuses: Sequence[str]) -> bool:
    """Whether statuses (newest first) switch between passing and failing often enough."""
    window = [s in _FAILING for s in statuses[:FLAP_WINDOW]]
    changes = sum(1 for a, b in pairwise(window) if a != b)
    return changes >= FLAP_CHANGES


WITHHELD = "values withheld: the access policy does not let you read this check's columns in clear"


def values_shown(access: TableAccess | None, column: str | None) -> bool:
    """Whether a caller with `access` (None: an admin) may see a check's values.

    A check on a column needs that column clear; a check of the whole table (a row
    count, a `sql` check) needs every column clear. Either needs the table selectable
    without a row filter: a count over rows the caller cannot see says something of them.
    """
    if access is None:
        return True
    if not access.allowed or access.row_filters:
        return False
    verdicts = {c.name: c.verdict for c in access.columns}
    wanted = [column] if column else list(verdicts)
    return all(verdicts.get(name) == "clear" for name in wanted)


def latest(
    conn: Connection, dataset: str, *, access: TableAccess | None = None
) -> list[dict[str, Any]]:
    """Each check of `dataset`: its latest result, its recent statuses and `flapping`.

    `access` is the caller's decision on the dataset (None: an admin, who sees all);
    a check whose values they may not see (`values_shown`) shows its name, status and
    time, with a note that the rest is withheld.
    """
    rows = conn.execute(
        sa.select(quality_results)
        .where(quality_results.c.dataset == dataset)
        .order_by(quality_results.c.check_name, quality_results.c.id.desc())
    ).all()
    by_check: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        if len(by_check[row.check_name]) < FLAP_WINDOW:
            by_check[row.check_name].append(row)
    out = []
    for name, recent in sorted(by_check.items()):
        newest = recent[0]
        statuses = [r.status for r in recent]
        if not values_shown(access, newest.column_name):
            out.append(
                {
                    "check": name,
                    "source": "steward",
                    "status": newest.status,
                    "ranAt": newest.ran_at.isoformat() + "Z",
                    "withheld": WITHHELD,
                }
            )
            continue
        out.append(
            {
                "check": name,
                "source": "steward",
                "column": newest.column_name,
                "kind": newest.kind,
                "severity": newest.severity,
                "status": newest.status,
                "failures": newest.failures,
                "observed": newest.observed,
                "message": newest.message,
                "ranAt": newest.ran_at.isoformat() + "Z",
                "recent": statuses,
                "flapping": flapping(statuses),
            }
        )
    return out


class StoredAlertState:
    """The alert state (`AlertState`) kept in the store: read once, written once.

    `notify` talks to receivers over the network, which must not happen inside a write
    transaction; so the states are loaded first, changed in memory, and `save()` writes
    the changes in one transaction afterwards.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        with store.read() as conn:
            self.states = {
                row.key: row.state for row in conn.execute(sa.select(quality_alert_state))
            }
        self.changed: dict[str, str] = {}

    def last(self, key: str) -> str | None:
        """The state last delivered for `key`."""
        return self.states.get(key)

    def set(self, key: str, state: str) -> None:
        """Remember that `state` was delivered for `key` (saved by `save`)."""
        self.states[key] = state
        self.changed[key] = state

    def save(self) -> None:
        """Write the changed states in one transaction."""
        if not self.changed:
            return
        when = datetime.now(UTC).replace(tzinfo=None)
        with self.store.write() as conn:
            conn.execute(
                quality_alert_state.delete().where(
                    quality_alert_state.c.key.in_(list(self.changed))
                )
            )
            conn.execute(
                quality_alert_state.insert(),
                [{"key": k, "state": v, "updated_at": when} for k, v in self.changed.items()],
            )
        self.changed = {}


def alert(store: Store, results: Sequence[CheckResult], settings: Any) -> list[str]:
    """Send alerts for checks that started failing or recovered; what was not delivered."""
    from steward.quality.alerts import CheckOutcome, notify

    if not (settings.quality_alertmanager_url or settings.quality_webhook_url):
        return []
    state = StoredAlertState(store)
    report = notify(
        [
            CheckOutcome(
                dataset=r.dataset,
                check=r.name,
                severity=r.severity,
                status=r.status,
                message=r.message,
            )
            for r in results
        ],
        state=state,
        alertmanager_url=settings.quality_alertmanager_url,
        webhook_url=settings.quality_webhook_url,
    )
    state.save()
    return [
        f"{a.receiver}: {a.outcome.dataset} {a.outcome.check} ({a.reason})"
        for a in report.undelivered
    ]


def dbt_results(store: Store, imported: Sequence[Any]) -> list[CheckResult]:
    """dbt test results (`interop.ImportedResult`) as check results, named in the catalog.

    A tested relation (`database.schema.identifier`, its OpenLineage name) is reported
    under its catalog name when a catalog source found it (a dbt or database source),
    else under that name. dbt's `skipped` is left out; `warn` stays a warning.
    """
    from steward.store.schema import catalog_entries, datasets

    names = sorted({r.dataset for r in imported if r.dataset})
    catalog: dict[str, str] = {}
    if names:
        with store.read() as conn:
            rows = conn.execute(
                sa.select(datasets.c.name, catalog_entries.c.name.label("entry"))
                .join(catalog_entries, catalog_entries.c.dataset_id == datasets.c.id)
                .where(datasets.c.name.in_(names))
            )
            catalog = {row.name: row.entry for row in rows}
    out = []
    for r in imported:
        if r.status == "skipped" or not r.dataset:
            continue
        out.append(
            CheckResult(
                name=f"dbt:{r.test_name}",
                dataset=catalog.get(r.dataset, r.dataset),
                column=r.column,
                kind=r.kind,
                severity="warn" if r.severity.lower() == "warn" else "error",
                status=r.status,
                failures=r.failures,
                observed=r.failures,
                threshold="dbt",
                message=r.message or "",
                how="dbt run_results",
            )
        )
    return out
