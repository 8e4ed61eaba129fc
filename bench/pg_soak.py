"""Steward on PostgreSQL behind 1, 2 and 4 API workers: ingest, audit and query rates.

For each worker count, a fresh database and a fresh `steward serve --workers N`; then
`--producers` client threads do one thing at a time for `--seconds` each:

- events/s single: OpenLineage events (20-column schemas, column lineage), one a request;
- events/s batched: the same events, `--batch` a request (`/api/v1/lineage/batch`);
- audit records/s: Trino query events (`/api/v1/audit/trino`), one audit record each;
- governed queries/s: `POST /api/v1/query` as an analyst whose email column is masked;

and prints one table, with every failed request (non-2xx or timeout) counted as an error.

`--minutes N` soaks instead: one server (`--workers`, default 2), every producer cycling
through the four kinds for N minutes, and a line per `--every` seconds with each kind's
requests, p50/p95/p99 latency and errors, then every distinct error seen.

    python bench/pg_soak.py [--workers 1 2 4] [--seconds 15] [--url postgresql://...]
    python bench/pg_soak.py --minutes 10 --workers 2

The client threads run on the same machine as the server (2 cores here): the figures are
what this machine serves with its client's cost on it, not the server's ceiling.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import cycle
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.postgres import new_database  # the repository root is on sys.path (below)

from events import events  # bench/ is on sys.path when run
from live_server import serve
from steward.app import Steward
from steward.catalog.sync import sync
from steward.config import Settings
from steward.connectors.iceberg import lake_catalog
from steward.identity.tokens import create_token
from steward.policy.versions import apply

LOCAL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
KINDS = ("single", "batched", "audit", "query")
POLICY = """\
roles:
  analyst: {groups: [analysts]}
grants:
  - roles: [analyst]
    select: ["lake.shop.*"]
masks:
  - columns: [email]
    mask: email
"""
# A QueryCompletedEvent as Trino's HTTP event listener posts it (the audit tests' own).
TRINO_EVENT = (
    Path(__file__).parent.parent / "tests" / "audit" / "fixtures" / "trino_select_masked.json"
).read_bytes()
QUERY = "SELECT region, count(*) AS customers FROM lake.shop.customers GROUP BY region"


@dataclass
class Target:
    """A running server and the tokens the producers use."""

    url: str
    admin: str
    analyst: str


@dataclass
class Tally:
    """Requests, items (events or records) and latencies per kind, and errors; thread-safe."""

    items: Counter[str] = field(default_factory=Counter)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ok(self, kind: str, items: int, seconds: float) -> None:
        with self.lock:
            self.items[kind] += items
            self.latencies[kind].append(seconds)

    def failed(self, kind: str, what: str) -> None:
        with self.lock:
            self.errors[f"{kind}: {what}"] += 1

    def take(self) -> Tally:
        """What was counted so far, and start counting afresh."""
        with self.lock:
            taken = Tally(self.items, self.latencies, self.errors)
            self.items, self.latencies, self.errors = Counter(), defaultdict(list), Counter()
            return taken


class Producer:
    """One client thread's requests: each call sends one request of a kind and tallies it."""

    def __init__(self, index: int, target: Target, tally: Tally, batch: int) -> None:
        self.client = httpx.Client(base_url=target.url, timeout=60)
        self.admin = {"Authorization": f"Bearer {target.admin}"}
        self.analyst = {"Authorization": f"Bearer {target.analyst}"}
        self.tally, self.batch = tally, batch
        self.seeds = itertools.count(index * 10_000_000)
        self.trino = orjson.loads(TRINO_EVENT)

    def send(self, kind: str) -> None:
        """One request of `kind`; its latency and item count, or its error, go to the tally."""
        if kind == "single":
            path, body, items = "/api/v1/lineage", events(1, seed=next(self.seeds))[0], 1
        elif kind == "batched":
            path, body = "/api/v1/lineage/batch", events(self.batch, seed=next(self.seeds))
            items = self.batch
        elif kind == "audit":
            self.trino["metadata"]["queryId"] = f"soak_{uuid.uuid4().hex}"
            path, body, items = "/api/v1/audit/trino", self.trino, 1
        else:
            path, body, items = "/api/v1/query", {"sql": QUERY}, 1
        headers = self.analyst if kind == "query" else self.admin
        started = time.perf_counter()
        try:
            answer = self.client.post(
                path,
                content=orjson.dumps(body),
                headers={**headers, "Content-Type": "application/json"},
            )
        except httpx.HTTPError as exc:
            self.tally.failed(kind, type(exc).__name__)
            return
        if answer.is_success:
            self.tally.ok(kind, items, time.perf_counter() - started)
        else:
            self.tally.failed(kind, f"{answer.status_code} {answer.text[:160]}")


def make_lake(home: Path, database_url: str) -> str:
    """`lake.shop.customers` (10,000 rows) synced and governed; an analyst's token."""
    import pyarrow as pa

    steward = Steward(Settings(home=home, database_url=database_url))
    try:
        catalog = lake_catalog(home)
        catalog.create_namespace("shop")
        rows = 10_000
        customers = pa.table(
            {
                "id": pa.array(range(rows), pa.int64()),
                "email": [f"user{i}@example.com" for i in range(rows)],
                "region": [("EU", "US", "APAC")[i % 3] for i in range(rows)],
            }
        )
        catalog.create_table("shop.customers", schema=customers.schema).append(customers)
        catalog.close()
        sync(steward.store, steward.source("lake"))
        apply(steward.store, POLICY, actor=None)
        return create_token(steward.store, user="ann", groups=["analysts"]).secret
    finally:
        steward.close()


