"""Match rules against lines: keyword prefilter, RE2 regex, entropy, allow-lists, validator."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from steward.errors import InvalidInput
from steward.scan.models import (
    Allowlist,
    Candidate,
    Chunk,
    Finding,
    Line,
    RegexTarget,
    Rule,
    fingerprint,
    redact,
)

INLINE_ALLOW = ("gitleaks:allow", "steward:allow")


class Pattern(Protocol):
    """The part of a compiled RE2 (or `re`) pattern the engine uses."""

    @property
    def groups(self) -> int: ...

    def finditer(self, text: str) -> Iterator[Any]: ...

    def search(self, text: str) -> Any: ...


def compile_regex(source: str, *, where: str) -> Pattern:
    """Compile `source` as RE2 (Go's syntax, as gitleaks does); `where` names it in errors."""
    import re2  # type: ignore[import-untyped]

    try:
        return re2.compile(source)  # type: ignore[no-any-return]
    except Exception as exc:  # re2.error is not a stable public class across versions
        raise InvalidInput(f"{where}: not a valid RE2 regex: {exc}") from exc


def shannon_entropy(text: str) -> float:
    """Bits per character of `text` by its own character frequencies."""
    if not text:
        return 0.0
    length = len(text)
    return -sum(n / length * math.log2(n / length) for n in Counter(text).values())


@dataclass(frozen=True)
class CompiledAllowlist:
    """An `Allowlist` with its regexes compiled; `allows` decides as gitleaks does."""

    regexes: tuple[Pattern, ...]
    paths: tuple[Pattern, ...]
    stopwords: tuple[str, ...]
    commits: frozenset[str] = frozenset()
    every_check: bool = False
    regex_target: RegexTarget = "secret"

    def allows(
        self,
        secret: str,
        path: str,
        *,
        match: str | None = None,
        line: str | None = None,
        commit: str | None = None,
    ) -> bool:
        """True when this allow-list silences the finding.

        The regexes test the secret, the whole match or the line (`regex_target`; the
        secret stands in when the caller has no match or line); stop-words are looked
        for in the secret. With "OR" one passing check is enough, with "AND" every check
        the allow-list sets must pass (gitleaks' `condition`).
        """
        checks = []
        if self.commits:
            checks.append(commit is not None and commit.lower() in self.commits)
        if self.paths:
            checks.append(any(p.search(path) for p in self.paths))
        if self.regexes:
            target = {"secret": secret, "match": match, "line": line}[self.regex_target]
            text = secret if target is None else target
            checks.append(any(r.search(text) for r in self.regexes))
        if self.stopwords:
            lowered = secret.lower()
            checks.append(any(word in lowered for word in self.stopwords))
        return all(checks) if self.every_check else any(checks)


def compile_allowlist(allowlist: Allowlist, *, where: str) -> CompiledAllowlist:
    """Compile one allow-list's regexes; `where` names its rule (or "global") in errors."""
    return CompiledAllowlist(
        regexes=tuple(compile_regex(r, where=f"{where} allowlist") for r in allowlist.regexes),
        paths=tuple(compile_regex(p, where=f"{where} allowlist") for p in allowlist.paths),
        stopwords=tuple(w.lower() for w in allowlist.stopwords),
        commits=frozenset(c.strip().lower() for c in allowlist.commits),
        every_check=allowlist.condition == "AND",
        regex_target=allowlist.regex_target,
    )


@dataclass(frozen=True)
class CompiledRule:
    rule: Rule
    regex: Pattern
    path: Pattern | None
    keywords: tuple[str, ...]
    allowlists: tuple[CompiledAllowlist, ...]


def compile_rules(rules: Sequence[Rule]) -> tuple[CompiledRule, ...]:
    """Compile every rule's regexes once; a bad one raises `InvalidInput` naming the rule."""
    compiled = []
    for rule in rules:
        where = f"rule {rule.id}"
        allowlists = tuple(compile_allowlist(a, where=where) for a in rule.allowlists)
        regex = compile_regex(rule.regex, where=where)
        if not 0 <= rule.secret_group <= regex.groups:
            raise InvalidInput(
                f"{where}: secretGroup {rule.secret_group} but the regex has {regex.groups} groups"
            )
        compiled.append(
            CompiledRule(
                rule=rule,
                regex=regex,
                path=compile_regex(rule.path, where=f"{where} path") if rule.path else None,
                keywords=tuple(k.lower() for k in rule.keywords),
                allowlists=allowlists,
            )
        )
    return tuple(compiled)


def scan_chunks(rules: Sequence[CompiledRule], chunks: Iterable[Chunk]) -> Iterator[Finding]:
    """Every finding of `rules` in `chunks`, in order."""
    for chunk in chunks:
        lines = chunk.text.split("\n")
        yield from scan_lines(
            rules,
            (
                Line(chunk.path, chunk.first_line + n, text, chunk.commit)
                for n, text in enumerate(lines)
            ),
        )


def scan_lines(rules: Sequence[CompiledRule], lines: Iterable[Line]) -> Iterator[Finding]:
    """Every finding of `rules` in `lines`, in line order."""
    for line in lines:
        lowered = line.text.lower()
        if any(marker in lowered for marker in INLINE_ALLOW):
            continue
        for compiled in rules:
            if compiled.keywords and not any(k in lowered for k in compiled.keywords):
                continue
            if compiled.path is not None and not compiled.path.search(line.path):
                continue
            yield from _match(compiled, line)


def _match(compiled: CompiledRule, line: Line) -> Iterator[Finding]:
    rule = compiled.rule
    for match in compiled.regex.finditer(line.text):
        group = rule.secret_group
        secret = match.group(group)
        if not secret:
            continue
        if rule.entropy and shannon_entropy(secret) < rule.entropy:
            continue
        if any(
            a.allows(secret, line.path, match=match.group(0), line=line.text, commit=line.commit)
            for a in compiled.allowlists
        ):
            continue
        if rule.validator is not None and not rule.validator(
            Candidate(secret, match.group(0), line.text)
        ):
            continue
        yield Finding(
            rule_id=rule.id,
            kind=rule.kind,
            description=rule.description,
            path=line.path,
            line=line.number,
            column=match.start(group) + 1,
            redacted=redact(secret),
            fingerprint=fingerprint(rule.id, line.path, secret),
            commit=line.commit,
        )
