"""Statements run through `steward.store.fast` store and read exactly what SQLAlchemy would."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from steward.app import Steward
from steward.store import fast
from steward.store.schema import api_tokens

ROW = {
    "token_id": "t1",
    "token_hash": "h" * 64,
    "user_name": "ünïcode",
    "groups": ["a", "b", {"nested": [1, None, True]}],
    "is_admin": True,
    "description": None,
    "created_at": datetime(2024, 2, 29, 23, 59, 59, 123456),
}


def test_insert_and_select_round_trip_like_sqlalchemy(steward: Steward) -> None:
    select = sa.select(api_tokens).where(api_tokens.c.token_id == sa.bindparam("token_id"))
    with steward.store.write() as conn:
        fast.run(conn, api_tokens.insert(), [ROW])
        ours = fast.one(conn, select, {"token_id": "t1"})
        theirs = conn.execute(select, {"token_id": "t1"}).one()
    assert tuple(ours) == tuple(theirs)
    assert ours.groups == ROW["groups"]
    assert ours.created_at == ROW["created_at"]


def test_update_sets_only_the_given_columns(steward: Steward) -> None:
    update = api_tokens.update().where(api_tokens.c.token_id == sa.bindparam("row_id"))
    with steward.store.write() as conn:
        conn.execute(api_tokens.insert(), ROW)
        fast.run(conn, update, {"row_id": "t1", "groups": ["c"], "is_admin": False})
        row = conn.execute(sa.select(api_tokens)).one()
    assert row.groups == ["c"]
    assert row.is_admin is False
    assert row.user_name == "ünïcode"
    with steward.store.read() as conn:
        missing = sa.select(api_tokens).where(api_tokens.c.token_id == sa.bindparam("t"))
        assert fast.first(conn, missing, {"t": "none"}) is None
