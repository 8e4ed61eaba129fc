"""Appending to the audit log, inside the caller's transaction, and reading it back.

Other domains call `record(conn, ...)` with the connection of THEIR write transaction
(`with store.write() as conn:`), so the record commits or rolls back with the change
it records. Call it last in the transaction: it locks the chain's head row until commit,
which is what keeps one chain without gaps under concurrent writers (SQLite writers are
already serialized by BEGIN IMMEDIATE; on PostgreSQL the row lock queues them)::

    from steward.audit.log import record
    from steward.audit.models import Resource

    with store.write() as conn:
        ...  # the change itself
        record(conn, actor=principal, action="catalog.tag",
               resource=Resource("lake.crm.customers", ("email",)),
               details={"tag": "pii.email"})

Actions are dotted names in the user's words: `query`, `token.create`, `token.revoke`,
`auth.failed`, `lineage.ingest`, `catalog.describe`, `catalog.own`, `catalog.tag`,
`policy.apply` ... A query reading several tables lists them in `details["inputs"]`
(`[{"dataset": ..., "columns": [...]}, ...]`), which the dataset and column filters
and the PII report read along with `resource`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.audit.chain import canonical_form, digest, to_canonical_json
from steward.audit.models import DECISIONS, AuditRecord, Resource
from steward.errors import InvalidInput
from steward.identity.models import Principal
from steward.store import fast
from steward.store.schema import audit_access, audit_head, audit_records

_ACTION = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
_HEAD = sa.select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1).with_for_update()
_SET_HEAD = audit_head.update().where(audit_head.c.id == 1)
_MOVE_HEAD = (
    audit_head.update()
    .where(
        audit_head.c.id == 1,
        audit_head.c.seq == sa.bindparam("was_seq"),
        audit_head.c.hash == sa.bindparam("was_hash"),
    )
    .values(seq=sa.bindparam("seq"), hash=sa.bindparam("hash"))
    .returning(audit_head.c.seq)
)
# Built once: `store.fast` caches a compiled statement by the statement object.
_INSERT_RECORD = audit_records.insert()
_INSERT_ACCESS = audit_access.insert()


def now() -> datetime:
    """The current time as the log stores it: naive UTC, to the microsecond."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True, slots=True)
class Draft:
    """One record checked and written as JSON, waiting for its place in the chain.

    `draft` makes one; `append` gives each its sequence number and hash. Building it
    is the caller's work (validation, canonical JSON), outside any transaction.
    """

    actor_user: str | None
    actor_groups: str
    actor_token_id: str | None
    action: str
    dataset: str | None
    columns: str
    decision: str
    policy: str | None
    details: str
    reads: tuple[tuple[str, str | None], ...]


