"""`steward evidence DATASET`: the governance report with its offline proof, on the local store."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console

from steward.cli.context import steward_from_env
from steward.errors import InvalidInput

err = Console(stderr=True)
FORMATS = ("json", "md", "html")


def evidence_command(
    dataset: Annotated[str, typer.Argument(help="A catalog name or a node id (dataset:NS:NAME).")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Judge as of this ISO 8601 time (UTC).")
    ] = None,
    format: Annotated[
        str, typer.Option("--format", help="json (verifiable), md or html.")
    ] = "json",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Was each step toward DATASET allowed, and the audit records that prove it.

    The json form is the report; `steward audit verify --evidence FILE` checks it offline.
    """
    from steward.audit.log import parse_time
    from steward.governance.evidence import build_evidence
    from steward.governance.evidence_render import to_html, to_markdown

    if format not in FORMATS:
        raise InvalidInput(f"--format: {format!r} is not one of {', '.join(FORMATS)}")
    when = parse_time("--as-of", as_of)
    steward = steward_from_env()
    steward.upgrade()
    try:
        evidence = build_evidence(
            steward, dataset, as_of=when, generated_by=f"{getpass.getuser()} (steward CLI)"
        )
    finally:
        steward.close()
    report = evidence.to_json()
    if format == "json":
        text = orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n"
    elif format == "md":
        text = to_markdown(report)
    else:
        text = to_html(report)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        err.print(f"evidence for {report['dataset']['id']} written to {output}")
    summary = report["summary"]
    err.print(
        f"verdict: {report['verdict']} ({summary['findings']} findings,"
        f" {len(report['proof']['records'])} audit records proved)"
    )
