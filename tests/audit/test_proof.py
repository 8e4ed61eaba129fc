"""A proof of some records checks offline, and any edit to it fails at the record edited."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from steward.app import Steward
from steward.audit.checkpoints import Signer, make_checkpoint
from steward.audit.proof import ProofFails, check_proof, prove, trusted_key
from tests.audit.conftest import append


def _log_with_checkpoints(steward: Steward, signer: Signer) -> None:
    """Records 1..30, checkpoints at 10 and 20; 21..30 not yet signed."""
    home = steward.settings.home
    append(steward, 10)
    make_checkpoint(steward.store, signer, home)
    append(steward, 10)
    make_checkpoint(steward.store, signer, home)
    append(steward, 10)


def test_proof_carries_each_record_up_to_its_checkpoint(steward: Steward, signer: Signer) -> None:
    _log_with_checkpoints(steward, signer)
    proof = prove(steward.store, signer, steward.settings.home, [4, 8, 25])
    # 4..10 up to checkpoint 10; 25 is past checkpoint 20, so a checkpoint was signed at 30.
    assert [r["seq"] for r in proof["records"]] == [*range(4, 11), *range(25, 31)]
    assert [c["seq"] for c in proof["checkpoints"]] == [10, 30]
    result = check_proof(proof, signer.public_pem)
    assert result.records == 13
    assert result.fingerprint.startswith(signer.key_id)


def _failure(proof: dict[str, Any], pem: str) -> ProofFails:
    with pytest.raises(ProofFails) as caught:
        check_proof(proof, pem)
    return caught.value


def test_edited_details_fail_at_that_record(steward: Steward, signer: Signer) -> None:
    _log_with_checkpoints(steward, signer)
    proof = prove(steward.store, signer, steward.settings.home, [4, 25])
    edited = copy.deepcopy(proof)
    edited["records"][2]["details"]["sql"] = "SELECT 1"  # record 6
    failure = _failure(edited, signer.public_pem)
    assert failure.seq == 6
    assert "record 6" in failure.message


def test_rehashed_record_fails_at_that_record(steward: Steward, signer: Signer) -> None:
    from steward.audit.proof import record_hash

    _log_with_checkpoints(steward, signer)
    proof = prove(steward.store, signer, steward.settings.home, [4])
    last = copy.deepcopy(proof)
    last["records"][-1]["actor"]["user"] = "mallory"  # record 10, the checkpoint's head
    last["records"][-1]["hash"] = record_hash(last["records"][-1])
    assert _failure(last, signer.public_pem).message == "record 10: not what checkpoint 10 signed"
    middle = copy.deepcopy(proof)
    middle["records"][1]["decision"] = "denied"  # record 5
    middle["records"][1]["hash"] = record_hash(middle["records"][1])
    assert _failure(middle, signer.public_pem).seq == 5


def test_dropped_record_leaves_a_stretch_without_checkpoint(
    steward: Steward, signer: Signer
) -> None:
    _log_with_checkpoints(steward, signer)
    proof = prove(steward.store, signer, steward.settings.home, [4])
    del proof["records"][3]  # record 7
    failure = _failure(proof, signer.public_pem)
    assert failure.seq == 6
    assert "no signed checkpoint covers it" in failure.message


def test_forged_signature_or_other_key_fails(steward: Steward, signer: Signer) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    _log_with_checkpoints(steward, signer)
    proof = prove(steward.store, signer, steward.settings.home, [4])
    forged = copy.deepcopy(proof)
    signature = forged["checkpoints"][0]["signature"]
    forged["checkpoints"][0]["signature"] = ("B" if signature[0] == "A" else "A") + signature[1:]
    assert "signature does not verify" in _failure(forged, signer.public_pem).message
    other = Signer(Ed25519PrivateKey.generate())
    assert "not by key" in _failure(proof, other.public_pem).message


def test_embedded_key_is_trusted_only_when_pinned(steward: Steward, signer: Signer) -> None:
    _log_with_checkpoints(steward, signer)
    proof = prove(steward.store, signer, steward.settings.home, [4])
    fingerprint = proof["key"]["fingerprint"]
    assert trusted_key(proof, public_pem=None, fingerprint=fingerprint) == signer.public_pem
    with pytest.raises(ProofFails, match="no trusted key"):
        trusted_key(proof, public_pem=None, fingerprint=None)
    with pytest.raises(ProofFails, match="not the pinned"):
        trusted_key(proof, public_pem=None, fingerprint="0" * 64)


def test_proof_refuses_a_home_whose_key_did_not_sign_the_store(
    steward: Steward, signer: Signer, tmp_path: Path
) -> None:
    from steward.audit.proof import ProofUnavailable

    _log_with_checkpoints(steward, signer)
    elsewhere = tmp_path / "other-home"
    with pytest.raises(ProofUnavailable, match=f"signed by key {signer.key_id}, not by"):
        prove(steward.store, Signer.load(elsewhere), elsewhere, [4])
