"""The shapes of the audit log: what a record names, and what verification finds."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

# allowed: done as asked; denied: refused; masked: done with column masks;
# filtered: done with row filters; failed: an attempt that did not succeed (a bad token).
DECISIONS = ("allowed", "denied", "masked", "filtered", "failed")
Decision = Literal["allowed", "denied", "masked", "filtered", "failed"]

Problem = Literal["modified", "missing", "reordered", "truncated", "bad-signature"]


@dataclass(frozen=True)
class Resource:
    """What a record is about: a dataset and (for reads) the columns touched."""

    dataset: str | None = None
    columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class AuditRecord:
    """One record of the log as stored, with its place in the chain."""

    seq: int
    time: datetime
    user: str | None
    groups: tuple[str, ...]
    token_id: str | None
    action: str
    dataset: str | None
    columns: tuple[str, ...]
    decision: str
    policy: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str

    def to_json(self) -> dict[str, Any]:
        """The record as the API and exports show it."""
        return {
            "seq": self.seq,
            "time": self.time.isoformat(timespec="microseconds") + "Z",
            "actor": {"user": self.user, "groups": list(self.groups), "token_id": self.token_id},
            "action": self.action,
            "resource": {"dataset": self.dataset, "columns": list(self.columns)},
            "decision": self.decision,
            "policy": self.policy,
            "details": self.details,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement: at `seq` the chain's head was `head_hash`."""

    seq: int
    head_hash: str
    signed_at: datetime
    key_id: str
    signature: str

    def to_json(self) -> dict[str, Any]:
        """The checkpoint as exported (one JSON object a line)."""
        return {
            "seq": self.seq,
            "head_hash": self.head_hash,
            "signed_at": self.signed_at.isoformat(timespec="microseconds") + "Z",
            "key_id": self.key_id,
            "signature": self.signature,
        }


@dataclass(frozen=True)
class Verification:
    """What `verify` found: `ok`, or the first bad sequence number and what is wrong."""

    ok: bool
    records: int
    checkpoints: int
    first_bad_seq: int | None = None
    problem: Problem | None = None
    message: str = ""
    segments: int = 0
    head_seq: int = 0
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The result as the API and `steward audit verify --json` show it."""
        return {
            "ok": self.ok,
            "records": self.records,
            "checkpoints": self.checkpoints,
            "segments": self.segments,
            "head_seq": self.head_seq,
            "first_bad_seq": self.first_bad_seq,
            "problem": self.problem,
            "message": self.message,
        }
