"""Match rules against chunks of text: keyword prefilter, RE2 regex, entropy, allow-lists,
validator.

A batch of chunks is joined into one UTF-8 buffer. One RE2 set pass over the lower-cased
buffer finds every keyword present, which selects the rules worth running; each selected
rule's regex then runs once over the whole buffer, as gitleaks runs each rule once per
fragment. Matches map back to their chunk, line and column by offset arithmetic, so the
per-match work in Python is only for the few places a regex matched.
"""

from __future__ import annotations

import math
import os
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate, chain
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
_INLINE_ALLOW_BYTES = tuple(marker.encode() for marker in INLINE_ALLOW)

# Chunks of a batch are joined by a newline, so `^`, `$` and `\b` see at a chunk's edge
# what they see at a line's edge.
_JOIN = b"\n"


class Pattern(Protocol):
    """The part of a compiled RE2 (or `re`) pattern the engine uses."""

    @property
    def groups(self) -> int: ...

    def finditer(self, text: Any, pos: int = ..., endpos: int = ...) -> Iterator[Any]: ...

    def search(self, text: Any, pos: int = ..., endpos: int = ...) -> Any: ...


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
    # All the stop-words as one RE2 alternation: gitleaks' generic rule lists ~1,500 of
    # them, and one pass over the secret beats that many substring tests.
    stopword_pattern: Pattern | None = None

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
            checks.append(
                self.stopword_pattern is not None and bool(self.stopword_pattern.search(lowered))
            )
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
        stopword_pattern=_any_of(allowlist.stopwords),
    )


@dataclass(frozen=True)
class CompiledRule:
    """A rule with its regexes compiled: `regex` runs over UTF-8 bytes in multi-line mode
    (`^` and `$` match at every line's edges, as they did when rules ran line by line)."""

    rule: Rule
    regex: Pattern
    path: Pattern | None
    keywords: tuple[str, ...]
    allowlists: tuple[CompiledAllowlist, ...]


def compile_rules(rules: Sequence[Rule]) -> tuple[CompiledRule, ...]:
    """Compile every rule's regexes once; a bad one raises `InvalidInput` naming the rule."""
    compiled = []
    # A gitleaks config's global allow-lists are copied into every rule: compile each once.
    shared: dict[Allowlist, CompiledAllowlist] = {}
    for rule in rules:
        where = f"rule {rule.id}"
        for allowlist in rule.allowlists:
            if allowlist not in shared:
                shared[allowlist] = compile_allowlist(allowlist, where=where)
        allowlists = tuple(shared[allowlist] for allowlist in rule.allowlists)
        regex = compile_regex("(?m)" + rule.regex, where=where)
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


def _any_of(words: Sequence[str]) -> Pattern | None:
    """One RE2 pattern matching any of the lower-cased `words` as a substring."""
    if not words:
        return None
    import re2

    return compile_regex("|".join(re2.escape(w.lower()) for w in words), where="stopwords")


class Prefilter:
    """Which rules may match a text: those whose keywords occur in it, found by one RE2 set
    pass over the lower-cased text, and those without keywords, which run everywhere."""

    def __init__(self, rules: Sequence[CompiledRule]) -> None:
        import re2

        keywords = sorted({k for compiled in rules for k in compiled.keywords})
        index = {keyword: n for n, keyword in enumerate(keywords)}
        self.rule_keywords = tuple(frozenset(index[k] for k in c.keywords) for c in rules)
        self._always = frozenset(n for n, words in enumerate(self.rule_keywords) if not words)
        self._rules_of: list[list[int]] = [[] for _ in keywords]
        for rule_index, words in enumerate(self.rule_keywords):
            for word in words:
                self._rules_of[word].append(rule_index)
        # bytes.lower() folds ASCII only; a non-ASCII keyword needs str.lower() of the text.
        self._ascii = all(k.isascii() for k in keywords)
        self._set: Any = None
        if keywords:
            self._set = re2.Set.SearchSet(re2.Options())
            for keyword in keywords:
                self._set.Add(re2.escape(keyword.encode()))
            self._set.Compile()

    def lowered(self, text: bytes) -> bytes:
        """`text` lower-cased as the keywords are."""
        return text.lower() if self._ascii else text.decode(errors="replace").lower().encode()

    def keywords_in(self, lowered: bytes) -> frozenset[int]:
        """The indexes of the keywords that occur in `lowered` (see `lowered`)."""
        if self._set is None:
            return frozenset()
        return frozenset(self._set.Match(lowered) or ())

    def rules_for(self, keywords: frozenset[int]) -> list[int]:
        """The indexes of the rules to run on a text holding `keywords`, in rule order."""
        selected = set(self._always)
        for word in keywords:
            selected.update(self._rules_of[word])
        return sorted(selected)


