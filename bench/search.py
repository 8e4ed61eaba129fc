"""p50/p99 latency of catalog search over 100,000 datasets (aim: p50 under 20 ms).

Fills a store (once per run) with 100,000 datasets through `catalog sync` from a
generated source: names from a warehouse vocabulary, 5-40 columns each, descriptions,
owners, tags and domains. Then times `search()` (refresh check, ranked full-text query,
exact-name-first ordering, filters) for 200 queries of one or two words, some with a
filter, as the API would run them. No named peer runs here: DataHub and OpenMetadata
search through Elasticsearch/OpenSearch, which this machine does not have.

    python bench/search.py [--datasets 100000] [--queries 200] [--url postgresql://...]
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from steward.app import Steward
from steward.catalog.models import Column, DiscoveredTable, Identity, Owner, TableRef
from steward.catalog.search import SearchFilters, search
from steward.catalog.sync import sync
from steward.config import Settings

WORDS = [
    "orders",
    "customers",
    "revenue",
    "invoices",
    "payments",
    "refunds",
    "shipments",
    "products",
    "inventory",
    "sessions",
    "clicks",
    "events",
    "users",
    "accounts",
    "subscriptions",
    "churn",
    "marketing",
    "campaigns",
    "leads",
    "tickets",
    "support",
    "finance",
    "ledger",
    "budget",
    "forecast",
    "returns",
    "suppliers",
    "warehouses",
    "stores",
    "employees",
    "payroll",
    "contracts",
    "claims",
    "policies",
    "risk",
    "fraud",
    "sensors",
    "devices",
    "logs",
    "metrics",
]
COLUMN_WORDS = [
    "id",
    "customer_id",
    "order_id",
    "amount",
    "currency",
    "status",
    "created_at",
    "updated_at",
    "email",
    "phone",
    "country",
    "region",
    "city",
    "price",
    "quantity",
    "discount",
    "tax",
    "total",
    "channel",
    "source",
    "campaign_id",
    "device_id",
    "session_id",
    "user_id",
    "score",
    "label",
    "category",
    "sku",
    "name",
    "description",
]
DOMAINS = ("sales", "finance", "marketing", "ops", "support", "hr")
TAGS = ("gold", "silver", "bronze", "pii", "certified", "deprecated")


class GeneratedSource:
    """A source of `count` generated tables (bench only)."""

    type = "generated"

    def __init__(self, name: str, count: int, seed: int = 7) -> None:
        self.name = name
        self.count = count
        self.random = random.Random(seed)

    def list_tables(self) -> list[TableRef]:
        return [TableRef(self._name(i), "v1") for i in range(self.count)]

    def _name(self, index: int) -> str:
        a = WORDS[index % len(WORDS)]
        b = WORDS[(index // len(WORDS)) % len(WORDS)]
        return f"{DOMAINS[index % len(DOMAINS)]}.{a}_{b}_{index}"

    def load_table(self, ref: TableRef) -> DiscoveredTable:
        r = random.Random(ref.name)
        columns = tuple(
            Column(word, r.choice(("bigint", "varchar", "double", "timestamp")))
            for word in r.sample(COLUMN_WORDS, r.randint(5, 30))
        )
        about = " ".join(r.sample(WORDS, 6))
        return DiscoveredTable(
            name=ref.name,
            kind="table",
            identity=Identity("bench://warehouse", ref.name),
            columns=columns,
            description=f"Table about {about}.",
            owners=(Owner(f"team_{r.randint(0, 40)}"),),
            tags=tuple(r.sample(TAGS, r.randint(0, 2))),
            domain=ref.name.split(".", 1)[0],
            fingerprint="v1",
        )

    def sample(self, name: str, columns: Sequence[str], limit: int) -> list[dict[str, Any]]:
        return []

    def close(self) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--url", help="a PostgreSQL store URL (default: SQLite in a temp dir)")
    parser.add_argument("--keep", type=Path, help="keep (and reuse) the SQLite store in this dir")
    args = parser.parse_args()
    home = args.keep or Path(tempfile.mkdtemp(prefix="steward-bench-search-"))
    steward = Steward(Settings(home=home, database_url=args.url))
    steward.upgrade()
    try:
        started = time.perf_counter()
        result = sync(steward.store, GeneratedSource("wh", args.datasets))
        print(
            f"synced {args.datasets} datasets in {time.perf_counter() - started:.1f} s"
            f" ({result.added} new)"
        )
        r = random.Random(11)
        queries: list[tuple[str, SearchFilters]] = []
        for index in range(args.queries):
            words = r.sample(WORDS + COLUMN_WORDS, r.choice((1, 1, 2)))
            text = " ".join(w[: r.randint(min(3, len(w)), len(w))] for w in words)  # prefixes too
            filters = SearchFilters()
            if index % 4 == 1:
                filters = SearchFilters(domain=r.choice(DOMAINS))
            elif index % 4 == 2:
                filters = SearchFilters(tag=r.choice(TAGS))
            queries.append((text, filters))
        search(steward.store, "orders")  # warm the connection pool and caches
        timings = []
        hits = 0
        for text, filters in queries:
            started = time.perf_counter()
            found = search(steward.store, text, filters=filters, limit=20)
            timings.append((time.perf_counter() - started) * 1000)
            hits += bool(found)
        timings.sort()
        p50 = statistics.median(timings)
        p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
        print(
            f"search over {args.datasets} datasets on {steward.store.dialect}: "
            f"p50 {p50:.1f} ms, p99 {p99:.1f} ms over {len(timings)} queries "
            f"({hits} with results); aim p50 < 20 ms: {p50 / 20:.2f}x of the aim"
        )
    finally:
        steward.close()
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
