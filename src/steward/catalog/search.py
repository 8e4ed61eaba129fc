"""Ranked full-text search over the catalog: FTS5 on SQLite, tsvector on PostgreSQL.

Each dataset has one search document (`catalog_search`): its name, description,
columns (names and descriptions), tags and owners, rebuilt whenever the catalog changes
it (sync, edits, classification) and, for datasets known only from OpenLineage events,
on the first search after they changed. Ranking puts an exact name match first (the
whole catalog name, or its last part: `orders` finds `lake.sales.orders` first), then
the full-text rank, where a hit in the name outweighs one in a description.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.catalog.views import describe_datasets
from steward.errors import InvalidInput
from steward.store import Store
from steward.store.schema import catalog_search, catalog_search_state, datasets

_TERM = re.compile(r"[\w-]+", re.UNICODE)
_INDEX_BATCH = 500


@dataclass(frozen=True)
class SearchFilters:
    """Narrow a search: each set filter must hold."""

    source: str | None = None
    tag: str | None = None
    owner: str | None = None
    domain: str | None = None


def document(view: dict[str, Any]) -> dict[str, Any]:
    """The search row of one dataset view (`describe_datasets`)."""
    description = (view["description"] or {}).get("text") or ""
    columns = []
    tags = [t["tag"] for t in view["tags"]]
    for column in view["columns"]:
        text = (column["description"] or {}).get("text") or ""
        columns.append(f"{column['name']} {text}".strip())
        tags += [t["tag"] for t in column["tags"]]
    return {
        "name": view["name"] or f"{view['namespace']}/{view['datasetName']}",
        "source": view["source"] or view["namespace"],
        "description": description,
        "columns": "\n".join(columns),
        "tags": "\n".join(sorted(set(tags))),
        "owners": "\n".join(sorted({o["name"] for o in view["owners"]})),
        "domain": view["domain"],
        "deleted": bool(view["deleted"]),
    }


def reindex(conn: Connection, dataset_ids: Sequence[int]) -> None:
    """Rebuild the search documents of `dataset_ids` inside the caller's transaction."""
    ids = sorted(set(dataset_ids))
    for start in range(0, len(ids), _INDEX_BATCH):
        chunk = ids[start : start + _INDEX_BATCH]
        views = describe_datasets(conn, chunk)
        updated = dict(
            conn.execute(
                sa.select(datasets.c.id, datasets.c.updated_at).where(datasets.c.id.in_(chunk))
            ).all()
        )
        conn.execute(catalog_search.delete().where(catalog_search.c.dataset_id.in_(chunk)))
        rows = [
            {"dataset_id": i, **document(v), "indexed_at": updated[i]} for i, v in views.items()
        ]
        if rows:
            conn.execute(catalog_search.insert(), rows)


def refresh(store: Store) -> int:
    """Index datasets that OpenLineage events created or changed since they were indexed.

    Two indexed lookups when nothing changed (the usual case); otherwise the datasets
    past the stored watermark whose search row is missing or older are rebuilt.
    """
    with store.read() as conn:
        state = conn.execute(sa.select(catalog_search_state)).first()
        newest = conn.execute(
            sa.select(sa.func.max(datasets.c.id), sa.func.max(datasets.c.updated_at))
        ).one()
    if newest[0] is None:
        return 0
    if state is not None and (state.last_dataset_id, state.last_updated_at) == tuple(newest):
        return 0
    with store.write() as conn:
        query = sa.select(
            datasets.c.id, datasets.c.updated_at, catalog_search.c.indexed_at
        ).outerjoin(catalog_search, catalog_search.c.dataset_id == datasets.c.id)
        if state is not None:
            query = query.where(
                sa.or_(
                    datasets.c.id > state.last_dataset_id,
                    datasets.c.updated_at > state.last_updated_at,
                )
            )
        stale = [row.id for row in conn.execute(query) if row.indexed_at != row.updated_at]
        reindex(conn, stale)
        values = {"last_dataset_id": newest[0], "last_updated_at": newest[1]}
        if state is None:
            conn.execute(catalog_search_state.insert().values(id=1, **values))
        else:
            conn.execute(catalog_search_state.update().values(**values))
    return len(stale)


