"""Refused tokens, audited so that a flood of them cannot flood the audit log.

The first token refused from a client in a minute is recorded in full (`auth.failed`, the
path cut to 200 characters). Further refusals from that client in that minute are only
counted in memory, and written as one summary record ("N more refused tokens from client X
in minute M") once the minute is over, or when the server stops. So a client that sends a
million bad tokens a minute costs the log two records a minute, not a million.

One `RefusedTokens` lives on each running API app; its counts are that process's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from steward.audit.log import failed_token
from steward.audit.writer import AuditWriter

# Past this many distinct clients in one minute, new clients share one count, so memory stays
# bounded even when the refused requests come from everywhere.
MAX_CLIENTS_PER_MINUTE = 10_000
OTHER_CLIENTS = "(other clients)"


@dataclass(frozen=True)
class Refusal:
    """One refused token: where it came from, what it claimed, and why it was refused."""

    client: str | None
    token_id: str | None
    reason: str
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RepeatedRefusals:
    """The refusals from one client in one minute after its first, counted, not recorded."""

    client: str
    minute: int
    count: int

    @property
    def minute_text(self) -> str:
        """The minute as `2026-11-29T06:55Z`."""
        return datetime.fromtimestamp(self.minute * 60, UTC).strftime("%Y-%m-%dT%H:%MZ")


@dataclass(frozen=True)
class Writes:
    """What the audit log still has to take: a refusal in full, and summaries of minutes past."""

    first: Refusal | None = None
    summaries: tuple[RepeatedRefusals, ...] = ()

    def __bool__(self) -> bool:
        return self.first is not None or bool(self.summaries)


class RefusedTokens:
    """Counts refused tokens per client per minute and says which records to write.

    `account` only counts (it is called on the event loop and never touches the store);
    `write` puts what it returned into the audit log.
    """

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        # (minute, client) -> refusals after the first in that minute.
        self._more: dict[tuple[int, str], int] = {}

    def account(self, refusal: Refusal) -> Writes:
        """Count one refusal; the records now due (this one if first, minutes now over)."""
        minute = int(self._clock() // 60)
        client = refusal.client or "unknown"
        with self._lock:
            due = self._take(before=minute)
            key = (minute, client)
            if key not in self._more and len(self._more) >= MAX_CLIENTS_PER_MINUTE:
                key = (minute, OTHER_CLIENTS)
            first = key not in self._more
            self._more[key] = 0 if first else self._more[key] + 1
        return Writes(first=refusal if first else None, summaries=due)

    def finished(self) -> Writes:
        """The summaries of minutes that are over, taken out of memory."""
        with self._lock:
            return Writes(summaries=self._take(before=int(self._clock() // 60)))

    def everything(self) -> Writes:
        """Every summary still held, the current minute's too (at shutdown)."""
        with self._lock:
            return Writes(summaries=self._take(before=None))

    def _take(self, *, before: int | None) -> tuple[RepeatedRefusals, ...]:
        done = [key for key in self._more if before is None or key[0] < before]
        taken = tuple(
            RepeatedRefusals(client=client, minute=minute, count=self._more[(minute, client)])
            for minute, client in sorted(done)
        )
        for key in done:
            del self._more[key]
        return tuple(t for t in taken if t.count > 0)


def write(audit: AuditWriter, writes: Writes) -> None:
    """Write what `account`, `finished` or `everything` returned to the audit log."""
    for summary in writes.summaries:
        audit.append(
            actor=None,
            action="auth.failed",
            decision="failed",
            details={
                "client": summary.client,
                "minute": summary.minute_text,
                "more": summary.count,
                "summary": f"{summary.count} more refused tokens from client"
                f" {summary.client} in minute {summary.minute_text}",
            },
        )
    if writes.first is not None:
        first = writes.first
        audit.submit(
            failed_token(
                token_id=first.token_id,
                reason=first.reason,
                details={**first.details, "client": first.client},
            )
        )
