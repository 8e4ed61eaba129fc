"""The canonical form of a record and the hash that chains it to the one before.

A record's canonical form is the UTF-8 JSON object below with keys sorted and no
whitespace (`orjson` with `OPT_SORT_KEYS`); its hash is the SHA-256 of those bytes,
hex-encoded. `prev` is the previous record's hash (64 zeros before the first record),
so changing, removing or moving any record breaks every link after it::

    {"action":"query","actor":{"groups":["analysts"],"token_id":"a1b2c3d4e5f6","user":"ana"},
     "columns":["email"],"dataset":"lake.crm.customers","decision":"masked",
     "details":{...},"policy":"mask_email","prev":"<64 hex>","seq":42,
     "time":"2026-11-26T10:00:00.123456Z"}
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson

GENESIS = "0" * 64


def to_canonical_json(value: Any) -> str:
    """`value` as canonical JSON text: sorted keys, no whitespace."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def format_time(time: datetime | str) -> str:
    """A naive UTC time as the canonical form writes it, to the microsecond.

    A string is a time as SQLite stores it (`2026-11-26 10:00:00.123456`), read raw.
    """
    if isinstance(time, str):
        return f"{time[:10]}T{time[11:]}Z"
    # isoformat is the same text as strftime("%Y-%m-%dT%H:%M:%S.%fZ"), at a fifth the cost.
    return time.isoformat(timespec="microseconds") + "Z"


def canonical_form(
    *,
    seq: int,
    time: datetime | str,
    user: str | None,
    groups_json: str,
    token_id: str | None,
    action: str,
    dataset: str | None,
    columns_json: str,
    decision: str,
    policy: str | None,
    details_json: str,
    prev: str,
) -> bytes:
    """The bytes a record's hash is taken over; the `*_json` arguments are canonical JSON."""
    return orjson.dumps(
        {
            "action": action,
            "actor": {
                "groups": orjson.Fragment(groups_json),
                "token_id": token_id,
                "user": user,
            },
            "columns": orjson.Fragment(columns_json),
            "dataset": dataset,
            "decision": decision,
            "details": orjson.Fragment(details_json),
            "policy": policy,
            "prev": prev,
            "seq": seq,
            "time": format_time(time),
        },
        option=orjson.OPT_SORT_KEYS,
    )


def row_canonical_form(row: Mapping[Any, Any]) -> bytes:
    """The canonical form of a stored `audit_records` row (by column name)."""
    return canonical_form(
        seq=row["seq"],
        time=row["recorded_at"],
        user=row["actor_user"],
        groups_json=row["actor_groups"],
        token_id=row["actor_token_id"],
        action=row["action"],
        dataset=row["dataset"],
        columns_json=row["columns"],
        decision=row["decision"],
        policy=row["policy"],
        details_json=row["details"],
        prev=row["prev_hash"],
    )


def digest(canonical: bytes) -> str:
    """The SHA-256 of a canonical form, hex-encoded."""
    return hashlib.sha256(canonical).hexdigest()