def _terms(query: str) -> list[str]:
    terms = _TERM.findall(query.lower())
    if not terms and query.strip():
        raise InvalidInput(f"q: {query!r} has no words to search for")
    return terms


def search(
    store: Store,
    query: str,
    *,
    filters: SearchFilters = SearchFilters(),
    limit: int = 20,
    include_deleted: bool = False,
) -> list[dict[str, Any]]:
    """Datasets matching `query` (every word, as a prefix), best first."""
    if not 1 <= limit <= 500:
        raise InvalidInput("limit: must be between 1 and 500")
    refresh(store)
    terms = _terms(query)
    with store.read() as conn:
        dialect = conn.dialect.name
        where, params = _filters(filters, include_deleted)
        params["limit"] = limit
        params["exact"] = query.strip().lower()
        params["suffix"] = "%." + query.strip().lower()
        exact = "(lower(s.name) = :exact OR lower(s.name) LIKE :suffix)"
        if not terms:
            sql = (
                "SELECT s.dataset_id, s.name, s.source, s.description, s.domain, s.deleted, "
                f"0.0 AS score FROM catalog_search s WHERE {where} ORDER BY s.name LIMIT :limit"
            )
        elif dialect == "sqlite":
            params["match"] = " ".join('"' + t.replace('"', '""') + '"*' for t in terms)
            sql = (
                "SELECT s.dataset_id, s.name, s.source, s.description, s.domain, s.deleted, "
                "bm25(catalog_search_fts, 10.0, 2.0, 3.0, 2.0, 1.0) AS score "
                "FROM catalog_search_fts JOIN catalog_search s "
                "ON s.dataset_id = catalog_search_fts.rowid "
                f"WHERE catalog_search_fts MATCH :match AND {where} "
                f"ORDER BY {exact} DESC, score LIMIT :limit"
            )
        else:
            params["match"] = " & ".join(
                re.sub(r"[^\w]", "", t) + ":*" for t in terms if re.sub(r"[^\w]", "", t)
            )
            sql = (
                "SELECT s.dataset_id, s.name, s.source, s.description, s.domain, s.deleted, "
                "ts_rank_cd(s.document, q, 1) AS score "
                "FROM catalog_search s, to_tsquery('simple', :match) q "
                f"WHERE s.document @@ q AND {where} "
                f"ORDER BY {exact} DESC, score DESC, s.name LIMIT :limit"
            )
        rows = conn.execute(sa.text(sql), params).all()
    return [
        {
            "name": row.name,
            "source": row.source,
            "description": row.description or None,
            "domain": row.domain,
            "deleted": bool(row.deleted),
            "score": abs(float(row.score)),
        }
        for row in rows
    ]


def _filters(filters: SearchFilters, include_deleted: bool) -> tuple[str, dict[str, Any]]:
    clauses = ["1 = 1"]
    params: dict[str, Any] = {}
    if not include_deleted:
        clauses.append("s.deleted = :false")
        params["false"] = False
    if filters.source:
        clauses.append("s.source = :source")
        params["source"] = filters.source
    if filters.domain:
        clauses.append("s.domain = :domain")
        params["domain"] = filters.domain
    # Tags and owners are newline-separated lists: match a whole line.
    for key in ("tag", "owner"):
        value = getattr(filters, key)
        if value:
            column = "tags" if key == "tag" else "owners"
            clauses.append(f"(:newline || s.{column} || :newline) LIKE :{key}")
            params["newline"] = "\n"
            params[key] = f"%\n{value}\n%"
    return " AND ".join(clauses), params
