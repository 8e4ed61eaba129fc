"""Hot statements run on the driver's cursor, compiled once, with SQLAlchemy's own types.

SQLAlchemy's execution machinery costs tens of microseconds a statement, more than
SQLite takes to run a lookup by key, and the ingest path runs a dozen statements an
event. `prepared(statement, dialect, keys)` compiles a Core statement once; its
`rows` and `run` send the SQL straight to the DBAPI cursor inside the caller's
transaction, converting values with the bind and result processors SQLAlchemy would
have used, so what is stored is the same either way.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

Processor = Callable[[Any], Any] | None


class Prepared:
    """One compiled statement for one dialect."""

    def __init__(self, statement: Any, dialect: Dialect, keys: tuple[str, ...]) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(keys) or None)
        self.sql: str = compiled.string
        self.order: Sequence[str] | None = compiled.positiontup
        self.binds: dict[str, Callable[[Any], Any]] = {}
        # Values written into the statement itself (`direction == "input"`).
        self.fixed = {
            name: bind.effective_value
            for name, bind in compiled.binds.items()
            if not bind.required and bind.callable is None and name not in keys
        }
        for name, bind in compiled.binds.items():
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                self.binds[name] = process
        columns = list(statement.selected_columns) if isinstance(statement, sa.Select) else []
        self.results: list[Processor] = [
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        ]
        self.plain_results = not any(self.results)
        self.converters: list[tuple[int, Callable[[Any], Any]]] = [
            (i, p) for i, p in enumerate(self.results) if p is not None
        ]
        names = [column.key or f"c{i}" for i, column in enumerate(columns)]
        self.row: Any = namedtuple("Row", names, rename=True)  # type: ignore[misc]

    def params(self, values: dict[str, Any]) -> Any:
        if self.fixed:
            values = {**self.fixed, **values}
        if self.binds:
            values = {k: (self.binds[k](v) if k in self.binds else v) for k, v in values.items()}
        if self.order is None:
            return values
        return tuple(values[name] for name in self.order)

    def rows(self, conn: Connection, values: dict[str, Any]) -> list[Any]:
        """Run a SELECT; every row as a named tuple."""
        cursor = conn.connection.cursor()
        try:
            cursor.execute(self.sql, self.params(values))
            found = cursor.fetchall()
        finally:
            cursor.close()
        make = self.row._make
        if self.plain_results:
            return [make(row) for row in found]
        converted = []
        for row in found:
            cells = list(row)
            for index, process in self.converters:
                cells[index] = process(cells[index])
            converted.append(make(cells))
        return converted

    def run(self, conn: Connection, values: dict[str, Any] | list[dict[str, Any]]) -> None:
        """Run an INSERT, UPDATE or DELETE, once or for each parameter set."""
        cursor = conn.connection.cursor()
        try:
            if isinstance(values, list):
                cursor.executemany(self.sql, [self.params(v) for v in values])
            else:
                cursor.execute(self.sql, self.params(values))
        finally:
            cursor.close()


@cache
def _prepare(statement: Any, dialect: Dialect, keys: tuple[str, ...]) -> Prepared:
    return Prepared(statement, dialect, keys)


def prepared(conn: Connection, statement: Any, keys: Sequence[str] = ()) -> Prepared:
    """`statement` compiled for `conn`'s dialect; `keys` name the columns an INSERT or
    UPDATE sets (with the statement's own bind parameters)."""
    return _prepare(statement, conn.dialect, tuple(keys))


def rows(conn: Connection, statement: Any, values: dict[str, Any]) -> list[Any]:
    """Every row a SELECT returns, as named tuples."""
    return prepared(conn, statement).rows(conn, values)


def tuples(conn: Connection, statement: Any, values: dict[str, Any]) -> list[Any]:
    """Every row a SELECT returns, as the driver gives it: for wide scans of plain columns."""
    plan = prepared(conn, statement)
    if not plan.plain_results:
        raise TypeError("tuples() is for statements whose columns need no conversion")
    cursor = conn.connection.cursor()
    try:
        cursor.execute(plan.sql, plan.params(values))
        return list(cursor.fetchall())
    finally:
        cursor.close()


def one(conn: Connection, statement: Any, values: dict[str, Any]) -> Any:
    """The one row a SELECT must return."""
    found = prepared(conn, statement).rows(conn, values)
    if len(found) != 1:
        raise LookupError(f"expected one row, got {len(found)}: {statement}")
    return found[0]


def first(conn: Connection, statement: Any, values: dict[str, Any]) -> Any | None:
    """The first row a SELECT returns, or None."""
    found = prepared(conn, statement).rows(conn, values)
    return found[0] if found else None


def run(conn: Connection, statement: Any, values: dict[str, Any] | list[dict[str, Any]]) -> None:
    """Run an INSERT, UPDATE or DELETE whose parameters (and SET columns) are `values`."""
    if isinstance(values, list) and not values:
        return
    keys = sorted(values[0] if isinstance(values, list) else values)
    prepared(conn, statement, keys).run(conn, values)
