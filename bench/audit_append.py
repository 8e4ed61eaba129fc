"""Records/s appended to the audit chain, and seconds to verify 1,000,000 records.

First the ceiling: a raw SQLite append (stdlib sqlite3, one INSERT and one COMMIT a
record, WAL and synchronous=NORMAL as the store uses, the same columns and indexes)
from one thread, measured in this run. Then records one at a time as the query path
writes them (`steward.audit`, the group-commit writer), from `--threads` threads at once
and from one thread; then one record a transaction through `audit.log.record` inside
the caller's transaction (a change audited with itself), and 100 a transaction (a
batch). Each rate is printed beside the aim (5,000 records/s) and beside the raw
ceiling (the ratio holds across machines); with `--url`, also beside a raw PostgreSQL
append (psycopg, one INSERT and one COMMIT a record) on that server. Then fills the log
to `--verify` records (1,000 a transaction) and times `steward.audit.verify.verify`
walking the whole chain (aim: 1,000,000 in under 10 s; a ratio above 1 beats it).

    python bench/audit_append.py [--single 5000] [--threads 8] [--verify 1000000]
        [--url postgresql://...]
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sqlite3
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

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


def fields(n: int) -> dict[str, Any]:
    """The `n`th realistic query record."""
    return {
        "actor": ACTORS[n % len(ACTORS)],
        "action": "query",
        "resource": Resource(f"lake.sales.t{n % 200}", ("id", "email", "total")),
        "decision": "masked" if n % 3 == 0 else "allowed",
        "policy": "mask_email" if n % 3 == 0 else None,
        "details": {
            "sql": f"SELECT id, email, total FROM t{n % 200} WHERE id > {n}",
            "engine": "duckdb",
            "rows": n % 1000,
        },
    }


def append(steward: Steward, count: int, per_transaction: int) -> float:
    """Seconds to append `count` realistic query records, `per_transaction` at a time,
    inside the caller's transaction (`record(conn, ...)`)."""
    started = time.perf_counter()
    done = 0
    while done < count:
        with steward.store.write() as conn:
            for _ in range(min(per_transaction, count - done)):
                record(conn, **fields(done))
                done += 1
    return time.perf_counter() - started


def one_at_a_time(steward: Steward, count: int, threads: int) -> tuple[float, float]:
    """Seconds for `threads` threads to append `count` records in all, each one record
    at a time through the group-commit writer, as queries are audited; and the process's
    CPU seconds meanwhile (steadier than the wall clock on a shared machine)."""
    each = count // threads

    def work(index: int) -> None:
        for i in range(each):
            steward.audit.append(**fields(index * each + i))

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    started = time.perf_counter()
    cpu = time.process_time()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.perf_counter() - started, time.process_time() - cpu


def raw_row(n: int, at: object, prev: str, digest: str) -> tuple[object, ...]:
    """The `n`th record of the raw appends, with its time as the driver takes it."""
    return (
        n + 1,
        at,
        f"user{n % 50}",
        '["analysts"]',
        f"{n % 50:012x}",
        "query",
        f"lake.sales.t{n % 200}",
        '["email","id","total"]',
        "allowed",
        None,
        f'{{"engine":"duckdb","rows":{n % 1000},"sql":"SELECT id FROM t WHERE id > {n}"}}',
        prev,
        digest,
    )


