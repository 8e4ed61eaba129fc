"""INSERT ... ON CONFLICT DO NOTHING for the two backends Steward runs on."""

from __future__ import annotations

from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection


def insert_ignoring_conflicts(conn: Connection, table: sa.Table, conflict: list[str]) -> Any:
    """An insert into `table` that skips rows clashing on the unique columns `conflict`."""
    return _insert(conn.dialect.name, table, tuple(conflict))


@cache
def _insert(dialect_name: str, table: sa.Table, conflict: tuple[str, ...]) -> Any:
    # Built once per table: statements are immutable, and building one costs a query's time.
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing(index_elements=list(conflict))
