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
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
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
    name = view["name"] or f"{view['namespace']}/{view['datasetName']}"
    return {
        "name": name,
        "exact_name": name.lower(),
        "short_name": re.split(r"[./]", name.lower())[-1],
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
        # Two queries, not one: SQLite answers a lone max() from the index, not two.
        newest = (
            conn.execute(sa.select(sa.func.max(datasets.c.id))).scalar(),
            conn.execute(sa.select(sa.func.max(datasets.c.updated_at))).scalar(),
        )
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
    only: Collection[str] | None = None,
) -> list[dict[str, Any]]:
    """Datasets matching `query` (every word, as a prefix), best first.

    Order: exact name matches (the whole name, or its last part), then datasets whose
    name matches every word, then the rest, each group by full-text rank. `only` limits
    the answer to these catalog names (the ones the caller may describe; see
    `policy.sight`), inside the SQL, so ranking and `limit` see the same rows.
    """
    if not 1 <= limit <= 500:
        raise InvalidInput("limit: must be between 1 and 500")
    refresh(store)
    terms = _terms(query)
    with store.read() as conn:
        where, params = _filters(filters, include_deleted, only, conn.dialect.name)
        if not terms:
            sql = f"SELECT s.* FROM catalog_search s WHERE {where} ORDER BY s.name LIMIT :limit"
            rows = conn.execute(sa.text(sql), {**params, "limit": limit}).all()
            return [_result(row, 0.0) for row in rows]
        exact = query.strip().lower()
        sql = (
            f"SELECT s.* FROM catalog_search s WHERE (s.exact_name = :exact OR "
            f"s.short_name = :exact) AND {where} ORDER BY s.name LIMIT :limit"
        )
        found = {
            row.dataset_id: _result(row, 0.0)
            for row in conn.execute(sa.text(sql), {**params, "exact": exact, "limit": limit})
        }
        ranked = _sqlite_ranked if conn.dialect.name == "sqlite" else _postgresql_ranked
        for in_names in (True, False):
            if len(found) >= limit:
                break
            hits = ranked(conn, terms, filters, where, params, limit, found, in_names)
            for row, score in hits:
                found.setdefault(row.dataset_id, _result(row, score))
    return list(found.values())[:limit]


def _result(row: Any, score: float) -> dict[str, Any]:
    return {
        "name": row.name,
        "source": row.source,
        "description": row.description or None,
        "domain": row.domain,
        "deleted": bool(row.deleted),
        "score": round(abs(float(score)), 6),
    }


def _phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _sqlite_ranked(
    conn: Connection,
    terms: list[str],
    filters: SearchFilters,
    where: str,
    params: dict[str, Any],
    limit: int,
    skip: dict[int, Any],
    in_names: bool,
) -> list[tuple[Any, float]]:
    """The best matches by bm25, filtered; candidates are fetched by rank alone (fast in
    FTS5) in growing pages and filtered after, so the join never sees every match."""
    match = " ".join(_phrase(t) + "*" for t in terms)
    if in_names:
        match = f"name : ({match})"
    # Filters narrow the full-text match first (a superset: `tags : "pii"` also matches
    # pii.email), so ranking scores only plausible rows; SQL checks them exactly after.
    for column, value in (
        ("source", filters.source),
        ("domain", filters.domain),
        ("tags", filters.tag),
        ("owners", filters.owner),
    ):
        if value and _TERM.search(value):
            match = f"({match}) AND {column} : {_phrase(value)}"
    wanted = limit - len(skip)
    page = max(4 * wanted, 50)
    while True:
        candidates = conn.execute(
            sa.text(
                "SELECT rowid, bm25(catalog_search_fts, 10, 2, 3, 2, 1, 0, 0) AS score "
                "FROM catalog_search_fts WHERE catalog_search_fts MATCH :match "
                "ORDER BY score LIMIT :page"
            ),
            {"match": match, "page": page},
        ).all()
        scores = {row.rowid: row.score for row in candidates if row.rowid not in skip}
        kept: list[tuple[Any, float]] = []
        if scores:
            rows = conn.execute(
                sa.text(
                    f"SELECT s.* FROM catalog_search s WHERE {where} AND s.dataset_id IN "
                    f"({','.join(str(int(i)) for i in scores)})"
                ),
                params,
            ).all()
            kept = sorted(((row, scores[row.dataset_id]) for row in rows), key=lambda r: r[1])
        if len(kept) >= wanted or len(candidates) < page:
            return kept[:wanted]
        page *= 8


def _postgresql_ranked(
    conn: Connection,
    terms: list[str],
    filters: SearchFilters,
    where: str,
    params: dict[str, Any],
    limit: int,
    skip: dict[int, Any],
    in_names: bool,
) -> list[tuple[Any, float]]:
    words = [w for w in (re.sub(r"[^\w]", "", t) for t in terms) if w]
    if not words:
        return []
    weights = ":A" if in_names else ""
    match = " & ".join(f"{w}:*{weights.replace(':', '')}" for w in words)
    sql = (
        "SELECT s.*, ts_rank_cd(s.document, q, 1) AS score "
        "FROM catalog_search s, to_tsquery('simple', :match) q "
        f"WHERE s.document @@ q AND {where} ORDER BY score DESC, s.name LIMIT :limit"
    )
    rows = conn.execute(sa.text(sql), {**params, "match": match, "limit": limit + len(skip)})
    return [(row, row.score) for row in rows if row.dataset_id not in skip][: limit - len(skip)]


def _filters(
    filters: SearchFilters, include_deleted: bool, only: Collection[str] | None, dialect: str
) -> tuple[str, dict[str, Any]]:
    clauses = ["1 = 1"]
    params: dict[str, Any] = {}
    if only is not None:
        # One parameter however many names: a JSON array on SQLite, an array on PostgreSQL.
        if dialect == "postgresql":
            clauses.append("s.name = ANY(CAST(:only AS text[]))")
            params["only"] = sorted(only)
        else:
            clauses.append("s.name IN (SELECT value FROM json_each(:only))")
            params["only"] = orjson.dumps(sorted(only)).decode()
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
