"""Records/s appended to the audit chain, and seconds to verify 1,000,000 records.

Appends through `steward.audit.log.record` exactly as the other domains do: first one
record a transaction (a query audited on its own), then 100 a transaction (a batch);
then fills the log to `--verify` records (1,000 a transaction) and times
`steward.audit.verify.verify` walking the whole chain. Prints each figure and its ratio
to the aim (5,000 records/s; verify 1,000,000 in under 10 s: a ratio above 1 beats it).

    python bench/audit_append.py [--single 5000] [--verify 1000000] [--url postgresql://...]
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from steward.app import Steward
from steward.audit.checkpoints import Signer, make_checkpoint
from steward.audit.log import record
from steward.audit.models import Resource
from steward.audit.verify import verify
from steward.config import Settings
from steward.identity.models import Principal

OUT = Path(__file__).parent / "out" / "audit"
AIM_APPEND = 5_000.0
AIM_VERIFY = 10.0
ACTORS = [
    Principal(f"user{i}", frozenset({"analysts", f"team{i % 7}"}), token_id=f"{i:012x}")
    for i in range(50)
]


def append(steward: Steward, count: int, per_transaction: int) -> float:
    """Seconds to append `count` realistic query records, `per_transaction` at a time."""
    started = time.perf_counter()
    done = 0
    while done < count:
        with steward.store.write() as conn:
            for _ in range(min(per_transaction, count - done)):
                actor = ACTORS[done % len(ACTORS)]
                record(
                    conn,
                    actor=actor,
                    action="query",
                    resource=Resource(f"lake.sales.t{done % 200}", ("id", "email", "total")),
                    decision="masked" if done % 3 == 0 else "allowed",
                    policy="mask_email" if done % 3 == 0 else None,
                    details={
                        "sql": f"SELECT id, email, total FROM t{done % 200} WHERE id > {done}",
                        "engine": "duckdb",
                        "rows": done % 1000,
                    },
                )
                done += 1
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--single", type=int, default=5_000)
    parser.add_argument("--verify", type=int, default=1_000_000)
    parser.add_argument("--url", default=None, help="a PostgreSQL URL (an empty database)")
    args = parser.parse_args()
    shutil.rmtree(OUT, ignore_errors=True)
    steward = Steward(Settings(home=OUT, database_url=args.url))
    steward.upgrade()
    print(f"store: {steward.store.dialect}")

    seconds = append(steward, args.single, 1)
    rate = args.single / seconds
    print(
        f"append, 1 record a transaction:    {rate:9,.0f} records/s  ({rate / AIM_APPEND:.2f}x aim)"
    )
    seconds = append(steward, args.single * 4, 100)
    rate = args.single * 4 / seconds
    print(
        f"append, 100 records a transaction: {rate:9,.0f} records/s  ({rate / AIM_APPEND:.2f}x aim)"
    )

    with steward.store.read() as conn:
        have = int(conn.exec_driver_sql("SELECT count(*) FROM audit_records").scalar_one())
    fill = max(0, args.verify - have)
    started = time.perf_counter()
    append(steward, fill, 1_000)
    print(f"filled to {args.verify:,} records in {time.perf_counter() - started:.0f} s")
    signer = Signer.load(OUT)
    make_checkpoint(steward.store, signer, OUT)
    started = time.perf_counter()
    result = verify(steward.store, signer, OUT)
    seconds = time.perf_counter() - started
    assert result.ok, result.message
    print(
        f"verify {result.records:,} records: {seconds:6.2f} s"
        f"  ({AIM_VERIFY / seconds:.2f}x the aim; {result.records / seconds:,.0f} records/s)"
    )
    steward.close()


if __name__ == "__main__":
    main()
