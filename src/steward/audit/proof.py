"""Proof that some audit records are in the signed chain, checkable offline.

A proof carries, for each record it proves, every record from it up to the first signed
checkpoint at or after it, in full, and that checkpoint. Overlapping stretches merge, so
the records form runs of consecutive sequence numbers, each ending exactly at a
checkpoint's `seq`. A verifier holding only the proof and the installation's public key:

1. checks each checkpoint's Ed25519 signature over its canonical message
   (`{"head_hash","seq","signed_at"}`, see `checkpoints.checkpoint_message`);
2. recomputes each record's hash from its fields (the canonical form of `chain.py`);
3. checks that each record's `prev_hash` is the hash of the record before it, within a run;
4. checks that each run's last record hashes to the `head_hash` its checkpoint signed.

Since every hash covers the one before it, the signed head hash fixes every record of the
run: changing any field of any record (and re-hashing it) breaks a link or the signed head.
A proof says nothing about records it does not carry, and nothing about records written
after the last checkpoint it carries: `prove` signs a new checkpoint when a record it must
prove is past the last one.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.audit.chain import canonical_form, digest, to_canonical_json
from steward.audit.checkpoints import (
    Signer,
    checkpoint_message,
    list_checkpoints,
    local_checkpoints,
    make_checkpoint,
)
from steward.audit.log import head, to_record
from steward.audit.models import AuditRecord, Checkpoint
from steward.errors import InvalidInput, NotFound, StewardError
from steward.store import Store
from steward.store.schema import audit_records

SCHEME = "steward.audit.proof/1"


class ProofUnavailable(StewardError):
    """A record cannot be proved: the live log does not hold it, or does not verify."""

    http_status = 409
    exit_code = 1


def key_fingerprint(public_pem: str) -> str:
    """The SHA-256 of an Ed25519 public key's 32 raw bytes, hex: what a reader pins.

    Its first 16 characters are the key id checkpoints name (`Signer.key_id`).
    """
    raw = _raw_public_key(public_pem)
    return hashlib.sha256(raw).hexdigest()


def _raw_public_key(public_pem: str) -> bytes:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        PublicFormat,
        load_pem_public_key,
    )

    try:
        key = load_pem_public_key(public_pem.encode())
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"public key: not a PEM public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidInput("public key: not an Ed25519 public key")
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def prove(store: Store, signer: Signer, home: Path, seqs: Iterable[int]) -> dict[str, Any]:
    """A proof (JSON-ready) that the records numbered `seqs` are in the signed chain.

    Signs a checkpoint first when one of them is past the last checkpoint. Each record is
    checked against its stored hash on the way, so a log that does not verify yields
    `ProofUnavailable` naming the record, never a proof that would fail later.
    """
    wanted = sorted(set(seqs))
    with store.read() as conn:
        known = _checkpoints(conn, home)
        last_seq = known[-1].seq if known else 0
    foreign = sorted({cp.key_id for cp in known} - {signer.key_id})
    if foreign:
        # Another home's key signed this store's checkpoints (a shared PostgreSQL store):
        # a proof must be made, and checkpoints signed, where that key lives.
        raise ProofUnavailable(
            f"this store's checkpoints are signed by key {', '.join(foreign)}, not by this"
            f" home's key {signer.key_id} ({home}): make the report where the server's"
            " STEWARD_HOME is, or through the API"
        )
    if wanted and wanted[-1] > last_seq:
        make_checkpoint(store, signer, home)
        with store.read() as conn:
            known = _checkpoints(conn, home)
    ranges = _ranges(wanted, [cp.seq for cp in known])
    records: list[AuditRecord] = []
    with store.read() as conn:
        head_seq, _ = head(conn)
        for first, last in ranges:
            found = _read(conn, first, last)
            if [r.seq for r in found] != list(range(first, last + 1)):
                missing = sorted(set(range(first, last + 1)) - {r.seq for r in found})
                raise ProofUnavailable(
                    f"record {missing[0]} is not in the live log (archived or deleted);"
                    " `steward audit verify` says which"
                )
            records.extend(found)
    for item in records:
        if record_hash(item.to_json()) != item.hash:
            raise ProofUnavailable(
                f"record {item.seq} no longer matches its hash; run `steward audit verify`"
            )
    ends = {last for _, last in ranges}
    chosen = [cp for cp in known if cp.seq in ends]
    for cp in chosen:
        if not signer.verifies(
            checkpoint_message(cp.seq, cp.head_hash, cp.signed_at), cp.signature
        ):
            raise ProofUnavailable(f"checkpoint at seq {cp.seq}: signature does not verify")
    return {
        "scheme": SCHEME,
        "key": {
            "algorithm": "Ed25519",
            "key_id": signer.key_id,
            "fingerprint": key_fingerprint(signer.public_pem),
            "public_key": signer.public_pem,
        },
        "head_seq": head_seq,
        "records": [item.to_json() for item in records],
        "checkpoints": [cp.to_json() for cp in chosen],
    }


def _checkpoints(conn: Connection, home: Path) -> list[Checkpoint]:
    seen: dict[int, Checkpoint] = {}
    for cp in [*list_checkpoints(conn), *local_checkpoints(home)]:
        seen.setdefault(cp.seq, cp)
    return sorted(seen.values(), key=lambda cp: cp.seq)


def _ranges(wanted: list[int], checkpoint_seqs: list[int]) -> list[tuple[int, int]]:
    """For each wanted seq, the stretch up to the first checkpoint at or after it, merged."""
    import bisect

    stretches: list[tuple[int, int]] = []
    for seq in wanted:
        at = bisect.bisect_left(checkpoint_seqs, seq)
        if at == len(checkpoint_seqs):
            raise ProofUnavailable(f"record {seq} is past the last signed checkpoint")
        end = checkpoint_seqs[at]
        if stretches and seq <= stretches[-1][1] + 1:
            first, last = stretches[-1]
            stretches[-1] = (first, max(last, end))
        else:
            stretches.append((seq, end))
    return stretches


def _read(conn: Connection, first: int, last: int) -> list[AuditRecord]:
    rows = conn.execute(
        sa.select(audit_records)
        .where(audit_records.c.seq.between(first, last))
        .order_by(audit_records.c.seq)
    )
    return [to_record(row._mapping) for row in rows]


def record_hash(item: Mapping[str, Any]) -> str:
    """The hash of a record as a proof carries it (`AuditRecord.to_json()`'s shape)."""
    actor = item["actor"]
    resource = item["resource"]
    time = str(item["time"])
    if not (len(time) == 27 and time[10] == "T" and time.endswith("Z")):
        raise ValueError(f"time {time!r} is not YYYY-MM-DDTHH:MM:SS.ffffffZ")
    return digest(
        canonical_form(
            seq=int(item["seq"]),
            # As SQLite stores it, which the canonical form writes back unchanged: the
            # hash covers these exact characters.
            time=f"{time[:10]} {time[11:26]}",
            user=actor["user"],
            groups_json=to_canonical_json(list(actor["groups"])),
            token_id=actor["token_id"],
            action=item["action"],
            dataset=resource["dataset"],
            columns_json=to_canonical_json(list(resource["columns"])),
            decision=item["decision"],
            policy=item["policy"],
            details_json=to_canonical_json(item["details"]),
            prev=item["prev_hash"],
        )
    )


@dataclass(frozen=True)
class ProofCheck:
    """A proof that checked: how many records and checkpoints, under which key."""

    records: int
    checkpoints: int
    fingerprint: str
    message: str
    # Each run of consecutive records and the checkpoint that signs its end:
    # (first seq, last seq, signed_at as written).
    stretches: tuple[tuple[int, int, str], ...] = ()


class ProofFails(Exception):
    """The first thing in a proof that does not verify; `seq` names the record or checkpoint."""

    def __init__(self, seq: int | None, message: str) -> None:
        super().__init__(message)
        self.seq, self.message = seq, message


def trusted_key(
    proof: Mapping[str, Any], *, public_pem: str | None, fingerprint: str | None
) -> str:
    """The PEM to check signatures with: `public_pem` when given, else the proof's own key
    if its fingerprint is `fingerprint`. Anything else is `ProofFails`: a key that only the
    proof vouches for proves nothing, since a forger embeds theirs."""
    key = proof.get("key")
    embedded = key.get("public_key") if isinstance(key, Mapping) else None
    if public_pem is not None:
        return public_pem
    if fingerprint is None:
        shown = ""
        if isinstance(embedded, str):
            try:
                shown = f" (the report embeds key {key_fingerprint(embedded)})"
            except InvalidInput:
                shown = " (the report's embedded key is not readable)"
        raise ProofFails(
            None,
            "no trusted key: pass --public-key PEM or --fingerprint SHA256 of the key you"
            f" expect{shown}; `steward audit public-key` prints an installation's",
        )
    if not isinstance(embedded, str):
        raise ProofFails(None, "the report embeds no public key: pass --public-key PEM")
    actual = key_fingerprint(embedded)
    if actual != fingerprint.strip().lower():
        raise ProofFails(
            None,
            f"the report's key has fingerprint {actual}, not the pinned {fingerprint.strip()}",
        )
    return embedded


def check_proof(proof: Mapping[str, Any], public_pem: str) -> ProofCheck:
    """Check a proof with `public_pem` and nothing else (no store, no home).

    Raises `ProofFails` naming the first checkpoint or record (by seq) that fails.
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    fingerprint = key_fingerprint(public_pem)
    key: Any = load_pem_public_key(public_pem.encode())
    key_id = fingerprint[:16]
    if proof.get("scheme") != SCHEME:
        raise ProofFails(None, f"proof: scheme {proof.get('scheme')!r} is not {SCHEME!r}")
    checkpoints: dict[int, Mapping[str, Any]] = {}
    for cp in _list(proof, "checkpoints"):
        try:
            seq, head_hash = int(cp["seq"]), str(cp["head_hash"])
            signed_at = datetime.fromisoformat(str(cp["signed_at"]).removesuffix("Z"))
            signature = base64.b64decode(str(cp["signature"]), validate=True)
            named_key = str(cp["key_id"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ProofFails(None, f"checkpoint: unreadable ({exc})") from None
        if named_key != key_id:
            raise ProofFails(
                seq, f"checkpoint at seq {seq}: signed by key {named_key}, not by key {key_id}"
            )
        try:
            key.verify(signature, checkpoint_message(seq, head_hash, signed_at))
        except InvalidSignature:
            raise ProofFails(
                seq, f"checkpoint at seq {seq}: signature does not verify with key {key_id}"
            ) from None
        checkpoints[seq] = cp
    records = sorted(_list(proof, "records"), key=_seq_of)
    previous: Mapping[str, Any] | None = None
    starts: list[int] = []
    for item in records:
        seq = _seq_of(item)
        if previous is None or _seq_of(previous) != seq - 1:
            starts.append(seq)
        if previous is not None and _seq_of(previous) == seq:
            raise ProofFails(seq, f"record {seq}: appears twice")
        if previous is not None and _seq_of(previous) != seq - 1:
            _check_run_end(previous, checkpoints)
        try:
            actual = record_hash(item)
        except (KeyError, TypeError, ValueError) as exc:
            raise ProofFails(seq, f"record {seq}: unreadable ({exc})") from None
        if actual != item.get("hash"):
            raise ProofFails(seq, f"record {seq}: its fields no longer hash to its hash")
        linked = previous is not None and _seq_of(previous) == seq - 1
        if linked and previous is not None and item["prev_hash"] != previous["hash"]:
            raise ProofFails(
                seq - 1,
                f"record {seq - 1}: changed and re-hashed (record {seq} chains to another hash)",
            )
        signed = checkpoints.get(seq)
        if signed is not None and signed["head_hash"] != actual:
            raise ProofFails(seq, f"record {seq}: not what checkpoint {seq} signed")
        previous = item
    if previous is not None:
        _check_run_end(previous, checkpoints)
    seqs = [_seq_of(r) for r in records]
    ends = [seq for seq, after in zip(seqs, [*seqs[1:], None], strict=True) if after != seq + 1]
    stretches = tuple(
        (first, last, str(checkpoints[last]["signed_at"]))
        for first, last in zip(starts, ends, strict=True)
    )
    return ProofCheck(
        records=len(records),
        checkpoints=len(checkpoints),
        fingerprint=fingerprint,
        message=(
            f"{len(records)} records chain to {len(checkpoints)} signed checkpoint(s)"
            f" (key {fingerprint})"
        ),
        stretches=stretches,
    )


def _check_run_end(last: Mapping[str, Any], checkpoints: Mapping[int, Mapping[str, Any]]) -> None:
    seq = _seq_of(last)
    cp = checkpoints.get(seq)
    if cp is None:
        raise ProofFails(
            seq, f"record {seq}: no signed checkpoint covers it (the stretch ends without one)"
        )
    if cp["head_hash"] != last["hash"]:
        raise ProofFails(seq, f"record {seq}: not what checkpoint {seq} signed")


def _seq_of(item: Mapping[str, Any]) -> int:
    try:
        return int(item["seq"])
    except (KeyError, TypeError, ValueError):
        raise ProofFails(None, "record: has no readable seq") from None


def _list(proof: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    value = proof.get(name)
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise ProofFails(None, f"proof: {name} is not a list of objects")
    return value


def find_record(proof: Mapping[str, Any], seq: int) -> Mapping[str, Any]:
    """The record numbered `seq` in a proof; NotFound if it does not carry it."""
    for item in _list(proof, "records"):
        if _seq_of(item) == seq:
            return item
    raise NotFound(f"record {seq} is not in the proof")
