"""Helpers for audit tests: a log with records, and raw edits as a tamperer would make them."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from steward.app import Steward
from steward.audit.checkpoints import Signer
from steward.audit.log import record
from steward.audit.models import Resource
from steward.identity.models import Principal

ANA = Principal("ana", frozenset({"analysts"}), token_id="tok_ana")
BOB = Principal("bob", frozenset({"eng", "analysts"}), token_id="tok_bob")


def append(steward: Steward, count: int, *, actor: Principal = ANA) -> list[int]:
    """`count` query records, each in its own transaction."""
    seqs = []
    for i in range(count):
        with steward.store.write() as conn:
            seqs.append(
                record(
                    conn,
                    actor=actor,
                    action="query",
                    resource=Resource("lake.crm.customers", ("id", "email")),
                    decision="masked" if i % 2 else "allowed",
                    policy="mask_email" if i % 2 else None,
                    details={"sql": f"SELECT id, email FROM customers -- {i}"},
                )
            )
    return seqs


def tamper(steward: Steward, sql: str, **params: object) -> None:
    """An edit made straight in the database, as an administrator could."""
    with steward.store.engine.begin() as conn:
        conn.execute(sa.text(sql), params)


@pytest.fixture
def signer(steward: Steward) -> Signer:
    return Signer.load(steward.settings.home)
