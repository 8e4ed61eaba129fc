"""Retention: records older than a configured age move to signed archive segments.

A segment is `$STEWARD_HOME/audit/archive/segment-<first>-<last>.jsonl`, one record's
canonical form a line (so each line's SHA-256 is that record's hash), and a row in
`audit_archives` holding its range, head hash, the file's SHA-256 and an Ed25519
signature over `{"file_sha256":...,"first_seq":...,"head_hash":...,"last_seq":...}`.
The live log then chains on from the segment's head; `steward audit verify --archive`
walks the segments and the live log as one chain.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.audit.chain import GENESIS, digest, row_canonical_form, to_canonical_json
from steward.audit.checkpoints import Signer, audit_home
from steward.audit.log import now
from steward.audit.rollup import refresh
from steward.errors import StewardError
from steward.store import Store
from steward.store.schema import audit_access, audit_archives, audit_records


class LogTampered(StewardError):
    """The log does not verify, so it cannot be archived as it stands."""

    http_status = 409
    exit_code = 1


@dataclass(frozen=True)
class Segment:
    """One archive segment: records `first_seq`..`last_seq`, ending at `head_hash`."""

    first_seq: int
    last_seq: int
    head_hash: str
    file_name: str
    file_sha256: str
    key_id: str
    signature: str
    archived_at: datetime

    def to_json(self) -> dict[str, Any]:
        """The segment as listed by the API and CLI."""
        return {
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "head_hash": self.head_hash,
            "file": self.file_name,
            "file_sha256": self.file_sha256,
            "archived_at": self.archived_at.isoformat() + "Z",
        }


def archive_dir(home: Path) -> Path:
    """Where segments are written: `$STEWARD_HOME/audit/archive`."""
    return audit_home(home) / "archive"


def segment_message(first_seq: int, last_seq: int, head_hash: str, file_sha256: str) -> bytes:
    """The bytes a segment's signature covers."""
    return to_canonical_json(
        {
            "file_sha256": file_sha256,
            "first_seq": first_seq,
            "head_hash": head_hash,
            "last_seq": last_seq,
        }
    ).encode()


def list_segments(conn: Connection) -> list[Segment]:
    """Every archive segment, oldest first."""
    rows = conn.execute(sa.select(audit_archives).order_by(audit_archives.c.last_seq))
    return [
        Segment(
            first_seq=int(r.first_seq),
            last_seq=int(r.last_seq),
            head_hash=r.head_hash,
            file_name=r.file_name,
            file_sha256=r.file_sha256,
            key_id=r.key_id,
            signature=r.signature,
            archived_at=r.archived_at,
        )
        for r in rows
    ]


def base_of_live_log(conn: Connection) -> tuple[int, str, Segment | None]:
    """Where the live log starts: (last archived seq, its hash, that segment) or (0, genesis)."""
    segments = list_segments(conn)
    if not segments:
        return 0, GENESIS, None
    last = segments[-1]
    return last.last_seq, last.head_hash, last


def archive_before(store: Store, signer: Signer, home: Path, *, before: datetime) -> Segment | None:
    """Move every record older than `before` (a prefix of the chain) into a new segment.

    The records are checked against their hashes first: a log that does not verify is
    not archived (`LogTampered`), so archiving never launders a change.
    """
    folder = archive_dir(home)
    folder.mkdir(parents=True, exist_ok=True)
    refresh(store)  # the dashboard's counts keep the records about to leave the log
    with store.write() as conn:
        base_seq, prev, _ = base_of_live_log(conn)
        newer = conn.execute(
            sa.select(sa.func.min(audit_records.c.seq)).where(
                audit_records.c.seq > base_seq, audit_records.c.recorded_at >= before
            )
        ).scalar()
        query = sa.select(audit_records).where(audit_records.c.seq > base_seq)
        if newer is not None:
            query = query.where(audit_records.c.seq < newer)
        rows = conn.execute(query.order_by(audit_records.c.seq)).mappings().all()
        if not rows:
            return None
        first_seq, last_seq = int(rows[0]["seq"]), int(rows[-1]["seq"])
        name = f"segment-{first_seq:012d}-{last_seq:012d}.jsonl"
        path = folder / name
        partial = path.with_suffix(".partial")
        file_hash = hashlib.sha256()
        expected = base_seq + 1
        with partial.open("wb") as handle:
            for row in rows:
                line = row_canonical_form(row)
                if (
                    row["seq"] != expected
                    or row["prev_hash"] != prev
                    or digest(line) != row["hash"]
                ):
                    partial.unlink()
                    raise LogTampered(
                        f"the log does not verify at seq {expected}; run `steward audit verify`"
                    )
                handle.write(line + b"\n")
                file_hash.update(line + b"\n")
                prev, expected = row["hash"], expected + 1
            handle.flush()
            os.fsync(handle.fileno())
        segment = Segment(
            first_seq=first_seq,
            last_seq=last_seq,
            head_hash=prev,
            file_name=name,
            file_sha256=file_hash.hexdigest(),
            key_id=signer.key_id,
            signature=signer.sign(
                segment_message(first_seq, last_seq, prev, file_hash.hexdigest())
            ),
            archived_at=now(),
        )
        try:
            conn.execute(
                audit_archives.insert().values(
                    first_seq=first_seq,
                    last_seq=last_seq,
                    head_hash=prev,
                    file_name=name,
                    file_sha256=segment.file_sha256,
                    key_id=signer.key_id,
                    signature=segment.signature,
                    archived_at=segment.archived_at,
                )
            )
            conn.execute(audit_access.delete().where(audit_access.c.seq <= last_seq))
            conn.execute(audit_records.delete().where(audit_records.c.seq <= last_seq))
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        partial.replace(path)
    return segment


def segment_lines(home: Path, segment: Segment) -> Iterator[bytes]:
    """The canonical forms a segment file holds, one a line (without the newline)."""
    with (archive_dir(home) / segment.file_name).open("rb") as handle:
        for line in handle:
            yield line.rstrip(b"\n")
