"""`column IN (ids)` as one bound parameter, however many ids there are.

SQLAlchemy's expanding IN renders one placeholder per value, which costs more than
the query on frontiers of thousands of ids. SQLite receives the ids as one JSON
array read by `json_each`; PostgreSQL as one array compared with `= ANY`.
"""

from __future__ import annotations

from collections.abc import Collection

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


def among(
    column: sa.ColumnElement[int], ids: Collection[int], dialect: str
) -> sa.ColumnElement[bool]:
    """`column` is one of `ids`."""
    if dialect == "postgresql":
        return column == sa.any_(sa.literal(list(ids), type_=postgresql.ARRAY(sa.Integer)))
    values = sa.func.json_each(sa.literal(orjson.dumps(list(ids)).decode())).table_valued("value")
    return column.in_(sa.select(values.c.value))
