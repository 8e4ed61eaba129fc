"""Steward's built-in secret rules, each with the validator its provider's format allows."""

from __future__ import annotations

import base64
import binascii
import json
import zlib

from steward.scan.models import Candidate, Rule

# AWS's documentation uses this key id everywhere; it never authenticates.
AWS_EXAMPLE_KEY_IDS = frozenset({"AKIAIOSFODNN7EXAMPLE", "AKIAI44QH8DHBEXAMPLE"})

# The token jwt.io shows on its front page (HS256, "John Doe", secret "your-256-bit-secret").
JWT_IO_SAMPLE_SIGNATURE = "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

PLACEHOLDER_WORDS = frozenset(
    {"changeme", "change_me", "password", "passwd", "pass", "secret", "pw", "redacted"}
)


def aws_key_id_is_real(candidate: Candidate) -> bool:
    """AWS's documented example key ids (and any id ending EXAMPLE) are decoys."""
    return candidate.secret not in AWS_EXAMPLE_KEY_IDS and not candidate.secret.endswith("EXAMPLE")


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
    """A `ghp_`-style token whose last six characters are the checksum of the rest."""
    body = candidate.secret[4:]
    return github_checksum(body[:30]) == body[30:]


def _b64url_json(part: str) -> object:
    padded = part + "=" * (-len(part) % 4)
    return json.loads(base64.urlsafe_b64decode(padded))


def jwt_decodes(candidate: Candidate) -> bool:
    """A JWT whose header decodes to JSON naming an `alg`, and not jwt.io's sample."""
    header, _payload, signature = candidate.secret.split(".")
    if signature == JWT_IO_SAMPLE_SIGNATURE:
        return False
    try:
        decoded = _b64url_json(header)
    except (ValueError, binascii.Error):
        return False
    return isinstance(decoded, dict) and "alg" in decoded


def is_placeholder(value: str) -> bool:
    """Templating, angle-bracket slots, masks and words that stand in for a password."""
    lowered = value.lower()
    return (
        lowered.startswith(("$", "%", "<", "{", "["))
        or "{{" in lowered
        or "${" in lowered
        or lowered.strip("x*.") == ""
        or lowered in PLACEHOLDER_WORDS
        or lowered.startswith(("your", "my-", "my_"))
    )


def url_password_is_real(candidate: Candidate) -> bool:
    """A connection URL's password that is not a placeholder."""
    return not is_placeholder(candidate.secret)


SECRET_RULES: tuple[Rule, ...] = (
    Rule(
        id="aws-access-key-id",
        description="AWS access key id",
        kind="secret",
        regex=r"\b((?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16})\b",
        secret_group=1,
        keywords=("akia", "asia", "abia", "acca", "a3t"),
        validator=aws_key_id_is_real,
    ),
    Rule(
        id="github-token",
        description="GitHub token (personal, OAuth, user-to-server, server-to-server, refresh)",
        kind="secret",
        regex=r"\b(gh[pousr]_[A-Za-z0-9]{36})\b",
        secret_group=1,
        keywords=("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
        validator=github_token_checksum_ok,
    ),
    Rule(
        id="private-key",
        description="Private key (PEM)",
        kind="secret",
        regex=r"-----BEGIN[ A-Z0-9]*PRIVATE KEY( BLOCK)?-----",
        keywords=("private key",),
    ),
    Rule(
        id="jwt",
        description="JSON Web Token",
        kind="secret",
        regex=r"\b(eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{16,})",
        secret_group=1,
        keywords=("eyj",),
        validator=jwt_decodes,
    ),
    Rule(
        id="connection-url-password",
        description="Password in a database or broker connection URL",
        kind="secret",
        regex=(
            r"\b(?:postgres(?:ql)?|mysql|mariadb|rediss?|amqps?|mongodb(?:\+srv)?)"
            r"(?:\+[a-z0-9]+)?://[^\s:@/]*:([^\s@/]+)@[^\s@/]+"
        ),
        secret_group=1,
        keywords=("://",),
        validator=url_password_is_real,
    ),
)
