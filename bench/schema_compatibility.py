"""Milliseconds per transitive compatibility check against a subject with 100 versions.

Builds a subject whose versions each add one optional field (with a default) to a record
of nested records, arrays, maps and enums, then times `steward.schema.compatibility.check`
for a new version in BACKWARD_TRANSITIVE and FULL_TRANSITIVE modes, for Avro (Apache
Avro's checker underneath) and JSON Schema. Each check parses every previous version, as
a registry call that holds only the stored texts would. Prints each figure and its ratio
to the aim (a registry answers a transitive check in under 100 ms: above 1 beats it).

    python bench/schema_compatibility.py [--versions 100] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

from steward.schema.compatibility import Mode, check

AIM_MS = 100.0


def avro_version(n: int) -> str:
    """Version `n` of an Avro subject: a fixed core and `n` optional fields."""
    core: list[dict[str, Any]] = [
        {"name": "id", "type": "long"},
        {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B", "C"]}},
        {
            "name": "address",
            "type": {
                "type": "record",
                "name": "Address",
                "fields": [
                    {"name": "street", "type": "string"},
                    {"name": "zip", "type": ["null", "string"], "default": None},
                ],
            },
        },
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "scores", "type": {"type": "map", "values": "double"}},
    ]
    extra = [{"name": f"f{i}", "type": ["null", "long"], "default": None} for i in range(n)]
    return json.dumps({"type": "record", "name": "Event", "fields": core + extra})


def json_version(n: int) -> str:
    """Version `n` of a JSON Schema subject (closed content model, `n` optional fields)."""
    props: dict[str, Any] = {
        "id": {"type": "integer"},
        "kind": {"enum": ["A", "B", "C"]},
        "address": {
            "type": "object",
            "properties": {"street": {"type": "string"}, "zip": {"type": ["string", "null"]}},
        },
        "tags": {"type": "array", "items": {"type": "string"}},
    }
    props |= {f"f{i}": {"type": ["integer", "null"]} for i in range(n)}
    return json.dumps(
        {"type": "object", "properties": props, "required": ["id"], "additionalProperties": False}
    )


def time_check(kind: str, versions: list[str], mode: Mode, repeat: int) -> float:
    """Median milliseconds for one check of the last version against all before it."""
    *previous, new = versions
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        found = check(kind, new, previous, mode)
        times.append((time.perf_counter() - started) * 1000)
        if found and mode is Mode.BACKWARD_TRANSITIVE:
            raise SystemExit(f"{kind} {mode}: expected compatible, got {found[0]}")
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    subjects = {
        "AVRO": [avro_version(n) for n in range(args.versions + 1)],
        "JSON": [json_version(n) for n in range(args.versions + 1)],
    }
    for kind, versions in subjects.items():
        for mode in (Mode.BACKWARD_TRANSITIVE, Mode.FULL_TRANSITIVE):
            ms = time_check(kind, versions, mode, args.repeat)
            per_pair = ms / (len(versions) - 1)
            print(
                f"{kind:<5} {mode.value:<20} {len(versions) - 1} versions: "
                f"{ms:8.1f} ms per check ({per_pair:.2f} ms per version), "
                f"ratio to {AIM_MS:.0f} ms aim: {AIM_MS / ms:.2f}"
            )


if __name__ == "__main__":
    main()