def draft(
    *,
    actor: Principal | None,
    action: str,
    resource: Resource | None = None,
    decision: str = "allowed",
    policy: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> Draft:
    """A record as `record` would write it, checked; errors name the field at fault."""
    if not _ACTION.match(action):
        raise InvalidInput(f"action: {action!r} is not a dotted lower-case name like 'query'")
    if decision not in DECISIONS:
        raise InvalidInput(f"decision: {decision!r} is not one of {', '.join(DECISIONS)}")
    resource = resource or Resource()
    try:
        details_json = to_canonical_json(dict(details or {}))
    except TypeError as exc:
        raise InvalidInput(f"details: cannot be written as JSON ({exc})") from None
    user = actor.user if actor else None
    for name, text in (("user", user), ("dataset", resource.dataset)):
        if text is not None and "\x00" in text:
            raise InvalidInput(f"{name}: NUL characters are not allowed")
    return Draft(
        actor_user=user,
        actor_groups=to_canonical_json(sorted(actor.groups) if actor else []),
        actor_token_id=actor.token_id if actor else None,
        action=action,
        dataset=resource.dataset,
        columns=to_canonical_json(list(resource.columns)),
        decision=decision,
        policy=policy,
        details=details_json,
        reads=tuple(_reads(resource, details)),
    )


def append(conn: Connection, drafts: Sequence[Draft]) -> list[int]:
    """Chain `drafts` after the head, in order, inside the caller's transaction; their seqs.

    Reads the head row FOR UPDATE (PostgreSQL queues other writers on it until commit;
    SQLite writers are serialized by BEGIN IMMEDIATE), writes every record and every
    access row with one statement each, and moves the head once.
    """
    if not drafts:
        return []
    last = append_to_head(conn, drafts)[0]
    return list(range(last - len(drafts) + 1, last + 1))


def append_to_head(conn: Connection, drafts: Sequence[Draft]) -> tuple[int, str]:
    """`append`, returning the new head (seq, hash) instead of the seqs."""
    head = fast.one(conn, _HEAD, {})
    rows, access, new = _chain(drafts, int(head.seq), str(head.hash))
    _insert(conn, rows, access)
    fast.run(conn, _SET_HEAD, {"seq": new[0], "hash": new[1]})
    return new


def append_after(
    conn: Connection, drafts: Sequence[Draft], head: tuple[int, str]
) -> tuple[int, str] | None:
    """Chain `drafts` after `head`, the head as this writer last left it: the new head, or
    None when the head has moved since (another writer's record), and the caller must
    roll back and `append` (which reads it).

    The head is moved first, by a conditional update that locks its row (as `append`'s
    read FOR UPDATE does) only if it is still `head`, so there is no separate statement
    to read it; the records follow. On PostgreSQL the three statements go in one round
    trip when the caller sends them in a pipeline.
    """
    rows, access, new = _chain(drafts, *head)
    plan = fast.prepared(conn, _MOVE_HEAD)
    cursor = conn.connection.cursor()
    try:
        values = {"was_seq": head[0], "was_hash": head[1], "seq": new[0], "hash": new[1]}
        cursor.execute(plan.sql, plan.params(values))
        _insert(conn, rows, access)
        moved = cursor.fetchone()
    finally:
        cursor.close()
    return new if moved is not None else None


def _chain(
    drafts: Sequence[Draft], seq: int, prev: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], tuple[int, str]]:
    """The rows of `drafts` chained after (`seq`, `prev`), their access rows, the new head."""
    # One time for the statement's records: they were written together.
    at = now()
    rows: list[dict[str, Any]] = []
    access: list[dict[str, Any]] = []
    for item in drafts:
        seq += 1
        record_hash = digest(
            canonical_form(
                seq=seq,
                time=at,
                user=item.actor_user,
                groups_json=item.actor_groups,
                token_id=item.actor_token_id,
                action=item.action,
                dataset=item.dataset,
                columns_json=item.columns,
                decision=item.decision,
                policy=item.policy,
                details_json=item.details,
                prev=prev,
            )
        )
        rows.append(
            {
                "seq": seq,
                "recorded_at": at,
                "actor_user": item.actor_user,
                "actor_groups": item.actor_groups,
                "actor_token_id": item.actor_token_id,
                "action": item.action,
                "dataset": item.dataset,
                "columns": item.columns,
                "decision": item.decision,
                "policy": item.policy,
                "details": item.details,
                "prev_hash": prev,
                "hash": record_hash,
            }
        )
        access += [{"seq": seq, "dataset": d, "column": c} for d, c in item.reads]
        prev = record_hash
    return rows, access, (seq, prev)


def _insert(conn: Connection, rows: list[dict[str, Any]], access: list[dict[str, Any]]) -> None:
    # One row goes by `execute`: a driver's `executemany` costs more for a lone row
    # (psycopg opens a pipeline).
    fast.run(conn, _INSERT_RECORD, rows if len(rows) > 1 else rows[0])
    fast.run(conn, _INSERT_ACCESS, access)


