"""`verify` finds every edit a database administrator could make, at the right record."""

from __future__ import annotations

import datetime

import pytest
import sqlalchemy as sa

from steward.app import Steward
from steward.audit.chain import digest, row_canonical_form
from steward.audit.checkpoints import Signer, make_checkpoint, read_exported
from steward.audit.verify import verify
from steward.store.schema import audit_records
from tests.audit.conftest import append, tamper


def test_untouched_log_verifies_clean(steward: Steward, signer: Signer) -> None:
    append(steward, 30)
    make_checkpoint(steward.store, signer, steward.settings.home)
    append(steward, 5)
    result = verify(steward.store, signer, steward.settings.home)
    assert result.ok, result.message
    assert result.records == 35
    assert result.checkpoints == 1
    assert result.head_seq == 35


def test_empty_log_verifies_clean(steward: Steward, signer: Signer) -> None:
    result = verify(steward.store, signer, steward.settings.home)
    assert result.ok
    assert result.records == 0


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("actor_user", "'mallory'"),
        ("actor_groups", "'[\"admins\"]'"),
        ("actor_token_id", "'tok_x'"),
        ("action", "'token.create'"),
        ("dataset", "'lake.crm.other'"),
        ("columns", "'[\"id\"]'"),
        ("decision", "'denied'"),
        ("policy", "'none'"),
        ("details", "'{}'"),
        ("recorded_at", "recorded_at"),  # replaced below by a time one second later
        ("prev_hash", "'" + "1" * 64 + "'"),
        ("hash", "'" + "2" * 64 + "'"),
    ],
)
def test_changing_any_field_is_found_at_that_record(
    steward: Steward, signer: Signer, column: str, value: str
) -> None:
    append(steward, 20)
    if column == "recorded_at":
        with steward.store.read() as conn:
            at = conn.execute(
                sa.select(audit_records.c.recorded_at).where(audit_records.c.seq == 7)
            ).scalar_one()
        tamper(
            steward,
            "UPDATE audit_records SET recorded_at = :t WHERE seq = 7",
            t=at + datetime.timedelta(seconds=1),
        )
    else:
        tamper(steward, f'UPDATE audit_records SET "{column}" = {value} WHERE seq = 7')
    result = verify(steward.store, signer, steward.settings.home)
    assert not result.ok
    assert result.first_bad_seq == 7
    assert result.problem == "modified"


def test_a_change_rehashed_by_the_tamperer_is_found_at_that_record(
    steward: Steward, signer: Signer
) -> None:
    """Someone who knows the hashing recomputes record 8's hash: record 9 no longer chains."""
    append(steward, 20)
    with steward.store.read() as conn:
        row = dict(
            conn.execute(sa.select(audit_records).where(audit_records.c.seq == 8)).mappings().one()
        )
    row["decision"] = "allowed"
    row["policy"] = None
    new_hash = digest(row_canonical_form(row))
    tamper(
        steward,
        "UPDATE audit_records SET decision = 'allowed', policy = NULL, hash = :h WHERE seq = 8",
        h=new_hash,
    )
    result = verify(steward.store, signer, steward.settings.home)
    assert (result.ok, result.first_bad_seq, result.problem) == (False, 8, "modified")


@pytest.mark.parametrize("seq", [1, 9, 19])
def test_deleting_a_record_is_found_as_missing(steward: Steward, signer: Signer, seq: int) -> None:
    append(steward, 20)
    tamper(steward, "DELETE FROM audit_records WHERE seq = :s", s=seq)
    result = verify(steward.store, signer, steward.settings.home)
    assert (result.ok, result.first_bad_seq, result.problem) == (False, seq, "missing")


@pytest.mark.parametrize(("first", "second"), [(4, 11), (8, 9)])
def test_swapping_two_records_is_found_as_reordered(
    steward: Steward, signer: Signer, first: int, second: int
) -> None:
    append(steward, 20)
    # Move both rows out of the way, then back under each other's sequence numbers.
    tamper(steward, "UPDATE audit_records SET seq = -1 WHERE seq = :a", a=first)
    tamper(steward, "UPDATE audit_records SET seq = :a WHERE seq = :b", a=first, b=second)
    tamper(steward, "UPDATE audit_records SET seq = :b WHERE seq = -1", b=second)
    result = verify(steward.store, signer, steward.settings.home)
    assert (result.ok, result.first_bad_seq, result.problem) == (False, first, "reordered")


def test_cutting_the_tail_after_a_checkpoint_is_found(steward: Steward, signer: Signer) -> None:
    home = steward.settings.home
    append(steward, 10)
    make_checkpoint(steward.store, signer, home)
    append(steward, 10)
    make_checkpoint(steward.store, signer, home)
    append(steward, 3)
    # The tamperer removes records 15.. and fixes the head row; checkpoint 20 outlives them.
    tamper(steward, "DELETE FROM audit_records WHERE seq >= 15")
    tamper(steward, "UPDATE audit_head SET seq = 14")
    result = verify(steward.store, signer, home)
    assert (result.ok, result.first_bad_seq, result.problem) == (False, 15, "truncated")
    assert "checkpoint 10" in result.message


def test_tail_cut_with_checkpoints_deleted_is_found_from_the_exported_copy(
    steward: Steward, signer: Signer, tmp_path: object
) -> None:
    home = steward.settings.home
    append(steward, 12)
    checkpoint = make_checkpoint(steward.store, signer, home)
    assert checkpoint is not None
    exported = [line for line in (home / "audit" / "checkpoints.jsonl").read_bytes().splitlines()]
    (home / "audit" / "checkpoints.jsonl").unlink()
    tamper(steward, "DELETE FROM audit_records WHERE seq >= 10")
    tamper(steward, "DELETE FROM audit_checkpoints")
    tamper(steward, "UPDATE audit_head SET seq = 9")
    assert verify(steward.store, signer, home).ok  # nothing inside the database tells
    result = verify(
        steward.store, signer, home, checkpoints=read_exported(exported, where="export")
    )
    assert (result.ok, result.first_bad_seq, result.problem) == (False, 10, "truncated")


def test_deleting_the_last_record_is_found_from_the_head(steward: Steward, signer: Signer) -> None:
    append(steward, 5)
    tamper(steward, "DELETE FROM audit_records WHERE seq = 5")
    result = verify(steward.store, signer, steward.settings.home)
    assert (result.ok, result.first_bad_seq, result.problem) == (False, 5, "truncated")


def test_a_forged_checkpoint_is_refused(steward: Steward, signer: Signer) -> None:
    append(steward, 5)
    make_checkpoint(steward.store, signer, steward.settings.home)
    tamper(steward, "UPDATE audit_checkpoints SET head_hash = :h", h="3" * 64)
    result = verify(steward.store, signer, steward.settings.home)
    assert (result.ok, result.first_bad_seq, result.problem) == (False, 5, "bad-signature")
