"""`steward scan`: secrets and private addresses in a tree or its git history.

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

    from steward.scan.models import Finding


class Format(StrEnum):
    text = "text"
    json = "json"
    sarif = "sarif"


def scan_command(
    path: Annotated[Path, typer.Argument(help="The directory or repository to scan.")] = Path("."),
    history: Annotated[
        bool,
        typer.Option("--history", help="Scan every line any commit on any ref added."),
    ] = False,
    output_format: Annotated[
        Format, typer.Option("--format", help="text (a table), json or sarif.")
    ] = Format.text,
    output: Annotated[
        Path | None, typer.Option("--output", help="Write the report here, not to stdout.")
    ] = None,
) -> None:
    """Find secrets and private addresses; exit 0 clean, 1 findings, 2 error."""
    import json

    from steward import __version__
    from steward.errors import InvalidInput
    from steward.scan.report import findings_json, findings_sarif
    from steward.scan.rules import DEFAULT_RULES
    from steward.scan.run import scan

    if not path.is_dir():
        raise InvalidInput(f"path: {path} is not a directory")
    findings = scan(path, history=history, rules=DEFAULT_RULES)
    if output_format is Format.text:
        report = _table(findings)
    elif output_format is Format.json:
        report = json.dumps(findings_json(findings), indent=2) + "\n"
    else:
        report = json.dumps(findings_sarif(findings, DEFAULT_RULES, version=__version__), indent=2)
        report += "\n"
    if output is None:
        sys.stdout.write(report)
    else:
        try:
            output.write_text(report, encoding="utf-8")
        except OSError as exc:
            raise InvalidInput(f"--output: cannot write {output}: {exc}") from exc
    if findings:
        raise typer.Exit(1)


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
