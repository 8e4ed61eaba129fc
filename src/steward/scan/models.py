"""What the scanner reads (rules, lines) and what it reports (findings)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["secret", "internal-host", "private-ip", "pii"]
KINDS: tuple[Kind, ...] = ("secret", "internal-host", "private-ip", "pii")


@dataclass(frozen=True)
class Candidate:
    """A regex match a validator judges: the secret, the whole match, and its line."""

    secret: str
    match: str
    line: str


# Refuses a candidate (bad checksum, a documented example, does not decode) by
# returning False.
Validator = Callable[[Candidate], bool]


@dataclass(frozen=True)
class Allowlist:
    """What silences a rule (gitleaks' `[[rules.allowlists]]`): any regex matching the
    secret, any path regex matching the path, or a listed stop-word inside the secret."""

    description: str = ""
    regexes: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    stopwords: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    """One detection rule, with gitleaks' `[[rules]]` fields and Steward's kind and validator.

    `regex` and `path` are RE2 syntax (gitleaks is Go). `secret_group` 0 means the whole
    match is the secret. `keywords` are matched lower-cased before any regex runs; a rule
    without keywords runs on every line. `entropy` is the least Shannon entropy (bits per
    character) the secret must have; 0 turns the check off.
    """

    id: str
    description: str
    kind: Kind
    regex: str
    secret_group: int = 0
    keywords: tuple[str, ...] = ()
    entropy: float = 0.0
    path: str | None = None
    allowlists: tuple[Allowlist, ...] = ()
    validator: Validator | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Line:
    """One line of text to scan: where it is, and the commit that added it (history)."""

    path: str
    number: int
    text: str
    commit: str | None = None


@dataclass(frozen=True)
class Chunk:
    """Consecutive lines of one file (a whole file, or one hunk a commit added).

    `text` is the lines joined with "\n"; its first line is line `first_line` of `path`.
    Targets yield chunks and the engine scans them whole, so a rule's keywords and regex
    run once per chunk, not once per line.
    """

    path: str
    text: str
    first_line: int = 1
    commit: str | None = None


@dataclass(frozen=True)
class ScanOptions:
    """What the operator tells the built-in rules: the organisation's own domains.

    Host names under `internal_domains` are reported as internal hosts; email addresses
    under `allowed_email_domains` are not reported as personal data.
    """

    internal_domains: tuple[str, ...] = ()
    allowed_email_domains: tuple[str, ...] = ()


@dataclass(frozen=True)
class Finding:
    """One thing found; `redacted` is safe to print, the secret itself is never kept."""

    rule_id: str
    kind: Kind
    description: str
    path: str
    line: int
    column: int
    redacted: str
    fingerprint: str
    commit: str | None = None


def redact(secret: str) -> str:
    """The secret as it may be shown: its first four characters at most, then asterisks."""
    keep = min(4, len(secret) // 4)
    return secret[:keep] + "*" * min(max(len(secret) - keep, 3), 12)


def fingerprint(rule_id: str, path: str, secret: str) -> str:
    """A finding's identity, stable when lines move: rule, path and the stripped secret."""
    normal = secret.strip().strip("\"'")
    digest = hashlib.sha256(f"{rule_id}\0{path}\0{normal}".encode())
    return digest.hexdigest()[:32]
