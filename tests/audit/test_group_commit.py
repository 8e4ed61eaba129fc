"""Group commit: records from many threads share transactions, still one gap-free chain,
interleaved with records written inside other changes' transactions; a failed group
records nothing of itself and the chain goes on."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.app import Steward
from steward.audit.checkpoints import Signer
from steward.audit.log import list_records, record
from steward.audit.models import Resource
from steward.audit.verify import verify
from steward.audit.writer import AuditNotWritten
from steward.errors import StoreBusy
from steward.store.schema import audit_export_cursors, audit_head, audit_records
from tests.audit.conftest import ANA, BOB

THREADS = 6
EACH = 30
IN_TRANSACTION = 20


def stored(steward: Steward) -> dict[int, dict[str, Any]]:
    """Every record's details, by seq."""
    with steward.store.read() as conn:
        return {r.seq: r.details for r in list_records(conn, limit=100_000)}


def test_threads_and_in_transaction_records_share_one_gap_free_chain(
    steward: Steward, signer: Signer
) -> None:
    """Threads appending one record at a time through the group writer, and a writer
    recording changes in its own transactions, make one chain that verifies, and each
    caller's seq is the record it wrote."""
    returned: dict[int, tuple[str, int]] = {}
    failures: list[BaseException] = []
    lock = threading.Lock()

    def query_records(index: int) -> None:
        try:
            for i in range(EACH):
                seq = steward.audit.append(
                    actor=ANA if index % 2 else BOB,
                    action="query",
                    resource=Resource("lake.crm.customers", ("id", "email")),
                    details={"writer": f"t{index}", "i": i},
                )
                with lock:
                    returned[seq] = (f"t{index}", i)
        except BaseException as exc:
            failures.append(exc)

    def changes() -> None:
        try:
            for i in range(IN_TRANSACTION):
                for _attempt in range(20):
                    try:
                        with steward.store.write() as conn:
                            seq = record(
                                conn,
                                actor=ANA,
                                action="catalog.tag",
                                details={"writer": "tx", "i": i},
                            )
                        break
                    except StoreBusy:
                        continue
                with lock:
                    returned[seq] = ("tx", i)
        except BaseException as exc:
            failures.append(exc)

    workers = [threading.Thread(target=query_records, args=(i,)) for i in range(THREADS)]
    workers.append(threading.Thread(target=changes))
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert failures == []
    total = THREADS * EACH + IN_TRANSACTION
    records = stored(steward)
    assert sorted(records) == list(range(1, total + 1))
    assert {seq: (d["writer"], d["i"]) for seq, d in records.items()} == returned
    assert steward.audit.records == THREADS * EACH
    # Concurrent callers shared transactions.
    assert steward.audit.groups < THREADS * EACH
    result = verify(steward.store, signer, steward.settings.home)
    assert result.ok, result.message


def test_a_failing_insert_fails_its_whole_group_and_the_chain_goes_on(
    steward: Steward, signer: Signer
) -> None:
    """One record's write fails inside a group: every caller of that group is told, none
    of the group is stored, and the next record follows the last one committed."""
    first = steward.audit.append(actor=ANA, action="query", details={"n": "before"})
    release = threading.Event()
    outcomes: dict[str, Any] = {}

    def hold(conn: Connection) -> None:
        release.wait(timeout=30)

    def failing_insert(conn: Connection) -> None:
        # The head row exists: inserting it again breaks its primary key.
        conn.execute(audit_head.insert().values(id=1, seq=0, hash="0" * 64))

    def submit(name: str, before: Any = None) -> None:
        try:
            outcomes[name] = steward.audit.append(
                actor=BOB, action="query", details={"n": name}, before=before
            )
        except BaseException as exc:
            outcomes[name] = exc

    holder = threading.Thread(target=submit, args=("held", hold))
    holder.start()
    deadline = time.monotonic() + 30
    while not steward.audit.writing and time.monotonic() < deadline:
        time.sleep(0.001)
    group = [
        threading.Thread(target=submit, args=("b",)),
        threading.Thread(target=submit, args=("c", failing_insert)),
        threading.Thread(target=submit, args=("d",)),
    ]
    for thread in group:
        thread.start()
    while steward.audit.waiting < 3 and time.monotonic() < deadline:
        time.sleep(0.001)
    release.set()
    for thread in [holder, *group]:
        thread.join()

    assert outcomes["held"] == first + 1
    for name in ("b", "c", "d"):
        error = outcomes[name]
        assert isinstance(error, AuditNotWritten), error
        assert isinstance(error, StoreBusy)  # a 503: nothing was written, send it again
        assert "the audit record could not be written" in str(error)
        assert "audit_head" in str(error)
    after = steward.audit.append(actor=ANA, action="query", details={"n": "after"})
    assert after == first + 2
    names = [details["n"] for _, details in sorted(stored(steward).items())]
    assert names == ["before", "held", "after"]
    result = verify(steward.store, signer, steward.settings.home)
    assert result.ok, result.message


