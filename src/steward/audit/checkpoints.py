"""Signed checkpoints: every N records or T minutes, the chain's head signed with Ed25519.

The key lives at `$STEWARD_HOME/audit/signing.key` (PEM, mode 0600), created on first
use; the database never holds it, so someone who can edit the database cannot forge a
checkpoint. Each checkpoint is also appended to `$STEWARD_HOME/audit/checkpoints.jsonl`
and can be exported anywhere: a checkpoint kept outside the database proves that the log
had reached `seq`, so cutting its tail is detected.

The signed message is the canonical JSON `{"head_hash":...,"seq":...,"signed_at":...}`.
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.audit.chain import format_time, to_canonical_json
from steward.audit.log import head, now
from steward.audit.models import Checkpoint
from steward.errors import ConfigError, InvalidInput
from steward.store import Store
from steward.store.schema import audit_checkpoints

KEY_FILE = "signing.key"
CHECKPOINT_FILE = "checkpoints.jsonl"


def audit_home(home: Path) -> Path:
    """Where the audit log keeps its key, checkpoints and archive: `$STEWARD_HOME/audit`."""
    return home / "audit"


class Signer:
    """The installation's Ed25519 key: signs checkpoints and archive segments."""

    def __init__(self, private_key: Any) -> None:
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        self._key = private_key
        self.public_key = private_key.public_key()
        raw = self.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.key_id = hashlib.sha256(raw).hexdigest()[:16]
        self.public_pem = self.public_key.public_bytes(
            Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
        ).decode()

    @classmethod
    def load(cls, home: Path) -> Signer:
        """The key under `home/audit`, created (0600) on first use."""
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import (
            Encoding,
            NoEncryption,
            PrivateFormat,
            load_pem_private_key,
        )

        path = audit_home(home) / KEY_FILE
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            key = Ed25519PrivateKey.generate()
            pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
            _create_whole(path, pem)
        try:
            loaded = load_pem_private_key(path.read_bytes(), password=None)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{path}: not a readable Ed25519 private key ({exc})") from None
        if not isinstance(loaded, Ed25519PrivateKey):
            raise ConfigError(f"{path}: not an Ed25519 private key")
        return cls(loaded)

    def sign(self, message: bytes) -> str:
        """A base64 Ed25519 signature of `message`."""
        return base64.b64encode(self._key.sign(message)).decode()

    def verifies(self, message: bytes, signature: str) -> bool:
        """True when `signature` is this key's signature of `message`."""
        from cryptography.exceptions import InvalidSignature

        try:
            self.public_key.verify(base64.b64decode(signature, validate=True), message)
        except (InvalidSignature, ValueError):
            return False
        return True


def _create_whole(path: Path, content: bytes) -> None:
    """Create `path` (0600) holding `content`, unless another process created it first.

    Written aside and linked into place, so a process reading the key at the same moment
    (several `steward serve` workers start together) sees it whole or not at all.
    """
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    aside = Path(name)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    try:
        os.link(aside, path)
    except FileExistsError:
        pass  # another process made it a moment ago: use theirs
    finally:
        aside.unlink()


def checkpoint_message(seq: int, head_hash: str, signed_at: datetime) -> bytes:
    """The bytes a checkpoint's signature covers."""
    text = to_canonical_json(
        {"head_hash": head_hash, "seq": seq, "signed_at": format_time(signed_at)}
    )
    return text.encode()


def make_checkpoint(store: Store, signer: Signer, home: Path) -> Checkpoint | None:
    """Sign the chain's current head now; None if the log is empty or already checkpointed."""
    with store.write() as conn:
        seq, head_hash = head(conn)
        latest = _latest(conn)
        if seq == 0 or (latest is not None and latest.seq >= seq):
            return None
        signed_at = now()
        checkpoint = Checkpoint(
            seq=seq,
            head_hash=head_hash,
            signed_at=signed_at,
            key_id=signer.key_id,
            signature=signer.sign(checkpoint_message(seq, head_hash, signed_at)),
        )
        conn.execute(
            audit_checkpoints.insert().values(
                seq=seq,
                head_hash=head_hash,
                signed_at=signed_at,
                key_id=signer.key_id,
                signature=checkpoint.signature,
            )
        )
    # Written after commit: a checkpoint in the file always names records that exist.
    path = audit_home(home) / CHECKPOINT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as handle:
        handle.write(orjson.dumps(checkpoint.to_json()) + b"\n")
    return checkpoint


def checkpoint_if_due(
    store: Store, signer: Signer, home: Path, *, every: int, minutes: float
) -> Checkpoint | None:
    """A checkpoint when `every` records or `minutes` have passed since the last one."""
    with store.read() as conn:
        seq, _ = head(conn)
        latest = _latest(conn)
    if seq == 0 or (latest is not None and latest.seq >= seq):
        return None
    recent = latest is not None and now() - latest.signed_at < timedelta(minutes=minutes)
    if latest is not None and seq - latest.seq < every and recent:
        return None
    return make_checkpoint(store, signer, home)


def _latest(conn: Connection) -> Checkpoint | None:
    row = conn.execute(
        sa.select(audit_checkpoints).order_by(audit_checkpoints.c.seq.desc()).limit(1)
    ).first()
    return _to_checkpoint(row._mapping) if row is not None else None


def _to_checkpoint(row: Any) -> Checkpoint:
    return Checkpoint(
        seq=int(row["seq"]),
        head_hash=row["head_hash"],
        signed_at=row["signed_at"],
        key_id=row["key_id"],
        signature=row["signature"],
    )


def list_checkpoints(conn: Connection) -> list[Checkpoint]:
    """Every checkpoint in the store, oldest first."""
    rows = conn.execute(sa.select(audit_checkpoints).order_by(audit_checkpoints.c.seq))
    return [_to_checkpoint(row._mapping) for row in rows]


def read_exported(lines: Iterable[bytes], *, where: str) -> list[Checkpoint]:
    """Checkpoints from exported JSON lines; a bad line is `InvalidInput` naming it."""
    found = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = orjson.loads(line)
            signed_at = datetime.fromisoformat(str(data["signed_at"]).removesuffix("Z"))
            found.append(
                Checkpoint(
                    seq=int(data["seq"]),
                    head_hash=str(data["head_hash"]),
                    signed_at=signed_at,
                    key_id=str(data["key_id"]),
                    signature=str(data["signature"]),
                )
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(f"{where}: line {number} is not a checkpoint ({exc})") from None
    return found


def local_checkpoints(home: Path) -> list[Checkpoint]:
    """The checkpoints appended to `$STEWARD_HOME/audit/checkpoints.jsonl`, if any."""
    path = audit_home(home) / CHECKPOINT_FILE
    if not path.exists():
        return []
    with path.open("rb") as handle:
        return read_exported(handle, where=str(path))
