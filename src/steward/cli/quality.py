"""`steward quality`: validate a checks file, run checks (terminal table, JUnit XML, JSON).

Exit codes: 0 when nothing failed (warnings are printed), 1 when an error-severity check
failed, 3 when checks could not run.
"""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from steward.cli.context import out

app = typer.Typer(help="Quality checks that gate publishing.", no_args_is_help=True)
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


@app.command("run")
def run_command(
    target: Annotated[
        str, typer.Argument(help="A checks YAML file, or a dataset named in --checks.")
    ],
    checks: Annotated[
        Path, typer.Option("--checks", help="The checks file when TARGET is a dataset.")
    ] = Path("checks.yaml"),
    junit: Annotated[
        Path | None, typer.Option("--junit", help="Also write JUnit XML to this file.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print results as JSON.")] = False,
) -> None:
    """Run checks in the engine; exit 0 (passed or warned), 1 (failed), 3 (could not run)."""
    import json

    from rich.markup import escape
    from rich.table import Table

    from steward.cli.context import steward_from_env
    from steward.errors import InvalidInput
    from steward.quality.history import alert, record_results
    from steward.quality.load import read_checks
    from steward.quality.report import exit_code, junit_xml
    from steward.quality.run import run_dataset

    path = Path(target)
    steward = steward_from_env(may_create=True)  # records results: may set the store up
    steward.upgrade()
    if path.is_file():
        datasets = list(read_checks(path).datasets)
    elif checks.is_file():
        datasets = [d for d in read_checks(checks).datasets if d.name == target]
        if not datasets:
            raise InvalidInput(f"quality run: {checks} declares no checks for {target!r}")
    else:
        from steward.quality.held import held

        found = held(steward.store, target)
        if found is None:
            raise InvalidInput(
                f"quality run: no checks for {target!r}: {checks} does not exist and the"
                " catalog holds none (steward quality attach FILE)"
            )
        datasets = [found]
    results = [r for dataset in datasets for r in run_dataset(steward, dataset)]
    steward.upgrade()
    record_results(steward.store, results)
    for missed in alert(steward.store, results, steward.settings):
        out().print(f"[yellow]alert not delivered, retried next run:[/yellow] {escape(missed)}")
    if junit is not None:
        junit.write_text(junit_xml(results), encoding="utf-8")
    if as_json:
        print(json.dumps([r.as_json() for r in results], indent=2))
    else:
        table = Table("dataset", "check", "status", "failures", "observed", "threshold", "message")
        colors = {"pass": "green", "warn": "yellow", "fail": "red", "error": "magenta"}
        for r in results:
            table.add_row(
                escape(r.dataset),
                escape(r.name),
                f"[{colors[r.status]}]{r.status}[/]",
                "" if r.failures is None else str(r.failures),
                escape("" if r.observed is None else str(r.observed)),
                escape(r.threshold),
                escape(r.message),
            )
        out().print(table)
    code = exit_code(results)
    if code:
        raise typer.Exit(code)


def publish_command(
    dataset: Annotated[str, typer.Argument(help="The Iceberg table, e.g. lake.sales.orders.")],
    branch: Annotated[str, typer.Option("--branch", help="The branch holding the new data.")],
    checks: Annotated[
        Path,
        typer.Option("--checks", help="The checks file (else the checks the catalog holds)."),
    ] = Path("checks.yaml"),
) -> None:
    """Run the checks on BRANCH; move main to it only when no error-severity check failed."""
    from steward.cli.context import steward_from_env
    from steward.errors import InvalidInput
    from steward.identity.models import Principal
    from steward.quality.load import read_checks
    from steward.quality.publish import publish
    from steward.quality.report import exit_code

    steward = steward_from_env(may_create=True)  # records results: may set the store up
    steward.upgrade()
    if checks.is_file():
        declared = read_checks(checks).dataset(dataset)
    else:
        from steward.quality.held import held

        declared = held(steward.store, dataset)
    if declared is None:
        raise InvalidInput(
            f"publish: no checks for {dataset!r} in {checks} or held in the catalog"
            " (steward quality attach FILE)"
        )
    actor = Principal(user=f"local:{getpass.getuser()}", is_admin=True)
    outcome = publish(steward, declared, branch, actor=actor)
    from steward.quality.history import alert

    for missed in alert(steward.store, list(outcome.results), steward.settings):
        out().print(f"[yellow]alert not delivered, retried next run:[/yellow] {escape(missed)}")
    for result in outcome.results:
        out().print(
            f"{result.status:<5} {escape(result.name)}  {escape(result.message)}"
            f"  [dim]({escape(result.how)})[/dim]"
        )
    out().print(f"checked: {escape(outcome.how)}")
    if outcome.moved:
        out().print(
            f"published: main of {escape(dataset)} is now snapshot {outcome.main_after}"
            f" (was {outcome.main_before})"
        )
        return
    out().print(
        f"[red]blocked[/red]: main of {escape(dataset)} stays at snapshot {outcome.main_before};"
        f" branch {escape(branch)} kept for inspection"
    )
    raise typer.Exit(exit_code(list(outcome.blocking)) or 1)


