"""One scan: pick the rules and the target, run the engine over its chunks, filter what the
operator silenced (`.gitleaksignore`, baseline), return the findings and the notices."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from steward.errors import InvalidInput
from steward.scan.baseline import new_findings
from steward.scan.engine import (
    CompiledAllowlist,
    Pattern,
    compile_allowlist,
    compile_regex,
    compile_rules,
    scan_chunks,
)
from steward.scan.gitleaks import is_ignored, load_config
from steward.scan.models import Chunk, Finding, Notice, Rule, ScanOptions, fingerprint
from steward.scan.rules import default_rules
from steward.scan.targets import (
    NoticeSink,
    directory_chunks,
    history_chunks,
    staged_chunks,
)

# Files that configure gitleaks or Steward when they sit at a scanned tree's root. They
# are the operator's to name, never read because the tree holds them: a repository
# shipping a permissive config is how a leak hides.
TREE_CONFIG_FILES = (".gitleaks.toml", ".gitleaksignore", "steward.toml")


@dataclass(frozen=True)
class _PathRule:
    """A gitleaks path-only rule (a `path`, no `regex`), compiled: the file is the finding."""

    rule: Rule
    path: Pattern
    allowlists: tuple[CompiledAllowlist, ...]


@dataclass(frozen=True)
class ScanResult:
    """What a scan found, and what the operator should know about how it ran."""

    findings: list[Finding]
    notices: list[Notice] = field(default_factory=list)


def rule_set(options: ScanOptions, config: Path | None = None) -> tuple[Rule, ...]:
    """The rules a scan runs: Steward's built-in rules for `options`, or the gitleaks
    config at `config` (whose `[extend] useDefault` extends those built-in rules)."""
    built_in = default_rules(options)
    if config is None:
        return built_in
    return load_config(config, default_rules=built_in)


def scan(
    root: Path,
    *,
    history: bool = False,
    staged: bool = False,
    since: str | None = None,
    ref: str | None = None,
    rules: Sequence[Rule] | None = None,
    options: ScanOptions | None = None,
    jobs: int | None = None,
) -> list[Finding]:
    """The findings in the files under `root`; with `history` in every line any commit on
    any ref added (with `ref`, any commit reachable from that one; with `since`, commits
    after that one); with `staged` in the lines
    staged in git's index. `rules` default to the built-in rules for `options`; `jobs`
    worker processes (default: one per CPU) scan while the target is read."""
    chosen = default_rules(options or ScanOptions()) if rules is None else rules
    found = run_scan(
        root, history=history, staged=staged, since=since, ref=ref, rules=chosen, jobs=jobs
    )
    return found.findings


def run_scan(
    root: Path,
    *,
    history: bool = False,
    staged: bool = False,
    since: str | None = None,
    ref: str | None = None,
    rules: Sequence[Rule],
    ignored: frozenset[str] = frozenset(),
    baseline: frozenset[str] = frozenset(),
    named_files: Iterable[Path] = (),
    jobs: int | None = None,
) -> ScanResult:
    """`scan` with the operator's silencers: `ignored` (`.gitleaksignore` fingerprints),
    `baseline` (accepted fingerprints); `named_files` are the config files the operator
    named, so that one at the tree's root is not reported as ignored; `jobs` as in `scan`."""
    if staged and (history or since is not None or ref is not None):
        raise InvalidInput("--staged: cannot be combined with --history, --since or --ref")
    notices = tree_config_notices(root, named_files)
    content_rules = [rule for rule in rules if rule.regex]
    path_rules = [_path_rule(rule) for rule in rules if not rule.regex]
    path_found: list[Finding] = []
    chunks = _target(
        root, history=history, staged=staged, since=since, ref=ref, notice=notices.append
    )
    found = list(
        scan_chunks(
            compile_rules(content_rules),
            _with_path_rules(chunks, path_rules, path_found),
            jobs=jobs,
        )
    )
    kept = [f for f in found + path_found if not is_ignored(f, ignored)]
    return ScanResult(new_findings(kept, baseline), notices)


def _target(
    root: Path,
    *,
    history: bool,
    staged: bool,
    since: str | None,
    ref: str | None,
    notice: NoticeSink,
) -> Iterator[Chunk]:
    if staged:
        return staged_chunks(root)
    if history or since is not None or ref is not None:
        return history_chunks(root, since=since, ref=ref)
    return directory_chunks(root, notice=notice)


def tree_config_notices(root: Path, named_files: Iterable[Path]) -> list[Notice]:
    """A notice for each config file at the root of the scanned tree the operator did not name."""
    named = {path.resolve() for path in named_files}
    return [
        Notice(
            str(root / name),
            "present in the scanned tree and NOT read: the operator's config decides; "
            "name it (--config / --ignore-file) to use it",
        )
        for name in TREE_CONFIG_FILES
        if (root / name).is_file() and (root / name).resolve() not in named
    ]


def _path_rule(rule: Rule) -> _PathRule:
    where = f"rule {rule.id}"
    if not rule.path:
        raise InvalidInput(f"{where}: has neither a regex nor a path")
    return _PathRule(
        rule=rule,
        path=compile_regex(rule.path, where=f"{where} path"),
        allowlists=tuple(compile_allowlist(a, where=where) for a in rule.allowlists),
    )


def _with_path_rules(
    chunks: Iterable[Chunk], path_rules: Sequence[_PathRule], found: list[Finding]
) -> Iterator[Chunk]:
    """`chunks` passed on unchanged; each file (per commit) a path-only rule names is
    added to `found` on the way (gitleaks' rules with a `path` and no `regex`)."""
    seen: set[tuple[str, str | None]] = set()
    for chunk in chunks:
        if path_rules and (chunk.path, chunk.commit) not in seen:
            seen.add((chunk.path, chunk.commit))
            found.extend(_path_findings(path_rules, chunk))
        yield chunk


def _path_findings(path_rules: Sequence[_PathRule], chunk: Chunk) -> Iterator[Finding]:
    for compiled in path_rules:
        if not compiled.path.search(chunk.path):
            continue
        # As gitleaks: only an allow-list's commits and paths apply to a file finding.
        if any(
            a.allows("", chunk.path, commit=chunk.commit)
            for a in compiled.allowlists
            if not (a.regexes or a.stopwords)
        ):
            continue
        rule = compiled.rule
        yield Finding(
            rule_id=rule.id,
            kind=rule.kind,
            description=rule.description,
            path=chunk.path,
            line=1,
            column=1,
            redacted="(the file itself)",
            fingerprint=fingerprint(rule.id, chunk.path, ""),
            commit=chunk.commit,
        )
