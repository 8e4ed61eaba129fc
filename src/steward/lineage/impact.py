"""What a change to a dataset or job reaches: every node downstream, by depth."""

from __future__ import annotations

from collections import deque
from typing import Any


def impact_rows(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """Every node downstream of the graph's first node, with its depth in lineage steps.

    A step is a job and the datasets it writes: from a dataset, the jobs reading it and
    their outputs are depth 1; from a job, its outputs are depth 1 and the jobs reading
    them depth 2. Sorted by depth, then node id.
    """
    items = {item["id"]: item for item in answer["graph"]}
    if not items:
        return []
    first = answer["graph"][0]
    from_job = first["type"] == "JOB"
    hops = {first["id"]: 0}
    queue = deque([first["id"]])
    while queue:
        current = queue.popleft()
        for edge in items[current]["outEdges"]:
            target = edge["destination"]
            if target not in hops and target in items:
                hops[target] = hops[current] + 1
                queue.append(target)
    rows = []
    for node_id, hop in hops.items():
        if hop == 0:
            continue
        item = items[node_id]
        data = item["data"]
        rows.append(
            {
                "depth": hop // 2 + 1 if from_job else (hop + 1) // 2,
                "type": item["type"].lower(),
                "node_id": node_id,
                "namespace": data["namespace"],
                "name": data["name"],
                "owners": ";".join(o["name"] for o in data.get("owners", [])),
                "described": "no" if data.get("described") is False else "yes",
            }
        )
    rows.sort(key=lambda r: (r["depth"], r["node_id"]))
    return rows
