"""Validators the secret rules share: checksums, decoding, and "is this value real?".

Each is a module-level function of a `Candidate`, so rules stay picklable for the
engine's worker processes.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import zlib

from steward.scan.decoys import (
    decode_base64_text,
    is_base64_of_prose,
    is_documented_example,
    is_placeholder,
    is_reference,
    looks_like_hash,
)
from steward.scan.engine import shannon_entropy
from steward.scan.models import Candidate

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

# Below this many bits per character a "random" token is a pattern someone typed.
TOKEN_MIN_ENTROPY = 3.0


def github_checksum(body: str) -> str:
    """The six characters GitHub appends to a token's 30-character random part:
    the CRC32 of that part in base62, left-padded with zeros."""
    value = zlib.crc32(body.encode())
    digits = ""
    while value:
        value, rest = divmod(value, 62)
        digits = BASE62[rest] + digits
    return digits.rjust(6, "0")


def github_token_checksum_ok(candidate: Candidate) -> bool:
    """A `ghp_`-style (or `npm_`) token whose last six characters are the checksum of
    the 30 before them."""
    body = candidate.secret[4:]
    return github_checksum(body[:30]) == body[30:]


def token_is_real(candidate: Candidate) -> bool:
    """A provider token that is not a placeholder, a documented example, or a run of
    too few distinct characters to have come from a random generator."""
    secret = candidate.secret
    if is_documented_example(secret) or is_placeholder(secret):
        return False
    return len(secret) < 16 or shannon_entropy(secret) >= TOKEN_MIN_ENTROPY


def keyed_value_is_real(candidate: Candidate) -> bool:
    """A value found by its key (`aws_secret_access_key = ...`): a real token that is
    not a digest on a line about hashes, nor base64 of plain prose."""
    return (
        token_is_real(candidate)
        and not looks_like_hash(candidate.secret, candidate.line)
        and not is_base64_of_prose(candidate.secret)
    )


def _b64url_json(part: str) -> object:
    padded = part + "=" * (-len(part) % 4)
    return json.loads(base64.urlsafe_b64decode(padded))


def jwt_decodes(candidate: Candidate) -> bool:
    """A JWT whose header decodes to JSON naming an `alg`, and not jwt.io's sample."""
    header, _payload, signature = candidate.secret.split(".")[:3]
    if is_documented_example(signature):
        return False
    try:
        decoded = _b64url_json(header)
    except (ValueError, binascii.Error):
        return False
    return isinstance(decoded, dict) and "alg" in decoded


def discord_bot_token_decodes(candidate: Candidate) -> bool:
    """A Discord bot token: its first part is the bot's numeric id in base64, or the
    line names Discord (a three-part token nobody labelled is too common a shape)."""
    first = candidate.secret.split(".")[0]
    text = decode_base64_text(first)
    is_bot_id = text is not None and text.isdigit()
    return (is_bot_id or "discord" in candidate.line.lower()) and token_is_real(candidate)


def basic_credentials_are_real(candidate: Candidate) -> bool:
    """`Authorization: Basic X` or Docker's `"auth": "X"`: X decodes to `user:password`
    with a password that is not a placeholder."""
    text = decode_base64_text(candidate.secret)
    if text is None or ":" not in text:
        return False
    _user, password = text.split(":", 1)
    return bool(password) and not is_placeholder(password) and not is_reference(password)


def user_password_is_real(candidate: Candidate) -> bool:
    """`user:password` as written on a command line (`curl -u`): the password part is a
    literal, not a placeholder or a shell variable."""
    _user, _, password = candidate.secret.partition(":")
    return bool(password) and not is_placeholder(password) and not password.startswith("$")


def password_is_real(candidate: Candidate) -> bool:
    """A password in a URL or connection string that is not a placeholder, a reference or
    a documented fixed value."""
    secret = candidate.secret
    return not (
        is_placeholder(secret)
        or is_reference(secret)
        or is_documented_example(secret)
        or secret.startswith("$")
    )


PEM_BODY = re.compile(r"PRIVATE KEY(?: BLOCK)?-----(.*?)-----END", re.DOTALL)


def private_key_has_body(candidate: Candidate) -> bool:
    """A private key header, unless the line shows the whole key and its body is a
    placeholder (`...`, `<key>`), or the header is only a string constant in code
    (`"-----BEGIN RSA PRIVATE KEY-----"` with nothing after it)."""
    line = candidate.line
    start = line.find(candidate.match)
    after = line[start + len(candidate.match) :]
    before = line[:start]
    if before.rstrip().endswith(("'", '"')) and after.lstrip()[:1] in ("'", '"', ")"):
        return False
    body = PEM_BODY.search(line[start:])
    if body is not None:
        payload = body.group(1)
    elif re.match(r"\\+n", after):  # a one-line (JSON-escaped) key cut short on this line
        payload = re.split(r"[\"']", after, maxsplit=1)[0]
    else:
        return True
    payload = re.sub(r"\\+n|\\+r|[\s\"',+]", "", payload)
    if ":" in payload:  # RFC 1421 headers of an encrypted key ("Proc-Type: 4,ENCRYPTED")
        payload = payload.rsplit(":", 1)[-1]
    return len(payload) >= 40 and not is_placeholder(payload)
