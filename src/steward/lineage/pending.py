"""Rows a transaction reads once, changes in memory, and writes back when it ends.

A batch names the same jobs, runs and datasets again and again (a run's START and
COMPLETE, a table every job reads); reading each once and writing each once, with
one `executemany` per shape of change, replaces a read and a write per event.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from types import SimpleNamespace
from typing import Any

from sqlalchemy.engine import Connection

from steward.store import fast

# Keys a prefetch query names at most (well under every backend's parameter limit).
_PREFETCH_CHUNK = 500


class PendingRows:
    """Rows of one table by key: read on first use, then held and changed in memory."""

    def __init__(
        self,
        select: Any,
        update: Any,
        insert: Any = None,
        where: Callable[[Any], dict[str, Any]] = lambda key: {"row_id": key},
    ) -> None:
        """`select` and `update` find a row by the parameters `where(key)` gives."""
        self.select, self.update, self.insert, self.where = select, update, insert, where
        self.rows: dict[Any, SimpleNamespace | None] = {}
        self.dirty: dict[Any, dict[str, Any]] = defaultdict(dict)
        self.new: dict[Any, dict[str, Any]] = {}

    def get(self, conn: Connection, key: Any) -> SimpleNamespace | None:
        """The row as this transaction sees it, or None if it does not exist."""
        if key not in self.rows:
            found = fast.first(conn, self.select, self.where(key))
            self.rows[key] = None if found is None else SimpleNamespace(**found._asdict())
        return self.rows[key]

    def prefetch(self, conn: Connection, keys: Iterable[Any], many: Any) -> None:
        """Read the rows of `keys` not yet held, with `many` (the same columns as `select`
        and the key labelled `key`, for the keys in the expanding parameter `keys`): one
        query per few hundred rows rather than one a row, where a query is a round trip."""
        wanted = sorted({key for key in keys if key not in self.rows})
        for start in range(0, len(wanted), _PREFETCH_CHUNK):
            chunk = wanted[start : start + _PREFETCH_CHUNK]
            found = {}
            for row in conn.execute(many, {"keys": chunk}):
                values = row._asdict()
                found[values.pop("key")] = SimpleNamespace(**values)
            for key in chunk:
                self.rows[key] = found.get(key)

    def add(self, key: Any, values: dict[str, Any]) -> SimpleNamespace:
        """A new row, inserted at `flush`."""
        self.new[key] = dict(values)
        row = self.rows[key] = SimpleNamespace(**values)
        return row

    def change(self, key: Any, changes: dict[str, Any]) -> None:
        """Set columns of a row read or added in this transaction."""
        row = self.rows[key]
        assert row is not None
        row.__dict__.update(changes)
        if key in self.new:
            self.new[key].update(changes)
        else:
            self.dirty[key].update(changes)

    def flush(self, conn: Connection) -> None:
        """Write new and changed rows: one statement per shape of change."""
        if self.new:
            by_shape: dict[frozenset[str], list[dict[str, Any]]] = defaultdict(list)
            for values in self.new.values():
                by_shape[frozenset(values)].append(values)
            for rows in by_shape.values():
                fast.run(conn, self.insert, rows)
        by_shape = defaultdict(list)
        for key, changes in self.dirty.items():
            if changes:
                by_shape[frozenset(changes)].append({**self.where(key), **changes})
        for rows in by_shape.values():
            fast.run(conn, self.update, rows)
        self.new.clear()
        self.dirty.clear()
