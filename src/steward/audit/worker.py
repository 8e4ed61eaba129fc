"""The audit log's background duties: checkpoints when due, exports, retention.

`steward serve` runs them every `audit_worker_seconds` in a thread; `steward audit
export` and `steward audit checkpoint` run them once. A duty that fails (Loki down) is
logged and retried next time; it never touches the write path.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from steward.audit.checkpoints import Signer, checkpoint_if_due
from steward.audit.export import ExportResult, export_to_jsonl, export_to_loki
from steward.audit.log import now
from steward.audit.retention import archive_before
from steward.audit.rollup import refresh
from steward.config import Settings
from steward.errors import StewardError
from steward.store import Store
from steward.store.locks import exclusive

log = logging.getLogger("steward.audit")


def run_exports(store: Store, settings: Settings) -> list[ExportResult]:
    """Run every configured export once; a receiver that is down raises `SourceError`."""
    results = []
    if settings.audit_loki_url:
        results.append(export_to_loki(store, settings.audit_loki_url))
    if settings.audit_jsonl_path:
        results.append(
            export_to_jsonl(
                store,
                settings.audit_jsonl_path,
                max_bytes=settings.audit_jsonl_max_bytes,
                keep=settings.audit_jsonl_keep,
            )
        )
    return results


def run_duties(store: Store, settings: Settings) -> None:
    """One round: checkpoint if due, export, roll up the dashboard's counts, archive what
    retention says; errors logged."""
    signer = Signer.load(settings.home)
    duties: list[Callable[[], object]] = [
        lambda: checkpoint_if_due(
            store,
            signer,
            settings.home,
            every=settings.audit_checkpoint_every,
            minutes=settings.audit_checkpoint_minutes,
        ),
        lambda: run_exports(store, settings),
        lambda: refresh(store),  # the dashboard's counts, before retention moves records
    ]
    if settings.audit_retention_days:
        days = settings.audit_retention_days
        duties.append(
            lambda: archive_before(
                store, signer, settings.home, before=now() - timedelta(days=days)
            )
        )
    for duty in duties:
        try:
            duty()
        except StewardError as exc:
            log.warning("audit: %s", exc.message)


class AuditWorker:
    """A daemon thread running `run_duties` every `audit_worker_seconds`.

    Every process of `steward serve --workers N` runs one; a round runs only in the
    process holding the store's `audit duties` lock, the others skip it, so two
    processes never export the same records or sign checkpoints out of order.
    """

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store, self.settings = store, settings
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="steward-audit", daemon=True)

    def start(self) -> None:
        """Start the thread (not when `audit_worker_seconds` is 0)."""
        if self.settings.audit_worker_seconds > 0:
            self._thread.start()

    def stop(self) -> None:
        """Ask the thread to stop and wait for its current round to end."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.wait(self.settings.audit_worker_seconds):
            try:
                with exclusive(self.store, "audit duties") as ours:
                    if ours:
                        run_duties(self.store, self.settings)
            except Exception:  # the thread must outlive a bad round
                log.exception("audit duties failed")
