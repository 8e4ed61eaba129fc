"""Schema registry: registrations/s and lookups/s over HTTP; a transitive check on 100 versions.

Starts a real `steward serve` (uvicorn, one worker, SQLite in a fresh STEWARD_HOME, or
PostgreSQL with --url) on loopback and talks to it as Kafka clients do, one keep-alive
connection, one request at a time, HTTP Basic with the token as password:

- register: a new 20-field Avro schema under each of --subjects `<topic>-value` subjects
  (each also records the topic's dataset in the catalog, as production does);
- lookup: `POST /subjects/{s}` for each of them (what a serializer with
  `use.latest.version` or `auto.register.schemas=false` sends), and `GET /schemas/ids/{id}`
  (what a consumer sends once per schema id);
- transitive: one subject grown to 100 versions (each adds a field with a default), then
  `POST /compatibility/subjects/{s}/versions` under BACKWARD (the latest version only),
  BACKWARD_TRANSITIVE and FULL_TRANSITIVE, timed once each.

One run, figures as measured; no peer registry (Confluent's needs a JVM and Kafka) runs
on this machine, so the ratios are to the aims below.

    python bench/schema_registry.py [--subjects 1000] [--url postgresql://...]
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from live_server import serve

OUT = Path(__file__).parent / "out" / "schema_registry"
SR = "/api/v1/schema-registry"
AIM_REGISTER = 200.0  # registrations/s
AIM_LOOKUP = 1_000.0  # lookups/s
AIM_TRANSITIVE = 1.0  # seconds for 100 versions


def avro(name: str, fields: int, extra: int = 0) -> str:
    columns = [
        {"name": f"c{i}", "type": ["null", "string"], "default": None} for i in range(fields)
    ]
    columns += [{"name": f"x{i}", "type": "long", "default": 0} for i in range(extra)]
    return json.dumps({"type": "record", "name": name, "namespace": "bench", "fields": columns})


def timed(client: httpx.Client, requests: list[tuple[str, str, object]]) -> float:
    """Requests/s sending `requests` (method, path, body) one after the other."""
    started = time.perf_counter()
    for method, path, body in requests:
        answer = client.request(method, f"{SR}{path}", json=body)
        if answer.status_code != 200:
            raise SystemExit(f"{method} {path}: {answer.status_code} {answer.text}")
    return len(requests) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=1000)
    parser.add_argument("--url", help="an empty PostgreSQL database to run against instead")
    args = parser.parse_args()
    process, url, token = serve(OUT, args.url)
    basic = base64.b64encode(f"bench:{token}".encode()).decode()
    headers = {
        "Authorization": f"Basic {basic}",
        "Content-Type": "application/vnd.schemaregistry.v1+json",
    }
    try:
        with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
            schemas = [(f"topic{i}-value", avro(f"T{i}", 20)) for i in range(args.subjects)]
            register = [("POST", f"/subjects/{s}/versions", {"schema": t}) for s, t in schemas]
            rate = timed(client, register)
            print(
                f"register (new subject, 20 fields): {rate:8,.0f} requests/s  "
                f"{rate / AIM_REGISTER:.2f}x the {AIM_REGISTER:,.0f}/s aim  ({args.subjects:,})"
            )
            lookup = [("POST", f"/subjects/{s}", {"schema": t}) for s, t in schemas]
            rate = timed(client, lookup)
            print(
                f"lookup POST /subjects/{{s}}:         {rate:8,.0f} requests/s  "
                f"{rate / AIM_LOOKUP:.2f}x the {AIM_LOOKUP:,.0f}/s aim"
            )
            by_id = [("GET", f"/schemas/ids/{i + 1}", None) for i in range(args.subjects)]
            rate = timed(client, by_id)
            print(
                f"lookup GET /schemas/ids/{{id}}:      {rate:8,.0f} requests/s  "
                f"{rate / AIM_LOOKUP:.2f}x the {AIM_LOOKUP:,.0f}/s aim"
            )
            subject = "history-value"
            for version in range(100):
                body = {"schema": avro("History", 20, version)}
                client.post(f"{SR}/subjects/{subject}/versions", json=body).raise_for_status()
            candidate = {"schema": avro("History", 20, 100)}
            started = time.perf_counter()
            answer = client.post(f"{SR}/compatibility/subjects/{subject}/versions", json=candidate)
            seconds = time.perf_counter() - started
            assert answer.json()["is_compatible"] is True, answer.text
            print(f"BACKWARD check (latest only), 100 versions: {seconds * 1000:8,.0f} ms")
            for level in ("BACKWARD_TRANSITIVE", "FULL_TRANSITIVE"):
                put = client.put(f"{SR}/config/{subject}", json={"compatibility": level})
                put.raise_for_status()
                started = time.perf_counter()
                answer = client.post(
                    f"{SR}/compatibility/subjects/{subject}/versions", json=candidate
                )
                seconds = time.perf_counter() - started
                assert answer.json()["is_compatible"] is True, answer.text
                print(
                    f"{level} check, 100 versions: {seconds * 1000:8,.0f} ms  "
                    f"{AIM_TRANSITIVE / seconds:.2f}x the {AIM_TRANSITIVE:.0f} s aim"
                )
    finally:
        process.terminate()
        process.wait(10)


if __name__ == "__main__":
    main()