def record(
    conn: Connection,
    *,
    actor: Principal | None,
    action: str,
    resource: Resource | None = None,
    decision: str = "allowed",
    policy: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> int:
    """Append one record to the chain inside the caller's transaction; its sequence number.

    `actor` None means Steward itself, or nobody proven (a failed token). A record that
    is not part of another change goes through `AuditWriter` instead (group commit).
    """
    made = draft(
        actor=actor,
        action=action,
        resource=resource,
        decision=decision,
        policy=policy,
        details=details,
    )
    return append(conn, [made])[0]


# A refused request chooses its own path and method; the log keeps this much of each.
FAILED_TEXT_CHARS = 200


def failed_token(*, token_id: str | None, reason: str, details: Mapping[str, Any]) -> Draft:
    """The record of a token that was presented and refused (`auth.failed`).

    The secret is never recorded: only the token id it claims, if it has the shape of one.
    Text the caller chose (the path, the method) is cut to `FAILED_TEXT_CHARS`; a cut value
    ends with `…` and its full length is kept beside it as `<name>_chars`. It is not part
    of another change: append it with the `AuditWriter` (group commit).
    """
    bounded: dict[str, Any] = {}
    for name, value in {**details, "token_id": token_id, "reason": reason}.items():
        if isinstance(value, str) and len(value) > FAILED_TEXT_CHARS:
            bounded[name] = value[:FAILED_TEXT_CHARS] + "…"
            bounded[f"{name}_chars"] = len(value)
        else:
            bounded[name] = value
    return draft(actor=None, action="auth.failed", decision="failed", details=bounded)


def _reads(resource: Resource, details: Mapping[str, Any] | None) -> list[tuple[str, str | None]]:
    """Every (dataset, column) the record names; (dataset, None) for a dataset without columns."""
    found: dict[tuple[str, str | None], None] = {}

    def add(dataset: object, columns: Iterable[object]) -> None:
        if not isinstance(dataset, str) or not dataset:
            return
        names: list[str | None] = [c for c in columns if isinstance(c, str)]
        for column in names or [None]:
            found[(dataset, column)] = None

    add(resource.dataset, resource.columns)
    inputs = (details or {}).get("inputs")
    if isinstance(inputs, list):
        for item in inputs:
            if isinstance(item, Mapping):
                columns = item.get("columns")
                add(item.get("dataset"), columns if isinstance(columns, list) else [])
    return list(found)


@dataclass(frozen=True)
class AuditFilter:
    """Which records to read; every field is optional and they combine with AND.

    `action` ending in `*` matches a prefix (`token.*`).
    """

    user: str | None = None
    dataset: str | None = None
    column: str | None = None
    action: str | None = None
    decision: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    @classmethod
    def parse(
        cls,
        *,
        user: str | None = None,
        dataset: str | None = None,
        column: str | None = None,
        action: str | None = None,
        decision: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> AuditFilter:
        """A filter from text as a caller gives it; errors name the field at fault."""
        if decision is not None and decision not in DECISIONS:
            raise InvalidInput(f"decision: {decision!r} is not one of {', '.join(DECISIONS)}")
        return cls(
            user=user,
            dataset=dataset,
            column=column,
            action=action,
            decision=decision,
            since=parse_time("since", since),
            until=parse_time("until", until),
        )

    def where(self) -> list[sa.ColumnElement[bool]]:
        """The SQL conditions this filter stands for."""
        t = audit_records.c
        conditions: list[sa.ColumnElement[bool]] = []
        if self.user is not None:
            conditions.append(t.actor_user == self.user)
        if self.action is not None:
            if self.action.endswith("*"):
                prefix = self.action[:-1].replace("\\", "\\\\").replace("%", "\\%")
                conditions.append(t.action.like(prefix.replace("_", "\\_") + "%", escape="\\"))
            else:
                conditions.append(t.action == self.action)
        if self.decision is not None:
            conditions.append(t.decision == self.decision)
        if self.since is not None:
            conditions.append(t.recorded_at >= self.since)
        if self.until is not None:
            conditions.append(t.recorded_at < self.until)
        if self.dataset is not None or self.column is not None:
            reads = sa.select(audit_access.c.seq)
            if self.dataset is not None:
                reads = reads.where(audit_access.c.dataset == self.dataset)
            if self.column is not None:
                reads = reads.where(audit_access.c.column == self.column)
            conditions.append(t.seq.in_(reads))
        return conditions


def list_records(
    conn: Connection, where: AuditFilter | None = None, *, limit: int = 100, offset: int = 0
) -> list[AuditRecord]:
    """A page of records matching `where`, newest first."""
    query = (
        sa.select(audit_records)
        .where(*(where or AuditFilter()).where())
        .order_by(audit_records.c.seq.desc())
        .limit(limit)
        .offset(offset)
    )
    return [to_record(row._mapping) for row in conn.execute(query)]


def records_after(conn: Connection, seq: int, *, limit: int) -> list[AuditRecord]:
    """Up to `limit` records with a sequence number above `seq`, oldest first (exports)."""
    query = (
        sa.select(audit_records)
        .where(audit_records.c.seq > seq)
        .order_by(audit_records.c.seq)
        .limit(limit)
    )
    return [to_record(row._mapping) for row in conn.execute(query)]


def head(conn: Connection) -> tuple[int, str]:
    """The chain's head as last written: (sequence number, hash)."""
    row = conn.execute(sa.select(audit_head.c.seq, audit_head.c.hash)).one()
    return int(row.seq), str(row.hash)


def to_record(row: Mapping[Any, Any]) -> AuditRecord:
    """A stored row as an `AuditRecord`."""
    return AuditRecord(
        seq=int(row["seq"]),
        time=row["recorded_at"],
        user=row["actor_user"],
        groups=tuple(orjson.loads(row["actor_groups"])),
        token_id=row["actor_token_id"],
        action=row["action"],
        dataset=row["dataset"],
        columns=tuple(orjson.loads(row["columns"])),
        decision=row["decision"],
        policy=row["policy"],
        details=orjson.loads(row["details"]),
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )


def record_change(
    conn: Connection,
    actor: Principal,
    action: str,
    dataset: str,
    columns: tuple[str, ...],
    details: dict[str, Any],
) -> None:
    """A change to a dataset's metadata, in the shape domains' recorders take.

    Domains above the audit log (the catalog's edits, syncs and classifications) take
    a recorder rather than importing this module; the edges pass this one.
    """
    record(conn, actor=actor, action=action, resource=Resource(dataset, columns), details=details)


def parse_time(name: str, value: str | None) -> datetime | None:
    """An ISO 8601 time (`Z` or an offset welcome) as naive UTC; None stays None."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{name}: {value!r} is not an ISO 8601 time") from None
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed
