"""Server time of the web UI's dataset page and search page at 100,000 datasets
(aim: dataset page p50 under 50 ms).

Fills a store with 100,000 datasets through `catalog sync` of the generated source of
`bench/search.py` (5-30 columns, descriptions, owners, tags, domains), adds lineage
between some of them (one OpenLineage event per job, sent to the live server), starts
`steward serve`, signs in through the login form as a browser would, and times
`GET /datasets/{name}` (the schema tab) for random datasets and `GET /?q=...` for
one- and two-word searches (25 results a page, each card with its owners, tags,
quality and neighbour counts). The times are wall-clock times of whole HTTP requests
on loopback, so they include the server's HTML rendering. No named peer: DataHub's and
OpenMetadata's dataset pages are single-page apps over GraphQL/REST and Elasticsearch,
which this machine does not run.

    python bench/web_dataset_page.py [--datasets 100000] [--pages 200] [--url postgresql://...]
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from live_server import serve  # bench/ is on sys.path when run
from search import COLUMN_WORDS, WORDS, GeneratedSource
from steward.app import Steward
from steward.catalog.sync import sync
from steward.config import Settings

PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.54.0/client/python"
SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/definitions/RunEvent"


def _event(job: int, inputs: list[str], outputs: list[str]) -> dict[str, object]:
    return {
        "eventType": "COMPLETE",
        "eventTime": "2026-11-01T10:00:00.000Z",
        "producer": PRODUCER,
        "schemaURL": SCHEMA_URL,
        "run": {"runId": str(uuid.uuid4()), "facets": {}},
        "job": {"namespace": "bench", "name": f"job_{job}", "facets": {}},
        "inputs": [{"namespace": "bench://warehouse", "name": n, "facets": {}} for n in inputs],
        "outputs": [{"namespace": "bench://warehouse", "name": n, "facets": {}} for n in outputs],
    }


def _percentiles(timings: list[float]) -> tuple[float, float]:
    timings = sorted(timings)
    return statistics.median(timings), timings[min(len(timings) - 1, int(len(timings) * 0.95))]


def _sign_in(http: httpx.Client, token: str) -> None:
    form = http.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert csrf is not None, "no CSRF token on the login page"
    answer = http.post("/login", data={"csrf_token": csrf.group(1), "token": token})
    assert answer.status_code in (200, 303), answer.text[:300]
    assert 'data-testid="signed-in-as"' in http.get("/").text, "not signed in"


def _time(http: httpx.Client, paths: list[str]) -> list[float]:
    timings = []
    for path in paths:
        started = time.perf_counter()
        answer = http.get(path, follow_redirects=False)
        timings.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, f"{path}: {answer.status_code}"
        assert 'data-testid="signed-in-as"' in answer.text, f"{path}: not the signed-in page"
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=100_000)
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2_000, help="lineage events to send")
    parser.add_argument("--url", help="a PostgreSQL store URL (default: SQLite in a temp dir)")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="steward-bench-web-"))
    process, url, token = serve(home, args.url)
    try:
        steward = Steward(Settings(home=home, database_url=args.url))
        source = GeneratedSource("wh", args.datasets)
        try:
            started = time.perf_counter()
            sync(steward.store, source)
            print(f"synced {args.datasets:,} datasets in {time.perf_counter() - started:.0f} s")
        finally:
            steward.close()
        names = [ref.name for ref in source.list_tables()]
        r = random.Random(5)
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as api:
            started = time.perf_counter()
            for job in range(args.jobs):
                picked = r.sample(names, 4)
                sent = api.post("/api/v1/lineage", json=_event(job, picked[:3], picked[3:]))
                assert sent.status_code == 201, sent.text
            print(f"sent {args.jobs:,} lineage events in {time.perf_counter() - started:.0f} s")
        with httpx.Client(base_url=url, follow_redirects=True, timeout=60) as http:
            _sign_in(http, token)
            datasets = [f"/datasets/wh.{name}" for name in r.sample(names, args.pages)]
            searches = [
                "/?q=" + "+".join(r.sample(WORDS + COLUMN_WORDS, r.choice((1, 1, 2))))
                for _ in range(max(20, args.pages // 4))
            ]
            _time(http, datasets[:5] + searches[:3])  # warm up
            page = _percentiles(_time(http, datasets))
            found = _percentiles(_time(http, searches))
        print(
            f"dataset page at {args.datasets:,} datasets: p50 {page[0]:.1f} ms,"
            f" p95 {page[1]:.1f} ms over {len(datasets)} pages;"
            f" aim p50 < 50 ms: {50 / page[0]:.2f}x the aim (above 1 beats it)"
        )
        print(
            f"search page (25 results): p50 {found[0]:.1f} ms, p95 {found[1]:.1f} ms"
            f" over {len(searches)} searches"
        )
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
