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


def among_parameter(
    column: sa.ColumnElement[int], name: str, dialect: str
) -> sa.ColumnElement[bool]:
    """`column` is one of the ids bound later as `name` (see `id_list`): for prepared statements."""
    if dialect == "postgresql":
        return column == sa.any_(sa.bindparam(name, type_=postgresql.ARRAY(sa.Integer)))
    values = sa.func.json_each(sa.bindparam(name, type_=sa.String)).table_valued("value")
    return column.in_(sa.select(values.c.value))


def id_list(ids: Collection[int], dialect: str) -> object:
    """The value to bind for `among_parameter`."""
    return list(ids) if dialect == "postgresql" else orjson.dumps(list(ids)).decode()
