"""Events/s through POST /api/v1/lineage (one event a request) and /api/v1/lineage/batch.

Starts a real `steward serve` (uvicorn, one worker, SQLite in a fresh STEWARD_HOME)
on loopback, and sends realistic events (20-column schema facets on every dataset,
column lineage on outputs, ~14 KB each; see bench/events.py) from other processes,
after 2,000 untimed events have made the warehouse's 500 jobs and 2,000 tables known:
single events from 4 producer processes (stdlib http.client, keep-alive),
then batches of 1,000 from one. Prints each rate and its
ratio to the aim (1,000/s single, 10,000/s batched).

    python bench/ingest.py [--single 4000] [--batched 40000] [--url postgresql://...]
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import sys
import time
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).parent))
from events import events
from live_server import serve

OUT = Path(__file__).parent / "out" / "ingest"


def _send_share(args: tuple[str, str, list[bytes]]) -> None:
    """One producer process: a keep-alive connection posting events one by one."""
    url, token, bodies = args
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    for body in bodies:
        for _attempt in range(5):  # as the OpenLineage clients do, retry a 503
            connection.request("POST", "/api/v1/lineage", body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            if response.status != 503:
                break
        if response.status != 201:
            raise RuntimeError(answer.decode())
    connection.close()


def single(url: str, token: str, bodies: list[bytes], producers: int = 4) -> float:
    """Events/s with `producers` processes each sending one event per request."""
    shares = [(url, token, bodies[i::producers]) for i in range(producers)]
    with multiprocessing.Pool(producers) as pool:
        began = time.perf_counter()
        pool.map(_send_share, shares)
        return len(bodies) / (time.perf_counter() - began)


def batched(url: str, token: str, all_events: list[dict], size: int = 1000) -> float:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    bodies = [orjson.dumps(all_events[i : i + size]) for i in range(0, len(all_events), size)]
    with httpx.Client(base_url=url, headers=headers, timeout=300) as client:
        began = time.perf_counter()
        for body in bodies:
            response = client.post("/api/v1/lineage/batch", content=body)
            if response.status_code != 201:
                raise RuntimeError(response.text)
        return len(all_events) / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--single", type=int, default=4000)
    parser.add_argument("--batched", type=int, default=40000)
    parser.add_argument("--url", help="an empty PostgreSQL database to run against instead")
    args = parser.parse_args()
    warm = 2000
    generated = events(warm + args.single + args.batched, jobs=500)
    first, one, many = (
        generated[:warm],
        generated[warm : warm + args.single],
        generated[warm + args.single :],
    )
    size = sum(len(orjson.dumps(e)) for e in one[:100]) / 100
    process, url, token = serve(OUT, args.url)
    try:
        # Steady state: the warehouse's jobs and tables are known, as after a day of running.
        batched(url, token, first)
        rate = single(url, token, [orjson.dumps(e) for e in one])
        print(
            f"single events, 4 producers:      {rate:8,.0f} events/s   "
            f"{rate / 1000:.2f}x the 1,000/s aim   "
            f"({args.single:,} events, {size / 1024:.1f} KB each)"
        )
        rate = batched(url, token, many)
        print(
            f"batches of 1,000:                {rate:8,.0f} events/s   "
            f"{rate / 10000:.2f}x the 10,000/s aim  ({args.batched:,} events)"
        )
    finally:
        process.terminate()
        process.wait(10)


if __name__ == "__main__":
    main()