@app.command("import-dbt")
def import_dbt(
    target: Annotated[Path, typer.Argument(help="dbt's target directory (manifest, run_results).")],
) -> None:
    """Store the test results of a dbt run as check results (history, catalog, alerts)."""
    import json

    from steward.cli.context import steward_from_env
    from steward.errors import InvalidInput
    from steward.quality.history import alert, dbt_results, record_results
    from steward.quality.interop import import_dbt_results
    from steward.quality.report import exit_code

    artifacts = {}
    for name in ("manifest.json", "run_results.json"):
        path = target / name
        try:
            artifacts[name] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InvalidInput(f"{path}: cannot be read as JSON ({exc})") from None
    steward = steward_from_env(may_create=True)  # records results: may set the store up
    steward.upgrade()
    imported = import_dbt_results(artifacts["manifest.json"], artifacts["run_results.json"])
    results = dbt_results(steward.store, imported)
    record_results(steward.store, results)
    for missed in alert(steward.store, results, steward.settings):
        out().print(f"[yellow]alert not delivered, retried next run:[/yellow] {escape(missed)}")
    for r in results:
        out().print(f"{r.status:<5} {escape(r.dataset)}  {escape(r.name)}")
    code = exit_code(results)
    if code:
        raise typer.Exit(code)


@app.command("from-ge")
def from_ge(
    suite: Annotated[Path, typer.Argument(help="A Great Expectations expectation suite JSON.")],
    dataset: Annotated[str, typer.Option("--dataset", help="The dataset the suite checks.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write checks YAML here (else stdout).")
    ] = None,
) -> None:
    """Translate a GE suite into checks YAML, listing the expectations not supported."""
    import json

    import yaml

    from steward.errors import InvalidInput
    from steward.quality.interop import translate_ge_suite

    try:
        loaded = json.loads(suite.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{suite}: cannot be read as JSON ({exc})") from None
    datasets, unsupported = translate_ge_suite(loaded, dataset=dataset)
    text = yaml.safe_dump({"version": 1, "datasets": datasets}, sort_keys=False)
    if output is None:
        print(text, end="")
    else:
        output.write_text(text, encoding="utf-8")
    for line in unsupported:
        sys.stderr.write(f"not translated: {line}\n")


@app.command("attach")
def attach_command(
    file: Annotated[Path, typer.Argument(help="A checks file; each of its datasets is held.")],
) -> None:
    """Hold a checks file's checks in the catalog, per dataset (used when no file is given)."""
    from steward.audit.log import record
    from steward.audit.models import Resource
    from steward.cli.context import steward_from_env
    from steward.errors import InvalidInput
    from steward.identity.models import Principal
    from steward.quality.held import attach

    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"{file}: cannot be read ({exc})") from None
    steward = steward_from_env(may_create=True)  # records results: may set the store up
    steward.upgrade()
    actor = Principal(user=f"local:{getpass.getuser()}", is_admin=True)

    def audited(conn: Any, names: list[str]) -> None:
        for name in names:
            record(conn, actor=actor, action="quality.attach", resource=Resource(name, ()))

    names = attach(steward.store, text, name=str(file), author=actor.user, record=audited)
    out().print(f"the catalog now holds the checks of {escape(', '.join(names))}")
