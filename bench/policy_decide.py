"""The policy's share of a governed query's fixed cost, with a real applied policy.

`bench/policy_overhead.py` decides tables with a hand-made `TableAccess`; this times
what the query path does with the applied policy for each query: read the active
version (`access_for`), decide one table (masks, a row filter bound to the caller) and
build its secure view in DuckDB and Spark SQL. Prints the time per query.

    python bench/policy_decide.py [--queries 2000] [--masks 6]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from steward.app import Steward
from steward.config import Settings
from steward.identity.models import Principal
from steward.policy.secure import secure_view
from steward.policy.versions import apply
from steward.policy.wiring import access_for

TABLE = "lake.crm.customers"
PRINCIPAL = Principal(user="eve", groups=frozenset({"analysts-eu"}))
COLUMNS = [(f"c{i}", frozenset({"pii"} if i % 2 else set())) for i in range(20)]
MASKS = ("email", "hash", "last4", "redact", "round", "null")


def policy_text(masks: int) -> str:
    """A policy with `masks` masks on tagged and named columns, and two row filters."""
    lines = [
        "roles:",
        "  eu-analyst: {groups: [analysts-eu]}",
        "grants:",
        "  - {roles: [eu-analyst], select: ['lake.*']}",
        "masks:",
    ]
    for i in range(masks):
        kind = MASKS[i % len(MASKS)]
        lines += [f"  - columns: [c{2 * i + 1}]", f"    mask: '{kind}'"]
    lines += [
        "row_filters:",
        f"  - {{table: {TABLE}, roles: [eu-analyst], where: \"c0 = 'EU'\"}}",
        f"  - {{table: {TABLE}, roles: [eu-analyst], where: 'c2 = current_user'}}",
    ]
    return "\n".join(lines) + "\n"


def one_query(steward: Steward) -> None:
    """What the query path does with the policy for one query naming one table."""
    access = access_for(steward, PRINCIPAL).table(TABLE, COLUMNS)
    view = secure_view(access, "t", [c for c, _ in COLUMNS])
    for dialect in ("duckdb", "spark"):
        view.sql(dialect=dialect)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--masks", type=int, default=6)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        steward = Steward(Settings(home=Path(tmp) / "home"))
        steward.upgrade()
        try:
            apply(steward.store, policy_text(args.masks), actor=None, check_catalog=False)
            one_query(steward)  # warm: the first query reads and parses the version
            times = []
            for _ in range(args.queries):
                start = time.perf_counter()
                one_query(steward)
                times.append(time.perf_counter() - start)
        finally:
            steward.close()
    median = statistics.median(times) * 1000
    print(
        f"policy per query ({args.masks} masks, 2 row filters, 1 table):"
        f" {median:.3f} ms median, {max(times) * 1000:.3f} ms max over {args.queries} queries"
    )


if __name__ == "__main__":
    main()
