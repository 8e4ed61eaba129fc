"""Writers at once, in threads and (on PostgreSQL) in processes: one chain, no gaps."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from steward.app import Steward
from steward.audit.checkpoints import Signer
from steward.audit.verify import verify
from steward.errors import StoreBusy
from steward.store.schema import audit_records
from tests.audit.conftest import ANA, BOB, append

ROOT = Path(__file__).resolve().parents[2]


def seqs(steward: Steward) -> list[int]:
    with steward.store.read() as conn:
        return list(
            conn.execute(sa.select(audit_records.c.seq).order_by(audit_records.c.seq)).scalars()
        )


def test_threads_appending_at_once_keep_one_chain(steward: Steward, signer: Signer) -> None:
    failures: list[BaseException] = []

    def write(index: int) -> None:
        try:
            for _attempt in range(20):
                try:
                    append(steward, 25, actor=ANA if index % 2 else BOB)
                    return
                except StoreBusy:
                    continue
        except BaseException as exc:
            failures.append(exc)

    workers = [threading.Thread(target=write, args=(i,)) for i in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert failures == []
    assert seqs(steward) == list(range(1, 151))
    result = verify(steward.store, signer, steward.settings.home)
    assert result.ok, result.message


WRITER = """
import sys
from steward.store import open_store
from steward.audit.log import record
from steward.identity.models import Principal
store = open_store(sys.argv[1])
for i in range(int(sys.argv[2])):
    with store.write() as conn:
        record(conn, actor=Principal(sys.argv[3]), action="query", details={"i": i})
store.dispose()
"""


def test_processes_appending_at_once_keep_one_chain(
    steward: Steward, signer: Signer, database_url: str | None
) -> None:
    if database_url is None:
        pytest.skip("separate processes share one chain through PostgreSQL's row lock")
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, database_url, "40", f"user{i}"],
            env=env,
            stderr=subprocess.PIPE,
        )
        for i in range(4)
    ]
    for writer in writers:
        _, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err.decode()
    assert seqs(steward) == list(range(1, 161))
    result = verify(steward.store, signer, steward.settings.home)
    assert result.ok, result.message


def test_workers_starting_together_share_one_whole_signing_key(tmp_path: Path) -> None:
    """Several `steward serve` workers load the key at once on a first start: one key, 0600."""
    from concurrent.futures import ThreadPoolExecutor

    from steward.audit.checkpoints import KEY_FILE, audit_home

    with ThreadPoolExecutor(8) as pool:
        keys = list(pool.map(lambda _: Signer.load(tmp_path).key_id, range(32)))
    assert len(set(keys)) == 1
    key = audit_home(tmp_path) / KEY_FILE
    assert key.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in key.parent.iterdir()) == [KEY_FILE]