@dataclass(frozen=True)
class Batch:
    """Chunks joined by newlines into one UTF-8 buffer, with where each chunk lies in it."""

    chunks: Sequence[Chunk]
    buffer: bytes
    starts: list[int]
    ends: list[int]
    newlines_before: list[int]

    @classmethod
    def of(cls, chunks: Sequence[Chunk]) -> Batch:
        """Join `chunks`; CRLF line ends count as LF, as git and editors count lines."""
        encoded = [_without_cr(chunk.text).encode("utf-8", "replace") for chunk in chunks]
        starts = [0, *accumulate(len(e) + len(_JOIN) for e in encoded)][:-1]
        return cls(
            chunks=chunks,
            buffer=_JOIN.join(encoded),
            starts=starts,
            ends=[start + len(e) for start, e in zip(starts, encoded, strict=True)],
            newlines_before=[0, *accumulate(e.count(b"\n") + 1 for e in encoded)][:-1],
        )

    def chunk_at(self, offset: int) -> int:
        """The index of the chunk holding `offset` (a joining newline counts as before it)."""
        return bisect_right(self.starts, offset) - 1

    def line_of(self, index: int, offset: int) -> bytes:
        """The line of chunk `index` that holds `offset`, without its newline."""
        start, end = self.starts[index], self.ends[index]
        before = self.buffer.rfind(b"\n", start, offset)
        after = self.buffer.find(b"\n", offset, end)
        return self.buffer[start if before < 0 else before + 1 : end if after < 0 else after]

    def position(self, index: int, offset: int, newlines: int) -> tuple[int, int]:
        """Line number and 1-based column (in characters) of `offset` in chunk `index`,
        given the `newlines` in the buffer before `offset`."""
        start = self.starts[index]
        before = self.buffer.rfind(b"\n", start, offset)
        prefix = self.buffer[start if before < 0 else before + 1 : offset]
        line = self.chunks[index].first_line + newlines - self.newlines_before[index]
        return line, len(prefix.decode("utf-8", "replace")) + 1


def _without_cr(text: str) -> str:
    if "\r" not in text:
        return text
    return text.replace("\r\n", "\n").removesuffix("\r")


class NewlineCounter:
    """Newlines in a buffer before an offset, counted on from the last offset asked about:
    one rule's matches come in order, so counting costs one pass over the buffer."""

    def __init__(self, buffer: bytes) -> None:
        self._buffer = buffer
        self._offset = 0
        self._count = 0

    def before(self, offset: int) -> int:
        """How many newlines the buffer holds before `offset`."""
        if offset < self._offset:
            self._offset, self._count = 0, 0
        self._count += self._buffer.count(b"\n", self._offset, offset)
        self._offset = offset
        return self._count


