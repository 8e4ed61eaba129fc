"""`steward scan`: secrets, internal hosts, private addresses and personal data in a tree,
its git history or the lines staged for the next commit.

Exit codes: 0 when nothing was found, 1 when something was, 2 when the scan could not run.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from collections.abc import Sequence

    from steward.config import Settings
    from steward.scan.models import Finding, Rule, ScanOptions


class Format(StrEnum):
    text = "text"
    json = "json"
    sarif = "sarif"
    junit = "junit"


def scan_command(
    path: Annotated[Path, typer.Argument(help="The directory or repository to scan.")] = Path("."),
    history: Annotated[
        bool,
        typer.Option("--history", help="Scan every line any commit on any ref added."),
    ] = False,
    staged: Annotated[
        bool,
        typer.Option("--staged", help="Scan the lines staged in git's index (pre-commit)."),
    ] = False,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            metavar="COMMIT",
            help="History of the commits on any ref that COMMIT does not reach.",
        ),
    ] = None,
    ref: Annotated[
        str | None,
        typer.Option(
            "--ref",
            metavar="REF",
            help="History of the commits REF (e.g. HEAD) reaches, not of every ref.",
        ),
    ] = None,
    output_format: Annotated[
        Format, typer.Option("--format", help="text (a table), json, sarif or junit.")
    ] = Format.text,
    output: Annotated[
        Path | None, typer.Option("--output", help="Write the report here, not to stdout.")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help=r"A gitleaks TOML config (default: \[scan] config in steward.toml). "
            "A .gitleaks.toml inside the scanned tree is read only when named here.",
        ),
    ] = None,
    ignore_file: Annotated[
        Path | None,
        typer.Option("--ignore-file", help="A .gitleaksignore of finding fingerprints to skip."),
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option("--baseline", help="Report only findings not in this baseline file."),
    ] = None,
    write_baseline: Annotated[
        Path | None,
        typer.Option("--write-baseline", help="Write the findings as a baseline here; exit 0."),
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            min=1,
            help="Worker processes (default: one per CPU); 1 scans in this process.",
        ),
    ] = None,
) -> None:
    """Find secrets, internal hosts, private addresses, personal data; exit 0 clean, 1
    findings, 2 error."""
    from steward.errors import InvalidInput
    from steward.scan.baseline import read_baseline
    from steward.scan.baseline import write_baseline as save_baseline
    from steward.scan.gitleaks import read_ignore_file
    from steward.scan.run import rule_set, run_scan

    if not path.is_dir():
        raise InvalidInput(f"path: {path} is not a directory")
    settings = _settings()
    config = config or settings.scan_config
    baseline = baseline or settings.scan_baseline
    rules = rule_set(_options(settings), config)
    named = [p for p in (config, ignore_file) if p is not None]
    result = run_scan(
        path,
        history=history,
        staged=staged,
        since=since,
        ref=ref,
        rules=rules,
        ignored=read_ignore_file(ignore_file) if ignore_file else frozenset(),
        baseline=read_baseline(baseline) if baseline and not write_baseline else frozenset(),
        named_files=named,
        jobs=jobs,
    )
    for notice in result.notices:
        sys.stderr.write(f"warning: {notice.path}: {notice.message}\n")
    if write_baseline is not None:
        save_baseline(write_baseline, result.findings)
        sys.stderr.write(f"baseline: {len(result.findings)} findings written to {write_baseline}\n")
        return
    _emit(_render(result.findings, rules, output_format), output)
    if result.findings:
        raise typer.Exit(1)


def _settings() -> Settings:
    """Steward's settings; a bad `[scan]` table is an input error (exit 2) for this command."""
    from steward.config import load_settings
    from steward.errors import ConfigError, InvalidInput

    try:
        return load_settings()
    except ConfigError as exc:
        raise InvalidInput(exc.message) from exc


def _options(settings: Settings) -> ScanOptions:
    from steward.scan.models import ScanOptions

    return ScanOptions(
        internal_domains=tuple(settings.scan_internal_domains),
        allowed_email_domains=tuple(settings.scan_allowed_email_domains),
    )


def _render(findings: Sequence[Finding], rules: Sequence[Rule], output_format: Format) -> str:
    """The report in the chosen format."""
    import json

    from steward import __version__
    from steward.scan.report import findings_json, findings_junit, findings_sarif

    if output_format is Format.text:
        return _table(findings)
    if output_format is Format.json:
        return json.dumps(findings_json(findings), indent=2) + "\n"
    if output_format is Format.junit:
        return findings_junit(findings)
    return json.dumps(findings_sarif(findings, rules, version=__version__), indent=2) + "\n"


def _emit(report: str, output: Path | None) -> None:
    from steward.errors import InvalidInput

    if output is None:
        sys.stdout.write(report)
        return
    try:
        output.write_text(report, encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"--output: cannot write {output}: {exc}") from exc


def _table(rows: Sequence[Finding]) -> str:
    """The findings as a terminal table, secrets redacted, as plain text."""
    import io

    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    text = io.StringIO()
    console = Console(file=text, width=160)
    if not rows:
        console.print("no findings")
        return text.getvalue()
    table = Table("kind", "rule", "path", "line", "commit", "match (redacted)")
    for f in rows:
        table.add_row(
            f.kind,
            f.rule_id,
            escape(f.path),
            f"{f.line}:{f.column}",
            (f.commit or "")[:12],
            escape(f.redacted),
        )
    console.print(table)
    console.print(f"{len(rows)} findings")
    return text.getvalue()
