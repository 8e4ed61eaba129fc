"""Exports: Loki's push API and JSON lines files, each resuming from a stored cursor.

An exporter reads the records after its cursor (`audit_export_cursors`, one row per
exporter), sends them, and only then moves the cursor. A receiver that is down makes
the export fail and leaves the cursor where it was; the next run sends the same records
again, so nothing is lost. Queries never wait on an export: exports read the log, they
are not on the write path.

Loki: `POST <url>/loki/api/v1/push`, one stream per (user, action, decision) with those
labels plus `job="steward-audit"`; each entry's timestamp is the record's time in
nanoseconds and its line the record's JSON. Loki drops an entry equal to one it already
holds (same stream, timestamp and line), so a batch re-sent after a lost answer is not
stored twice.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

import httpx
import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.audit.log import now, records_after
from steward.audit.models import AuditRecord
from steward.errors import SourceError
from steward.store import Store
from steward.store.schema import audit_export_cursors
from steward.store.upsert import insert_ignoring_conflicts

BATCH = 1_000


@dataclass(frozen=True)
class ExportResult:
    """What one run of an exporter sent, and where its cursor is now."""

    exporter: str
    sent: int
    cursor: int


def cursor(conn: Connection, name: str) -> int:
    """The last sequence number exporter `name` has sent (0 before its first run)."""
    value = conn.execute(
        sa.select(audit_export_cursors.c.last_seq).where(audit_export_cursors.c.name == name)
    ).scalar()
    return int(value or 0)


def _advance(store: Store, name: str, seq: int) -> None:
    with store.write() as conn:
        insert = insert_ignoring_conflicts(conn, audit_export_cursors, ["name"])
        conn.execute(insert.values(name=name, last_seq=0, updated_at=now()))
        conn.execute(
            audit_export_cursors.update()
            .where(audit_export_cursors.c.name == name, audit_export_cursors.c.last_seq < seq)
            .values(last_seq=seq, updated_at=now())
        )


def catch_up(
    store: Store, name: str, send: Callable[[list[AuditRecord]], None], *, batch: int = BATCH
) -> ExportResult:
    """Send every record after `name`'s cursor, batch by batch, moving the cursor after each."""
    sent = 0
    with store.read() as conn:
        position = cursor(conn, name)
    while True:
        with store.read() as conn:
            records = records_after(conn, position, limit=batch)
        if not records:
            return ExportResult(name, sent, position)
        send(records)
        position = records[-1].seq
        _advance(store, name, position)
        sent += len(records)


def loki_payload(records: list[AuditRecord]) -> dict[str, Any]:
    """The push API body for `records`: one stream per (user, action, decision)."""
    streams: dict[tuple[str, str, str], list[list[str]]] = {}
    for item in records:
        labels = (item.user or "-", item.action, item.decision)
        nanoseconds = int(item.time.replace(tzinfo=UTC).timestamp() * 1_000_000) * 1_000
        line = orjson.dumps(item.to_json(), option=orjson.OPT_SORT_KEYS).decode()
        streams.setdefault(labels, []).append([str(nanoseconds), line])
    return {
        "streams": [
            {
                "stream": {
                    "job": "steward-audit",
                    "user": user,
                    "action": action,
                    "decision": decision,
                },
                "values": values,
            }
            for (user, action, decision), values in streams.items()
        ]
    }


def export_to_loki(
    store: Store, url: str, *, name: str = "loki", timeout: float = 10.0
) -> ExportResult:
    """Push every record Loki has not had yet; `SourceError` (cursor kept) if it is down."""
    endpoint = url.rstrip("/")
    if not endpoint.endswith("/loki/api/v1/push"):
        endpoint += "/loki/api/v1/push"

    def send(records: list[AuditRecord]) -> None:
        try:
            response = httpx.post(
                endpoint,
                content=orjson.dumps(loki_payload(records)),
                headers={"Content-Type": "application/json"},
                timeout=timeout,
            )
        except httpx.HTTPError as exc:
            raise SourceError(f"loki at {endpoint}: {exc}") from None
        if response.status_code >= 300:
            raise SourceError(
                f"loki at {endpoint}: HTTP {response.status_code} {response.text[:200]}"
            )

    return catch_up(store, name, send)


class RotatingFile:
    """A JSON lines file that becomes `<name>.1` (older `.2` ...) past `max_bytes`."""

    def __init__(self, path: Path, *, max_bytes: int, keep: int) -> None:
        self.path, self.max_bytes, self.keep = path, max_bytes, keep

    def append(self, lines: list[bytes]) -> None:
        """Append `lines`, rotating first when the file is full."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists() and self.path.stat().st_size >= self.max_bytes:
            self.rotate()
        with self.path.open("ab") as handle:
            handle.write(b"".join(line + b"\n" for line in lines))
            handle.flush()
            os.fsync(handle.fileno())

    def rotate(self) -> None:
        """`name` -> `name.1` -> `name.2` ...; the oldest beyond `keep` is removed."""
        oldest = self.path.with_name(f"{self.path.name}.{self.keep}")
        oldest.unlink(missing_ok=True)
        for number in range(self.keep - 1, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{number}")
            if older.exists():
                older.replace(self.path.with_name(f"{self.path.name}.{number + 1}"))
        if self.keep > 0:
            self.path.replace(self.path.with_name(f"{self.path.name}.1"))
        else:
            self.path.unlink()


def export_to_jsonl(
    store: Store,
    path: Path,
    *,
    max_bytes: int = 100 * 1024 * 1024,
    keep: int = 10,
    name: str = "jsonl",
) -> ExportResult:
    """Append every record not yet written to `path`, one JSON object a line, rotating."""
    target = RotatingFile(path, max_bytes=max_bytes, keep=keep)

    def send(records: list[AuditRecord]) -> None:
        target.append([orjson.dumps(r.to_json(), option=orjson.OPT_SORT_KEYS) for r in records])

    return catch_up(store, name, send)
