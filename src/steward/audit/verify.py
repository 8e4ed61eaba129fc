"""`verify`: walk the chain and the checkpoints; the first bad sequence number, or ok.

What it tells apart, at the first sequence number where the chain breaks:

- modified: a record's fields no longer hash to its stored hash, or a record was
  re-hashed after a change so the next record no longer chains to it;
- missing: a sequence number with no record (deleted);
- reordered: a record that hashes correctly only at another sequence number (moved);
- truncated: the log ends before a signed checkpoint (or the head row) says it reached;
- bad-signature: a checkpoint or archive segment whose signature does not verify.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.audit.chain import canonical_form, digest
from steward.audit.checkpoints import (
    Signer,
    checkpoint_message,
    list_checkpoints,
    local_checkpoints,
)
from steward.audit.log import head
from steward.audit.models import Checkpoint, Problem, Verification
from steward.audit.retention import (
    Segment,
    archive_dir,
    base_of_live_log,
    list_segments,
    segment_lines,
    segment_message,
)
from steward.store import Store, fast
from steward.store.schema import audit_records

PAGE = 50_000
_COLUMNS = (
    "seq",
    "recorded_at",
    "actor_user",
    "actor_groups",
    "actor_token_id",
    "action",
    "dataset",
    "columns",
    "decision",
    "policy",
    "details",
    "prev_hash",
    "hash",
)
_PAGE = (
    sa.select(*(audit_records.c[name] for name in _COLUMNS))
    .where(audit_records.c.seq > sa.bindparam("after"))
    .order_by(audit_records.c.seq)
    .limit(sa.bindparam("page"))
)


class Broken(Exception):
    """The first problem found; carries the Verification fields."""

    def __init__(self, seq: int, problem: Problem, message: str) -> None:
        super().__init__(message)
        self.seq, self.problem, self.message = seq, problem, message


@dataclass
class _Walk:
    seq: int
    hash: str
    records: int = 0


def verify(
    store: Store,
    signer: Signer,
    home: Path,
    *,
    archive: bool = False,
    checkpoints: Iterable[Checkpoint] = (),
) -> Verification:
    """Walk the live log (and with `archive`, every archive segment first) and check every
    checkpoint: those in the store, in `$STEWARD_HOME/audit/checkpoints.jsonl`, and the
    exported ones passed as `checkpoints`."""
    with store.read() as conn:
        head_seq, _ = head(conn)
        known = _unique([*list_checkpoints(conn), *local_checkpoints(home), *checkpoints])
        segments = list_segments(conn)
        base_seq, base_hash, base_segment = base_of_live_log(conn)
        expected = {cp.seq: cp for cp in known}
        walk = _Walk(0, "0" * 64)
        try:
            for cp in known:
                if cp.key_id != signer.key_id or not signer.verifies(
                    checkpoint_message(cp.seq, cp.head_hash, cp.signed_at), cp.signature
                ):
                    raise Broken(
                        cp.seq,
                        "bad-signature",
                        f"checkpoint at seq {cp.seq}: signature does not verify",
                    )
            for segment in segments:
                _check_segment_signature(signer, segment)
            if archive:
                for segment in segments:
                    _walk_segment(home, segment, walk, expected)
            else:
                walk.seq, walk.hash = base_seq, base_hash
            if base_segment is not None and (walk.seq, walk.hash) != (base_seq, base_hash):
                raise Broken(
                    base_seq, "modified", "archive segments do not end where the log starts"
                )
            _walk_live(conn, walk, expected)
            _check_tail(walk, known, head_seq)
        except Broken as broken:
            return Verification(
                ok=False,
                records=walk.records,
                checkpoints=len(known),
                first_bad_seq=broken.seq,
                problem=broken.problem,
                message=broken.message,
                segments=len(segments),
                head_seq=walk.seq,
            )
    return Verification(
        ok=True,
        records=walk.records,
        checkpoints=len(known),
        segments=len(segments),
        head_seq=walk.seq,
        message=f"{walk.records} records and {len(known)} checkpoints verify",
    )


def _unique(checkpoints: list[Checkpoint]) -> list[Checkpoint]:
    seen: dict[tuple[int, str, str], Checkpoint] = {}
    for cp in checkpoints:
        seen.setdefault((cp.seq, cp.head_hash, cp.signature), cp)
    return sorted(seen.values(), key=lambda cp: cp.seq)


def _check_segment_signature(signer: Signer, segment: Segment) -> None:
    message = segment_message(
        segment.first_seq, segment.last_seq, segment.head_hash, segment.file_sha256
    )
    if segment.key_id != signer.key_id or not signer.verifies(message, segment.signature):
        raise Broken(
            segment.first_seq,
            "bad-signature",
            f"archive segment {segment.file_name}: signature does not verify",
        )


def _walk_segment(
    home: Path, segment: Segment, walk: _Walk, expected: dict[int, Checkpoint]
) -> None:
    if not (archive_dir(home) / segment.file_name).exists():
        raise Broken(segment.first_seq, "missing", f"archive segment {segment.file_name} is gone")
    file_hash = hashlib.sha256()
    for line in segment_lines(home, segment):
        file_hash.update(line + b"\n")
        try:
            data = orjson.loads(line)
            seq, prev = int(data["seq"]), str(data["prev"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            raise Broken(
                walk.seq + 1, "modified", f"{segment.file_name}: unreadable line"
            ) from None
        _link(walk, seq, prev, digest(line), expected, where=segment.file_name)
    if walk.seq != segment.last_seq:
        raise Broken(walk.seq + 1, "truncated", f"{segment.file_name} ends at seq {walk.seq}")
    if walk.hash != segment.head_hash or file_hash.hexdigest() != segment.file_sha256:
        raise Broken(segment.last_seq, "modified", f"{segment.file_name} is not the file signed")


def _link(
    walk: _Walk, seq: int, prev: str, actual: str, expected: dict[int, Checkpoint], *, where: str
) -> None:
    if seq > walk.seq + 1:
        raise Broken(walk.seq + 1, "missing", f"record {walk.seq + 1} is missing ({where})")
    if seq != walk.seq + 1 or prev != walk.hash:
        raise Broken(walk.seq + 1, "modified", f"record {walk.seq + 1} does not chain ({where})")
    walk.seq, walk.hash, walk.records = seq, actual, walk.records + 1
    cp = expected.get(seq)
    if cp is not None and cp.head_hash != actual:
        raise Broken(seq, "modified", f"record {seq} is not what checkpoint {seq} signed")


def _pages(conn: Connection, after: int) -> Iterator[Sequence[Any]]:
    plan = fast.prepared(conn, _PAGE)
    while True:
        cursor = conn.connection.cursor()
        try:
            cursor.execute(plan.sql, plan.params({"after": after, "page": PAGE}))
            rows = cursor.fetchall()
        finally:
            cursor.close()
        if not rows:
            return
        yield rows
        after = rows[-1][0]


def _walk_live(conn: Connection, walk: _Walk, expected: dict[int, Checkpoint]) -> None:
    for rows in _pages(conn, walk.seq):
        for row in rows:
            seq = row[0]
            actual = digest(_canonical(row, seq))
            if seq == walk.seq + 1 and row[11] == walk.hash and actual == row[12]:
                walk.seq, walk.hash, walk.records = seq, actual, walk.records + 1
                cp = expected.get(seq)
                if cp is not None and cp.head_hash != actual:
                    raise Broken(
                        seq, "modified", f"record {seq} is not what checkpoint {seq} signed"
                    )
                continue
            _diagnose(conn, walk, row, actual)


def _canonical(row: Any, seq: int) -> bytes:
    return canonical_form(
        seq=seq,
        time=row[1],
        user=row[2],
        groups_json=row[3],
        token_id=row[4],
        action=row[5],
        dataset=row[6],
        columns_json=row[7],
        decision=row[8],
        policy=row[9],
        details_json=row[10],
        prev=row[11],
    )


def _diagnose(conn: Connection, walk: _Walk, row: Any, actual: str) -> None:
    """Name what is wrong at the first record that does not fit the chain."""
    seq, want = row[0], walk.seq + 1
    if seq > want:
        raise Broken(want, "missing", f"record {want} is missing")
    if actual != row[12]:
        # Content that hashes correctly under another sequence number was moved here.
        for other in _nearby(want):
            if digest(_canonical(row, other)) == row[12]:
                raise Broken(
                    want, "reordered", f"record {want} holds the record written as {other}"
                )
        raise Broken(want, "modified", f"record {want} no longer matches its hash")
    if row[11] != walk.hash:
        if walk.seq == 0 or _is_first_live(conn, walk.seq):
            raise Broken(want, "modified", f"record {want} does not chain to the log's start")
        raise Broken(
            walk.seq,
            "modified",
            f"record {walk.seq} was changed and re-hashed: record {want} chained to another hash",
        )


def _is_first_live(conn: Connection, seq: int) -> bool:
    first = conn.execute(sa.select(sa.func.min(audit_records.c.seq))).scalar()
    return first is None or seq < int(first)


def _nearby(seq: int, reach: int = 5_000) -> Iterator[int]:
    for step in range(1, reach):
        yield seq + step
        if seq - step > 0:
            yield seq - step


def _check_tail(walk: _Walk, known: list[Checkpoint], head_seq: int) -> None:
    beyond = [cp for cp in known if cp.seq > walk.seq]
    if beyond:
        kept = [cp.seq for cp in known if cp.seq <= walk.seq]
        after = f"checkpoint {kept[-1]}" if kept else "the start"
        raise Broken(
            walk.seq + 1,
            "truncated",
            f"truncated after {after}: the log ends at seq {walk.seq} but checkpoint "
            f"{beyond[0].seq} was signed",
        )
    if head_seq > walk.seq:
        raise Broken(
            walk.seq + 1,
            "truncated",
            f"the log ends at seq {walk.seq} but its head row says {head_seq} were written",
        )
