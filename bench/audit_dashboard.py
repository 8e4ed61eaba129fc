"""Time of the audit dashboard's figures over 1,000,000 audit records (aim: the page's
figures under 1 s together, without verify).

Fills a store with query records through `steward.audit.log.record` (1,000 a
transaction, 50 users, 200 datasets, a third masked, one in 50 denied) stamped over the
last 30 days, rolls them up (`steward.audit.rollup.refresh`: once for all, then for 1,000 new
records), then times `steward.audit.dashboard`'s functions as `/audit` calls them:
everything for the default 30-day window, for one user, and for one dataset; and
`verify`, which the page runs on opening below 200,000 records and on request above.

    python bench/audit_dashboard.py [--records 1000000] [--url postgresql://...]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import steward.audit.log as audit_log
from steward.app import Steward
from steward.audit import dashboard
from steward.audit.checkpoints import Signer
from steward.audit.dashboard import DashboardFilter
from steward.audit.log import record
from steward.audit.models import Resource
from steward.audit.rollup import refresh
from steward.audit.verify import verify
from steward.config import Settings
from steward.identity.models import Principal

USERS = [Principal(f"user{i}", frozenset({"analysts"}), token_id=f"{i:012x}") for i in range(50)]
PII = {(f"lake.sales.t{i}", "email") for i in range(200)}


def fill(steward: Steward, count: int) -> None:
    """`count` query records spread evenly over the last 30 days, oldest first."""
    start = datetime.now() - timedelta(days=30)
    step = timedelta(days=30) / max(count, 1)
    clock = {"done": 0}
    real_now = audit_log.now
    audit_log.now = lambda: start + step * clock["done"]  # type: ignore[assignment]
    try:
        while clock["done"] < count:
            with steward.store.write() as conn:
                for _ in range(min(1_000, count - clock["done"])):
                    done = clock["done"]
                    denied = done % 50 == 0
                    record(
                        conn,
                        actor=USERS[done % len(USERS)],
                        action="query",
                        resource=Resource(f"lake.sales.t{done % 200}", ("id", "email", "total")),
                        decision="denied" if denied else ("masked" if done % 3 == 0 else "allowed"),
                        policy="deny[0]" if denied else ("masks[0]" if done % 3 == 0 else None),
                        details={"reason": "denied by deny[0]"} if denied else {"rows": done % 100},
                    )
                    clock["done"] += 1
    finally:
        audit_log.now = real_now  # type: ignore[assignment]


def page_figures(steward: Steward, where: DashboardFilter) -> float:
    """Milliseconds for everything `/audit` computes, except verify."""
    started = time.perf_counter()
    refresh(steward.store)
    with steward.store.read() as conn:
        dashboard.totals(conn, where)
        dashboard.queries_per_day(conn, where)
        dashboard.pii_reads(conn, where, PII)
        dashboard.denials(conn, where)
        dashboard.top_datasets(conn, where)
        dashboard.users(conn)
        dashboard.datasets(conn)
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--url", help="a PostgreSQL store URL (an empty database)")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="steward-bench-audit-dashboard-"))
    steward = Steward(Settings(home=home, database_url=args.url))
    steward.upgrade()
    try:
        started = time.perf_counter()
        fill(steward, args.records)
        print(f"filled {args.records:,} records in {time.perf_counter() - started:.0f} s")
        started = time.perf_counter()
        refresh(steward.store)
        print(f"first rollup of {args.records:,} records: {time.perf_counter() - started:.1f} s")
        fill(steward, 1_000)
        started = time.perf_counter()
        refresh(steward.store)
        print(f"rollup of 1,000 new records: {(time.perf_counter() - started) * 1000:.0f} ms")
        since = datetime.now().date() - timedelta(days=29)
        cases = {
            "last 30 days": DashboardFilter(since=since),
            "one user": DashboardFilter(user="user7", since=since),
            "one dataset": DashboardFilter(dataset="lake.sales.t42", since=since),
        }
        for name, where in cases.items():
            times = [page_figures(steward, where) for _ in range(args.runs)]
            p50 = statistics.median(times)
            print(
                f"dashboard figures, {name}, {args.records:,} records on"
                f" {steward.store.dialect}: p50 {p50:.0f} ms over {args.runs} runs;"
                f" aim < 1000 ms: {1000 / p50:.2f}x the aim"
            )
        started = time.perf_counter()
        result = verify(steward.store, Signer.load(home), home)
        print(f"verify: {result.records:,} records in {time.perf_counter() - started:.1f} s")
    finally:
        steward.close()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
