"""`steward lineage check`: lineage checked against policy, for CI and alerts.

Exit codes: 0 when no run on the way breaks the policy in force at its time, 1 on
findings, 2 when the check could not run (a dataset that cannot be evaluated, bad input).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from steward.errors import InvalidInput, StewardError

err = Console(stderr=True, highlight=False, soft_wrap=True)
ERROR_EXIT = 2


class Format(StrEnum):
    text = "text"
    json = "json"
    junit = "junit"


def parse_time(option: str, value: str | None) -> datetime | None:
    """An ISO 8601 time as naive UTC (a time without a zone is UTC)."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            f"{option}: {value!r} is not an ISO 8601 time (e.g. 2026-11-29T16:00:00Z)"
        ) from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def check_command(
    datasets: Annotated[
        list[str] | None,
        typer.Argument(
            help="Datasets to check (catalog names or dataset:NS:NAME); default: every"
            " dataset a job writes."
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only datasets a run wrote since this time (ISO 8601)."),
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Judge the lineage as it was at this time.")
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", help="text, json or junit.")] = Format.text,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report here (else stdout).")
    ] = None,
    all_runs: Annotated[
        bool,
        typer.Option(
            "--all-runs", help="Judge every run on the way, not only each job's latest one."
        ),
    ] = False,
    alerts: Annotated[
        bool, typer.Option("--alerts/--no-alerts", help="Alert the quality receivers.")
    ] = True,
) -> None:
    """Check datasets' upstream lineage against policy: exit 0 clean, 1 findings, 2 error."""
    try:
        code = _check(datasets or [], since, as_of, fmt, output, all_runs=all_runs, alerts=alerts)
    except StewardError as exc:
        err.print(f"[red]error:[/red] {escape(exc.message)}")
        raise typer.Exit(ERROR_EXIT) from None
    if code:
        raise typer.Exit(code)


def _check(
    datasets: list[str],
    since: str | None,
    as_of: str | None,
    fmt: Format,
    output: Path | None,
    *,
    all_runs: bool,
    alerts: bool,
) -> int:
    import json

    from steward.cli.context import steward_from_env
    from steward.governance.check import check
    from steward.governance.report import check_json, check_junit, check_text

    since_time = parse_time("--since", since)
    as_of_time = parse_time("--as-of", as_of)
    steward = steward_from_env()
    try:
        steward.upgrade()
        report = check(
            steward,
            datasets,
            since=since_time,
            as_of=as_of_time,
            all_runs=all_runs,
            alert=alerts,
        )
    finally:
        steward.close()
    if fmt is Format.json:
        text = json.dumps(check_json(report), indent=2) + "\n"
    elif fmt is Format.junit:
        text = check_junit(report) + "\n"
    else:
        lines = check_text(report)
        if not report.evaluations and not report.errors:
            lines.append("no dataset to check: no job writes one (or none since --since)")
        text = "\n".join(lines) + "\n"
    if output is not None:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    for missed in report.undelivered:
        err.print(f"[yellow]alert not delivered, retried next check:[/yellow] {escape(missed)}")
    return report.exit_code