def raw_sqlite_append(directory: Path, count: int) -> float:
    """Records/s of the floor: stdlib sqlite3, one INSERT and one COMMIT a record."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "raw.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(
        "CREATE TABLE r (seq INTEGER PRIMARY KEY, recorded_at TEXT NOT NULL, actor_user TEXT,"
        " actor_groups TEXT NOT NULL, actor_token_id TEXT, action TEXT NOT NULL, dataset TEXT,"
        " columns TEXT NOT NULL, decision TEXT NOT NULL, policy TEXT, details TEXT NOT NULL,"
        " prev_hash TEXT NOT NULL, hash TEXT NOT NULL UNIQUE)"
    )
    for column in ("recorded_at", "actor_user", "action", "dataset"):
        conn.execute(f"CREATE INDEX ix_{column} ON r ({column})")
    conn.execute("CREATE INDEX ix_decision_seq ON r (decision, seq)")
    prev = "0" * 64
    started = time.perf_counter()
    for n in range(count):
        digest = hashlib.sha256(f"{prev}{n}".encode()).hexdigest()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT INTO r VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            raw_row(n, "2026-11-29 10:00:00.123456", prev, digest),
        )
        conn.execute("COMMIT")
        prev = digest
    seconds = time.perf_counter() - started
    conn.close()
    return count / seconds


def raw_postgres_append(url: str, count: int) -> float:
    """Records/s of PostgreSQL's floor: psycopg, one INSERT and one COMMIT a record, into a
    table of the same columns and indexes (dropped afterwards)."""
    import psycopg

    conninfo = sa.make_url(url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(conninfo) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_raw_append")
        conn.execute(
            "CREATE TABLE bench_raw_append (seq BIGINT PRIMARY KEY, recorded_at TIMESTAMP NOT NULL,"
            " actor_user TEXT, actor_groups TEXT NOT NULL, actor_token_id TEXT, action TEXT NOT"
            " NULL, dataset TEXT, columns TEXT NOT NULL, decision TEXT NOT NULL, policy TEXT,"
            " details TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL UNIQUE)"
        )
        for column in ("recorded_at", "actor_user", "action", "dataset"):
            conn.execute(f"CREATE INDEX ON bench_raw_append ({column})")
        conn.commit()
        prev = "0" * 64
        started = time.perf_counter()
        for n in range(count):
            digest = hashlib.sha256(f"{prev}{n}".encode()).hexdigest()
            conn.execute(
                "INSERT INTO bench_raw_append VALUES"
                " (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                raw_row(n, datetime(2026, 11, 29, 10, 0, 0, 123456), prev, digest),
            )
            conn.commit()
            prev = digest
        seconds = time.perf_counter() - started
        conn.execute("DROP TABLE bench_raw_append")
        conn.commit()
    return count / seconds


def show(label: str, rate: float, ceiling: float, floor: float | None) -> None:
    beside = f", {rate / floor:.2f}x raw PostgreSQL" if floor else ""
    print(
        f"{label:<44} {rate:9,.0f} records/s  ({rate / AIM_APPEND:.2f}x aim,"
        f" {rate / ceiling:.2f}x raw SQLite{beside})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--single", type=int, default=5_000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--verify", type=int, default=1_000_000)
    parser.add_argument("--url", default=None, help="a PostgreSQL URL (an empty database)")
    args = parser.parse_args()
    shutil.rmtree(OUT, ignore_errors=True)
    steward = Steward(Settings(home=OUT, database_url=args.url))
    steward.upgrade()
    print(f"store: {steward.store.dialect}")

    ceiling = raw_sqlite_append(OUT, args.single)
    print(f"{'ceiling: raw SQLite append, 1 a commit':<44} {ceiling:9,.0f} records/s")
    floor = None
    if args.url:
        floor = raw_postgres_append(args.url, args.single)
        print(
            f"{'raw PostgreSQL append, 1 a commit':<44} {floor:9,.0f} records/s"
            f"  ({floor / ceiling:.2f}x raw SQLite; what one commit a record costs here)"
        )
    count = args.single - args.single % args.threads
    seconds, cpu = one_at_a_time(steward, count, args.threads)
    groups = steward.audit.groups
    show(f"one at a time, {args.threads} threads (group commit)", count / seconds, ceiling, floor)
    print(
        f"{'':<44} {count / max(groups, 1):9.1f} records a commit on average,"
        f" {cpu / count * 1e6:.0f} us CPU a record"
    )
    seconds, cpu = one_at_a_time(steward, args.single, 1)
    show("one at a time, 1 thread (group commit)", args.single / seconds, ceiling, floor)
    print(f"{'':<44} {cpu / args.single * 1e6:9.0f} us CPU a record")
    seconds = append(steward, args.single, 1)
    show("record(conn) in its own transaction", args.single / seconds, ceiling, floor)
    seconds = append(steward, args.single * 4, 100)
    show("record(conn), 100 a transaction", args.single * 4 / seconds, ceiling, floor)

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
