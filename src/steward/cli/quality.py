"""`steward quality`: validate a checks file, run checks (terminal table, JUnit XML, JSON).

Exit codes: 0 when nothing failed (warnings are printed), 1 when an error-severity check
failed, 3 when checks could not run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(help="Quality checks that gate publishing.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)


@app.command("validate")
def validate_command(
    path: Annotated[Path, typer.Argument(help="A checks YAML file.")],
) -> None:
    """Check a checks file: its shape, check names, arguments, thresholds and SQL."""
    from steward.quality.load import read_checks

    checks = read_checks(path)
    count = sum(len(d.checks) for d in checks.datasets)
    err.print(f"{path}: {count} checks on {len(checks.datasets)} datasets, all valid")
