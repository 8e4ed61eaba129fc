"""Backstage export: the catalog's datasets as Backstage catalog entities.

Each dataset that is not deleted becomes a `kind: Resource` with `spec.type: dataset`,
its owner (the first human owner, else the first source owner, else `default_owner`),
`spec.system` from its domain and `spec.dependsOn` from its upstream datasets in the
lineage graph. Each domain whose datasets have an owner becomes a `kind: System`
owned by its datasets' most frequent owner. Names follow Backstage's rules (letters,
digits and `-_.`, at most 63 characters, alphanumeric at both ends); a name that had
to be shortened ends in a hash so two datasets never share one.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from steward.catalog.views import describe_datasets
from steward.store import Store
from steward.store.schema import datasets, lineage_edges

API_VERSION = "backstage.io/v1alpha1"
ANNOTATION = "steward.io"
_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_TAG_CHARS = re.compile(r"[^a-z0-9:+#]+")
_CHUNK = 1000


def entity_name(value: str) -> str:
    """A valid, stable Backstage entity name for `value`."""
    name = _NAME_CHARS.sub("-", value).strip("-._")
    if len(name) <= 63 and name == value.strip("-._") and name:
        return name
    digest = hashlib.sha256(value.encode()).hexdigest()[:8]
    head = name[: 63 - 9].rstrip("-._")
    return f"{head}-{digest}" if head else digest


def plain_name(value: str) -> str:
    """A Backstage name for an owner or a domain: invalid runs become `-`, cut at 63."""
    name = _NAME_CHARS.sub("-", value).strip("-._")[:63].rstrip("-._")
    return name or entity_name(value)


def entity_tag(tag: str) -> str | None:
    """A Backstage tag (`^[a-z0-9:+#]+(-[a-z0-9:+#]+)*$`, at most 63 chars) for a tag."""
    text = "-".join(part for part in _TAG_CHARS.split(tag.lower()) if part)
    return text[:63].strip("-") or None


def owner_ref(owner: dict[str, Any]) -> str:
    """A Backstage entity reference to an owner: `user:default/alice`, `group:default/x`."""
    kind = "group" if owner["kind"] == "group" else "user"
    return f"{kind}:default/{plain_name(owner['name'])}"


def _upstream(conn: Any, ids: list[int]) -> dict[int, set[int]]:
    out_edge = lineage_edges.alias("o")
    in_edge = lineage_edges.alias("i")
    found: dict[int, set[int]] = defaultdict(set)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        rows = conn.execute(
            sa.select(out_edge.c.dataset_id, in_edge.c.dataset_id.label("upstream"))
            .join(in_edge, sa.and_(in_edge.c.job_id == out_edge.c.job_id))
            .where(
                out_edge.c.dataset_id.in_(chunk),
                out_edge.c.direction == "output",
                out_edge.c.valid_to.is_(None),
                in_edge.c.direction == "input",
                in_edge.c.valid_to.is_(None),
            )
        )
        for row in rows:
            if row.upstream != row.dataset_id:
                found[row.dataset_id].add(row.upstream)
    return found


def backstage_entities(store: Store, *, default_owner: str) -> list[dict[str, Any]]:
    """Every live dataset as a Resource, and every owned domain as a System."""
    with store.read() as conn:
        ids = [
            int(i)
            for i in conn.execute(
                sa.select(datasets.c.id)
                .where(datasets.c.deleted_at.is_(None))
                .order_by(datasets.c.id)
            ).scalars()
        ]
        views: dict[int, dict[str, Any]] = {}
        for start in range(0, len(ids), _CHUNK):
            views.update(describe_datasets(conn, ids[start : start + _CHUNK]))
        upstream = _upstream(conn, ids)
    names = {i: entity_name(v["id"]) for i, v in views.items()}
    entities = []
    domain_owners: dict[str, Counter[str]] = defaultdict(Counter)
    for dataset_id, view in views.items():
        owners = sorted(view["owners"], key=lambda o: o["origin"] != "human")
        owner = owner_ref(owners[0]) if owners else default_owner
        entities.append(
            _resource(
                view,
                names[dataset_id],
                owner,
                [
                    f"resource:default/{names[u]}"
                    for u in sorted(upstream.get(dataset_id, ()))
                    if u in names
                ],
            )
        )
        if view["domain"] and owners:
            domain_owners[view["domain"]][owner] += 1
    for domain, counts in sorted(domain_owners.items()):
        entities.append(
            {
                "apiVersion": API_VERSION,
                "kind": "System",
                "metadata": {
                    "name": plain_name(domain),
                    "title": domain,
                    "description": f"Datasets of the {domain} domain, from Steward's catalog.",
                },
                "spec": {"owner": counts.most_common(1)[0][0]},
            }
        )
    return entities


def _resource(view: dict[str, Any], name: str, owner: str, depends_on: list[str]) -> dict[str, Any]:
    tags: list[str] = []
    for tag in [t["tag"] for t in view["tags"]] + [
        t["tag"] for c in view["columns"] for t in c["tags"]
    ]:
        converted = entity_tag(tag)
        if converted and converted not in tags:
            tags.append(converted)
    metadata: dict[str, Any] = {
        "name": name,
        "title": view["id"],
        "annotations": {
            f"{ANNOTATION}/dataset": view["id"],
            f"{ANNOTATION}/node-id": view["nodeId"],
        },
    }
    description = (view["description"] or {}).get("text")
    if description:
        metadata["description"] = description
    if tags:
        metadata["tags"] = tags
    pii = sorted(
        {c["name"] for c in view["columns"] for t in c["tags"] if t["tag"].startswith("pii.")}
    )
    if pii:
        metadata["annotations"][f"{ANNOTATION}/pii-columns"] = ",".join(pii)
    spec: dict[str, Any] = {"type": "dataset", "owner": owner}
    if view["domain"]:
        spec["system"] = plain_name(view["domain"])
    if depends_on:
        spec["dependsOn"] = depends_on
    return {"apiVersion": API_VERSION, "kind": "Resource", "metadata": metadata, "spec": spec}


def write_backstage(entities: Iterable[dict[str, Any]], path: Path) -> int:
    """Write `entities` as one multi-document YAML file (a Backstage catalog location)."""
    import yaml

    items = list(entities)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        yaml.safe_dump_all(items, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    return len(items)