def test_a_record_is_stored_when_append_returns(steward: Steward) -> None:
    """The seq a caller gets back is already committed: another connection reads it."""
    seq = steward.audit.append(actor=ANA, action="query", details={"sql": "SELECT 1"})
    with steward.store.engine.connect() as conn:
        found = conn.execute(
            sa.select(audit_records.c.action).where(audit_records.c.seq == seq)
        ).scalar_one()
    assert found == "query"


def test_bad_fields_are_refused_before_anything_is_queued(steward: Steward) -> None:
    with pytest.raises(Exception, match="action: 'Query!' is not a dotted lower-case name"):
        steward.audit.append(actor=ANA, action="Query!")
    assert steward.audit.records == 0


def test_records_alone_and_records_with_writes_alternate_on_one_connection(
    steward: Steward, signer: Signer
) -> None:
    """Groups of records alone (begun and committed on the driver) and groups bringing
    writes of their own (the query's lineage) follow each other on the writer's kept
    connection: every record and every write is stored, in one chain that verifies."""

    def write_cursor(name: str) -> Any:
        def write(conn: Connection) -> None:
            values = {"name": name, "last_seq": 0, "updated_at": datetime(2026, 11, 29)}
            conn.execute(audit_export_cursors.insert().values(**values))

        return write

    seqs = []
    for i in range(6):
        before = write_cursor(f"c{i}") if i % 2 else None
        seqs.append(
            steward.audit.append(actor=ANA, action="query", details={"i": i}, before=before)
        )
    assert seqs == list(range(1, 7))
    with steward.store.read() as conn:
        names = conn.execute(sa.select(audit_export_cursors.c.name)).scalars().all()
    assert sorted(names) == ["c1", "c3", "c5"]
    assert [details["i"] for _, details in sorted(stored(steward).items())] == list(range(6))
    result = verify(steward.store, signer, steward.settings.home)
    assert result.ok, result.message


def test_a_group_of_records_alone_that_fails_stores_nothing_and_the_chain_goes_on(
    steward: Steward, signer: Signer
) -> None:
    """A group without writes of its own fails in the database (here the head was moved
    back by hand, so its seq is taken): the caller is told, nothing of it is stored, the
    lock is released, and once the head is right again the next record follows."""
    first = steward.audit.append(actor=ANA, action="query", details={"n": "first"})
    with steward.store.write() as conn:
        conn.execute(audit_head.update().where(audit_head.c.id == 1).values(seq=first - 1))
    with pytest.raises(AuditNotWritten, match="the audit record could not be written"):
        steward.audit.append(actor=BOB, action="query", details={"n": "refused"})
    # The writer lock was released: another writer gets its turn at once.
    with steward.store.write() as conn:
        conn.execute(audit_head.update().where(audit_head.c.id == 1).values(seq=first))
    after = steward.audit.append(actor=ANA, action="query", details={"n": "after"})
    assert after == first + 1
    names = [details["n"] for _, details in sorted(stored(steward).items())]
    assert names == ["first", "after"]
    result = verify(steward.store, signer, steward.settings.home)
    assert result.ok, result.message


def test_the_writer_chains_after_a_record_another_change_wrote_since_its_last_group(
    steward: Steward, signer: Signer
) -> None:
    """The group writer remembers the head it left; a record written inside another
    change's transaction moves it, and the writer's next record follows that one."""
    first = steward.audit.append(actor=ANA, action="query", details={"n": "group"})
    with steward.store.write() as conn:
        changed = record(conn, actor=BOB, action="catalog.tag", details={"n": "change"})
    after = steward.audit.append(actor=ANA, action="query", details={"n": "group again"})
    assert [first, changed, after] == [1, 2, 3]
    names = [details["n"] for _, details in sorted(stored(steward).items())]
    assert names == ["group", "change", "group again"]
    result = verify(steward.store, signer, steward.settings.home)
    assert result.ok, result.message
