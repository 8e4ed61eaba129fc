"""Keys, certificates and tokens the corpus plants: private keys in PEM, PKCS#8 and
OpenSSH form, certificates and public keys (decoys), and JWTs that decode. Each is
seeded, so a seed writes the same bytes."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import random
import struct
import uuid
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from tests.scan.corpus_values import b64, b64url


def _der(tag: int, body: bytes) -> bytes:
    if len(body) < 128:
        return bytes([tag, len(body)]) + body
    size = len(body).to_bytes((len(body).bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + body


def _der_int(n: int) -> bytes:
    return _der(0x02, n.to_bytes(n.bit_length() // 8 + 1, "big"))


def _pem_text(label: str, der: bytes) -> str:
    text = b64(der)
    lines = [text[i : i + 64] for i in range(0, len(text), 64)]
    return "\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----"])


def rsa_der(rng: random.Random, bits: int = 2048) -> bytes:
    """A PKCS#1 RSAPrivateKey, DER, with every field of a 2048-bit key computed from two
    seeded 1024-bit odd numbers. They are not proven prime: finding real primes in pure
    Python takes seconds per key here and cryptography's generator cannot be seeded; a
    scanner sees the same bytes either way."""
    e = 65537
    while True:
        p = rng.getrandbits(bits // 2) | (3 << (bits // 2 - 2)) | 1
        q = rng.getrandbits(bits // 2) | (3 << (bits // 2 - 2)) | 1
        phi = (p - 1) * (q - 1)
        if math.gcd(e, phi) == 1 and math.gcd(p, q) == 1:
            break
    d = pow(e, -1, phi)
    fields = [0, p * q, e, d, p, q, d % (p - 1), d % (q - 1), pow(q, -1, p)]
    return _der(0x30, b"".join(_der_int(n) for n in fields))


def rsa_pem(rng: random.Random) -> str:
    return _pem_text("RSA PRIVATE KEY", rsa_der(rng))


def pkcs8_pem(rng: random.Random) -> str:
    algorithm = _der(0x30, bytes.fromhex("06092a864886f70d0101010500"))
    body = _der_int(0) + algorithm + _der(0x04, rsa_der(rng))
    return _pem_text("PRIVATE KEY", _der(0x30, body))


def _pem(key: ec.EllipticCurvePrivateKey, fmt: serialization.PrivateFormat) -> str:
    encoding = serialization.Encoding.PEM
    return key.private_bytes(encoding, fmt, serialization.NoEncryption()).decode().strip()


def ec_pem(rng: random.Random) -> str:
    key = ec.derive_private_key(rng.getrandbits(250) + 1, ec.SECP256R1())
    return _pem(key, serialization.PrivateFormat.TraditionalOpenSSL)


def _ssh_string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def openssh_pem(rng: random.Random) -> str:
    """An OpenSSH ed25519 private key, written by hand so its check integers are seeded."""
    seed = rng.randbytes(32)
    raw = serialization.Encoding.Raw
    public = ed25519.Ed25519PrivateKey.from_private_bytes(seed).public_key()
    pub = public.public_bytes(raw, serialization.PublicFormat.Raw)
    blob = _ssh_string(b"ssh-ed25519") + _ssh_string(pub)
    check = rng.randbytes(4)
    private = check + check + blob + _ssh_string(seed + pub) + _ssh_string(b"deploy@build")
    private += bytes(range(1, 8 - len(private) % 8 + 1)) if len(private) % 8 else b""
    body = b"openssh-key-v1\0" + _ssh_string(b"none") + _ssh_string(b"none") + _ssh_string(b"")
    body += struct.pack(">I", 1) + _ssh_string(blob) + _ssh_string(private)
    text = b64(body)
    lines = [text[i : i + 70] for i in range(0, len(text), 70)]
    return "\n".join(
        ["-----BEGIN OPENSSH PRIVATE KEY-----", *lines, "-----END OPENSSH PRIVATE KEY-----"]
    )


def pgp_pem(rng: random.Random) -> str:
    """A PGP private key block: an armoured body of the right shape (not a usable key)."""
    body = b64(b"\x95\x03\xc6\x04" + rng.randbytes(900))
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    crc = b64(rng.randbytes(3))
    return "\n".join(
        [
            "-----BEGIN PGP PRIVATE KEY BLOCK-----",
            "",
            *lines,
            "=" + crc,
            "-----END PGP PRIVATE KEY BLOCK-----",
        ]
    )


def certificate_pem(rng: random.Random, host: str) -> str:
    """A self-signed Ed25519 certificate (deterministic: Ed25519 signatures are)."""
    key = ed25519.Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    start = datetime(2024, 1, 1, tzinfo=UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(rng.getrandbits(64) + 1)
        .not_valid_before(start)
        .not_valid_after(start.replace(year=2034))
        .sign(key, None)
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode().strip()


def public_key_pem(rng: random.Random) -> str:
    key = ed25519.Ed25519PrivateKey.from_private_bytes(rng.randbytes(32)).public_key()
    fmt = serialization.PublicFormat.SubjectPublicKeyInfo
    return key.public_bytes(serialization.Encoding.PEM, fmt).decode().strip()


def ssh_public_key(rng: random.Random) -> str:
    key = ed25519.Ed25519PrivateKey.from_private_bytes(rng.randbytes(32)).public_key()
    fmt = serialization.PublicFormat.OpenSSH
    return key.public_bytes(serialization.Encoding.OpenSSH, fmt).decode() + " ci-runner"


def jwt(rng: random.Random, issuer: str) -> str:
    """An HS256 JWT that decodes, signed with a random key."""
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    iat = 1_700_000_000 + rng.randrange(30_000_000)
    claims = {
        "sub": str(uuid.UUID(int=rng.getrandbits(128))),
        "iss": issuer,
        "iat": iat,
        "exp": iat + 31_536_000,
    }
    payload = b64url(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(rng.randbytes(32), f"{header}.{payload}".encode(), hashlib.sha256)
    return f"{header}.{payload}.{b64url(signature.digest())}"
