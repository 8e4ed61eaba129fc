"""Events/s through POST /api/v1/lineage (one event a request) and /api/v1/lineage/batch.

Starts a real `steward serve` (uvicorn, one worker, SQLite in a fresh STEWARD_HOME)
on loopback, and sends realistic events (20-column schema facets on every dataset,
column lineage on outputs, ~14 KB each; see bench/events.py) from another process:
single events from 4 client threads, then batches of 1,000. Prints each rate and its
ratio to the aim (1,000/s single, 10,000/s batched).

    python bench/ingest.py [--single 4000] [--batched 40000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).parent))
from events import events  # noqa: E402

OUT = Path(__file__).parent / "out" / "ingest"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve() -> tuple[subprocess.Popen[bytes], str, str]:
    shutil.rmtree(OUT, ignore_errors=True)
    env = {**os.environ, "STEWARD_HOME": str(OUT)}
    env.pop("STEWARD_DATABASE_URL", None)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "steward.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    token = process.stdout.readline().decode().strip()
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/health").status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    return process, url, token


def single(url: str, token: str, bodies: list[bytes], threads: int = 4) -> float:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    clients = [httpx.Client(base_url=url, headers=headers, timeout=60) for _ in range(threads)]

    def work(index: int) -> None:
        client = clients[index]
        for body in bodies[index::threads]:
            response = client.post("/api/v1/lineage", content=body)
            if response.status_code != 201:
                raise RuntimeError(response.text)

    began = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, range(threads)))
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
    args = parser.parse_args()
    generated = events(args.single + args.batched, jobs=500)
    one, many = generated[: args.single], generated[args.single :]
    size = sum(len(orjson.dumps(e)) for e in one[:100]) / 100
    process, url, token = serve()
    try:
        rate = single(url, token, [orjson.dumps(e) for e in one])
        print(
            f"single events, 4 client threads: {rate:8,.0f} events/s   "
            f"{rate / 1000:.2f}x the 1,000/s aim   ({args.single:,} events, {size / 1024:.1f} KB each)"
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
