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


AllowlistCondition = Literal["OR", "AND"]
RegexTarget = Literal["secret", "match", "line"]


@dataclass(frozen=True)
class Allowlist:
    """What silences a rule (gitleaks' `[[rules.allowlists]]`).

    With `condition` "OR" (the default) any one check silences: a regex matching the
    `regex_target` (the secret, the whole match or the line), a path regex matching the
    path, a stop-word inside the secret, or the finding's commit being listed. With "AND"
    every check the allow-list sets must hold.
    """

    description: str = ""
    regexes: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    stopwords: tuple[str, ...] = ()
    condition: AllowlistCondition = "OR"
    regex_target: RegexTarget = "secret"
    commits: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    """One detection rule, with gitleaks' `[[rules]]` fields and Steward's kind and validator.

    `regex` and `path` are RE2 syntax (gitleaks is Go). `secret_group` 0 means the whole
    match is the secret. `keywords` are matched lower-cased before any regex runs; a rule
    without keywords runs on every line. `entropy` is the least Shannon entropy (bits per
    character) the secret must have; 0 turns the check off. A rule whose `regex` is empty
    is a path-only rule (gitleaks'): the file whose path matches `path` is the finding.
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
    tags: tuple[str, ...] = ()


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
class Notice:
    """Something the operator should know about a scan that is not a finding: a file left
    unread (an archive over its size cap) or a config file in the tree that was ignored."""

    path: str
    message: str


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