@contextmanager
def running(admin_url: str, workers: int) -> Iterator[Target]:
    """A fresh database and `steward serve --workers N` on it, with a governed lake."""
    with (
        new_database(admin_url, "steward_soak") as database_url,
        tempfile.TemporaryDirectory() as tmp,
    ):
        home = Path(tmp) / "home"
        process, url, admin = serve(home, database_url, workers=workers)
        try:
            analyst = make_lake(home, database_url)
            yield Target(url, admin, analyst)
        finally:
            process.terminate()
            process.wait(timeout=60)


def timed(kinds: Iterator[str], seconds: float) -> Iterator[str]:
    """`kinds` for `seconds` from now."""
    until = time.monotonic() + seconds
    for kind in kinds:
        if time.monotonic() >= until:
            return
        yield kind


def drive(
    tally: Tally,
    target: Target,
    producers: int,
    batch: int,
    kinds: Callable[[int], Iterator[str]],
) -> None:
    """`producers` threads, producer `i` sending the kinds `kinds(i)` yields, until they end."""

    def produce(index: int) -> None:
        producer = Producer(index, target, tally, batch)
        for kind in kinds(index):
            producer.send(kind)
        producer.client.close()

    threads = [threading.Thread(target=produce, args=(i,)) for i in range(producers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def rates(args: argparse.Namespace) -> None:
    """The table: per worker count, each kind's rate with all producers on it alone."""
    print(
        f"PostgreSQL, {args.producers} producers, {args.seconds:g} s per kind,"
        f" batches of {args.batch} events; load average before: {os.getloadavg()[0]:.1f}"
    )
    header = ("workers", "events/s single", "events/s batched", "audit records/s", "queries/s")
    print(" | ".join(header) + " | errors")
    for workers in args.workers:
        with running(args.url, workers) as target:
            warm_up = Tally()  # the first query in each worker loads the lake's tables
            drive(warm_up, target, args.producers, args.batch, lambda _: timed(cycle(KINDS), 3))
            figures, errors = [], Counter[str]()
            for kind in KINDS:
                tally = Tally()
                started = time.perf_counter()
                drive(
                    tally,
                    target,
                    args.producers,
                    args.batch,
                    lambda _, k=kind: timed(itertools.repeat(k), args.seconds),
                )
                figures.append(tally.items[kind] / (time.perf_counter() - started))
                errors.update(tally.errors)
        cells = [str(workers), *(f"{f:,.3g}" for f in figures), str(sum(errors.values()))]
        print(" | ".join(cells), flush=True)
        for what, count in errors.most_common(5):
            print(f"    {count} x {what}")


def percentile(values: list[float], share: float) -> float:
    """The `share` percentile of `values` in milliseconds (nearest rank)."""
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def soak(args: argparse.Namespace) -> None:
    """Mixed load for `--minutes`; a line of latency percentiles per `--every` seconds."""
    (workers,) = args.workers or [2]
    print(f"soak: {args.minutes:g} min, {workers} workers, {args.producers} producers, mixed kinds")
    print("elapsed s | kind: requests p50/p95/p99 ms errors ...")
    seen: Counter[str] = Counter()
    with running(args.url, workers) as target:
        tally = Tally()

        def mixed(index: int) -> Iterator[str]:
            # Each producer starts at another kind, so all four run at once.
            return timed(cycle(KINDS[index % 4 :] + KINDS[: index % 4]), args.minutes * 60)

        worker = threading.Thread(
            target=drive, args=(tally, target, args.producers, args.batch, mixed)
        )
        begun = time.monotonic()
        worker.start()
        while worker.is_alive():
            worker.join(timeout=args.every)
            window = tally.take()
            seen.update(window.errors)
            print(f"{time.monotonic() - begun:9.0f} | " + window_line(window), flush=True)
    print("errors:", "none" if not seen else "")
    for what, count in seen.most_common():
        print(f"    {count} x {what}")


def window_line(window: Tally) -> str:
    """Each kind's requests, latency percentiles and errors in one window."""
    cells = []
    for kind in KINDS:
        seen = window.latencies.get(kind, [])
        errors = sum(n for what, n in window.errors.items() if what.startswith(f"{kind}:"))
        if not seen:
            cells.append(f"{kind}: 0 req, {errors} err")
            continue
        p = [percentile(seen, s) for s in (0.5, 0.95, 0.99)]
        cells.append(f"{kind}: {len(seen)} req {p[0]:.0f}/{p[1]:.0f}/{p[2]:.0f} ms {errors} err")
    return " | ".join(cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=None)
    parser.add_argument("--seconds", type=float, default=15.0, help="per kind and worker count")
    parser.add_argument("--producers", type=int, default=8)
    parser.add_argument("--batch", type=int, default=50, help="events per batched request")
    parser.add_argument("--minutes", type=float, default=0.0, help="soak for this long instead")
    parser.add_argument("--every", type=float, default=30.0, help="soak: seconds per line")
    parser.add_argument(
        "--url",
        default=os.environ.get("STEWARD_TEST_DATABASE_URL", LOCAL),
        help="a PostgreSQL database to connect to; fresh databases are made beside it",
    )
    args = parser.parse_args()
    if args.minutes:
        soak(args)
    else:
        args.workers = args.workers or [1, 2, 4]
        rates(args)


if __name__ == "__main__":
    main()