def matches(
    regex: Pattern, batch: Batch, first: int, last: int
) -> Iterator[tuple[int, tuple[int, int], Any]]:
    """Every match of `regex` in chunks `first` to `last` of `batch`, as (chunk index,
    span of the whole match, match); spans are offsets in the buffer.

    The regex runs over those chunks' part of the buffer at once. A match running past its
    chunk's end is not one the chunk alone holds: that chunk is searched again bounded by
    its end (RE2 still sees the joining newline after it, as it would see a line end),
    and the search goes on at the next chunk.
    """
    buffer, pos, end = batch.buffer, batch.starts[first], batch.ends[last]
    while pos <= end:
        for match in regex.finditer(buffer, pos, end):
            span = match.span()
            index = batch.chunk_at(span[0])
            if span[1] > batch.ends[index]:
                bounded = regex.finditer(buffer, max(pos, batch.starts[index]), batch.ends[index])
                yield from ((index, inside.span(), inside) for inside in bounded)
                pos = batch.ends[index] + len(_JOIN)
                break
            yield index, span, match
            pos = span[1]  # where a search of the chunk alone would go on
        else:
            return


def runs(indexes: Sequence[int]) -> Iterator[tuple[int, int]]:
    """Sorted `indexes` as (first, last) runs of consecutive numbers."""
    first = previous = indexes[0]
    for index in indexes[1:]:
        if index != previous + 1:
            yield first, previous
            first = index
        previous = index
    yield first, previous


class Scanner:
    """Compiled rules and their prefilter: scans batches of chunks in one process."""

    def __init__(self, rules: Sequence[CompiledRule]) -> None:
        # A rule without a regex (gitleaks' path-only rule) names files, not content; the
        # scan reports those by path. Here its empty regex would match at every offset.
        self.rules = tuple(compiled for compiled in rules if compiled.rule.regex)
        self.prefilter = Prefilter(self.rules)

    def scan(self, chunks: Sequence[Chunk]) -> list[Finding]:
        """Every finding in `chunks`, ordered by chunk, line, column, then rule."""
        batch = Batch.of(chunks)
        found: list[tuple[tuple[int, int, int, int], Finding]] = []
        for rule_index, indexes in self._chunks_per_rule(batch).items():
            compiled = self.rules[rule_index]
            newlines = NewlineCounter(batch.buffer)
            for first, last in runs(indexes):
                for index, span, match in matches(compiled.regex, batch, first, last):
                    finding = self._judge(compiled, batch, index, span, match, newlines)
                    if finding is not None:
                        found.append(((index, finding.line, finding.column, rule_index), finding))
        found.sort(key=lambda keyed: keyed[0])
        return [finding for _, finding in found]

    def _chunks_per_rule(self, batch: Batch) -> dict[int, list[int]]:
        """For each rule to run, the chunks (in order) holding one of its keywords (every
        chunk for a rule without keywords) whose path the rule's path regex matches."""
        prefilter = self.prefilter
        lowered = prefilter.lowered(batch.buffer)
        everywhere = prefilter.keywords_in(lowered)
        if len(batch.chunks) == 1 or not everywhere:
            per_chunk = [everywhere] * len(batch.chunks)
        else:
            per_chunk = [
                prefilter.keywords_in(lowered[start:end])
                for start, end in zip(batch.starts, batch.ends, strict=True)
            ]
        selected: dict[int, list[int]] = {}
        for index, keywords in enumerate(per_chunk):
            for rule_index in prefilter.rules_for(keywords):
                selected.setdefault(rule_index, []).append(index)
        return {
            rule_index: kept
            for rule_index, indexes in selected.items()
            if (kept := self._on_its_paths(self.rules[rule_index], batch, indexes))
        }

    @staticmethod
    def _on_its_paths(compiled: CompiledRule, batch: Batch, indexes: list[int]) -> list[int]:
        # A rule with a path regex (`.env` files, say) skips other files before its regex
        # runs, however often its keywords occur in them.
        if compiled.path is None:
            return indexes
        path = compiled.path
        return [index for index in indexes if path.search(batch.chunks[index].path)]

    def _judge(
        self,
        compiled: CompiledRule,
        batch: Batch,
        index: int,
        span: tuple[int, int],
        match: Any,
        newlines: NewlineCounter,
    ) -> Finding | None:
        """The finding `match` makes, or None when a check refuses it: inline allow marker
        on the match's first line, entropy, allow-lists, validator."""
        rule, chunk = compiled.rule, batch.chunks[index]
        start, end = match.span(rule.secret_group) if rule.secret_group else span
        if start < 0 or start == end:
            return None
        line_bytes = batch.line_of(index, span[0])
        if any(marker in line_bytes.lower() for marker in _INLINE_ALLOW_BYTES):
            return None
        buffer = batch.buffer
        secret = buffer[start:end].decode("utf-8", "replace")
        if rule.entropy and shannon_entropy(secret) < rule.entropy:
            return None
        whole = buffer[span[0] : span[1]].decode("utf-8", "replace")
        line = line_bytes.decode("utf-8", "replace")
        if any(
            a.allows(secret, chunk.path, match=whole, line=line, commit=chunk.commit)
            for a in compiled.allowlists
        ):
            return None
        if rule.validator is not None and not rule.validator(Candidate(secret, whole, line)):
            return None
        number, column = batch.position(index, start, newlines.before(start))
        return Finding(
            rule_id=rule.id,
            kind=rule.kind,
            description=rule.description,
            path=chunk.path,
            line=number,
            column=column,
            redacted=redact(secret),
            fingerprint=fingerprint(rule.id, chunk.path, secret),
            commit=chunk.commit,
        )


# Chunks are sent to a worker in batches of about this many characters: big enough that
# the per-batch costs (a process round trip, a prefilter pass) vanish, small enough that
# both cores stay busy to the end.
BATCH_CHARS = 1 << 20
# Below this many characters one process scans it all before a pool would have started.
SERIAL_CHARS = 4 << 20


def scan_chunks(
    rules: Sequence[CompiledRule], chunks: Iterable[Chunk], *, jobs: int | None = None
) -> Iterator[Finding]:
    """Every finding of `rules` in `chunks`: in chunk order, then line, column and rule.

    `jobs` worker processes (default: one per CPU) scan batches of chunks while `chunks`
    is still being read; a small input, or `jobs=1`, is scanned in this process. The
    order of the findings does not depend on `jobs`.
    """
    workers = _workers(jobs)
    batches = _batches(chunks)
    head: list[list[Chunk]] = []
    size = 0
    for batch in batches:
        head.append(batch)
        size += sum(len(chunk.text) for chunk in batch)
        if size >= SERIAL_CHARS:
            break
    if workers == 1 or size < SERIAL_CHARS:
        scanner = Scanner(rules)
        for batch in chain(head, batches):
            yield from scanner.scan(batch)
    else:
        # The pool's machinery is imported only when a pool runs; it uses this module.
        from steward.scan.workers import scan_in_workers

        yield from scan_in_workers(rules, chain(head, batches), workers)


def _workers(jobs: int | None) -> int:
    if jobs is None:
        return os.cpu_count() or 1
    if jobs < 1:
        raise InvalidInput(f"jobs: must be 1 or more, not {jobs}")
    return jobs


def _batches(chunks: Iterable[Chunk]) -> Iterator[list[Chunk]]:
    batch: list[Chunk] = []
    size = 0
    for chunk in chunks:
        batch.append(chunk)
        size += len(chunk.text)
        if size >= BATCH_CHARS:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def chunks_of(lines: Iterable[Line]) -> Iterator[Chunk]:
    """Runs of consecutive lines of one file (and commit) joined into chunks."""
    run: list[Line] = []
    for line in lines:
        if run and not (
            line.path == run[-1].path
            and line.commit == run[-1].commit
            and line.number == run[-1].number + 1
        ):
            yield _chunk(run)
            run = []
        run.append(line)
    if run:
        yield _chunk(run)


def _chunk(lines: list[Line]) -> Chunk:
    first = lines[0]
    return Chunk(first.path, "\n".join(line.text for line in lines), first.number, first.commit)


def scan_lines(
    rules: Sequence[CompiledRule], lines: Iterable[Line], *, jobs: int | None = None
) -> Iterator[Finding]:
    """Every finding of `rules` in `lines`, scanned as the chunks their runs make."""
    return scan_chunks(rules, chunks_of(lines), jobs=jobs)
