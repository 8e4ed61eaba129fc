"""`steward schema`: history, diff, check (who breaks?) and deprecate.

`check` exits 0 when the proposed schema is safe, 1 when it breaks readers, and 2 when
the input is bad (the `InvalidInput` exit code, mapped in `cli.main`).
"""

from __future__ import annotations

import getpass
import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from steward.cli.context import out, steward_from_env

app = typer.Typer(
    help="Schema versions, diffs, who a change breaks, deprecations.", no_args_is_help=True
)
err = Console(stderr=True)

Dataset = Annotated[
    str, typer.Argument(help="A catalog name, a dataset node id, or NAMESPACE/NAME.")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _change_rows(changes: list[Any]) -> Table:
    table = Table("change", "path", "old", "new")
    for c in changes:
        table.add_row(c.kind.value, escape(c.path), escape(c.old or ""), escape(c.new or ""))
    return table


@app.command("history")
def history_command(dataset: Dataset, as_json: AsJson = False) -> None:
    """Every schema version of a dataset, each with what changed since the one before."""
    from steward.schema.history import capture, dataset_id_of, history

    steward = steward_from_env()
    steward.upgrade()
    with steward.store.write() as conn:
        dataset_id = dataset_id_of(conn, dataset)
        capture(conn, [dataset_id])
        entries = history(conn, dataset_id)
    if as_json:
        payload = [
            {
                **e.version.to_json(),
                "changes": None if e.changes is None else [c.to_json() for c in e.changes],
            }
            for e in entries
        ]
        print(json.dumps(payload, indent=2))
        return
    if not entries:
        err.print(f"{escape(dataset)}: no schema version known")
        return
    for e in entries:
        v = e.version
        summary = f"{len(v.fields)} fields" if e.changes is None else f"{len(e.changes)} changes"
        out().print(
            f"[bold]v{v.version}[/bold]  {v.recorded_at:%Y-%m-%d %H:%M}  {v.origin}  {summary}"
        )
        for c in e.changes or []:
            out().print(f"  {escape(c.describe())}")


@app.command("diff")
def diff_command(
    dataset: Dataset,
    v1: Annotated[int, typer.Argument(help="The older version (-1 is the latest).")],
    v2: Annotated[int, typer.Argument(help="The newer version (-1 is the latest).")],
    as_json: AsJson = False,
) -> None:
    """What changed from version V1 to version V2 of a dataset's schema."""
    from steward.schema.history import capture, dataset_id_of, diff_versions

    steward = steward_from_env()
    steward.upgrade()
    with steward.store.write() as conn:
        dataset_id = dataset_id_of(conn, dataset)
        capture(conn, [dataset_id])
        changes = diff_versions(conn, dataset_id, v1, v2)
    if as_json:
        print(json.dumps([c.to_json() for c in changes], indent=2))
        return
    if not changes:
        out().print("no changes")
        return
    out().print(_change_rows(changes))


def _read_proposed(path: Path, dbt_contract: bool) -> Any:
    from steward.errors import InvalidInput

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"--proposed: cannot read {path}: {exc.strerror}") from exc
    if path.suffix in (".yml", ".yaml"):
        import yaml

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise InvalidInput(f"--proposed: {path} is not YAML: {exc}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"--proposed: {path} is not JSON: {exc}") from exc


@app.command("check")
def check_command(
    dataset: Dataset,
    proposed: Annotated[
        Path,
        typer.Option(
            "--proposed",
            help="The new schema: JSON of an Iceberg schema, an Avro record, a JSON Schema,"
            " or a list of fields; with --dbt-contract a dbt model (JSON or YAML).",
        ),
    ],
    dbt_contract: Annotated[
        bool, typer.Option("--dbt-contract", help="--proposed is a dbt model's contract.")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Who breaks? Exit 0 when the proposed schema is safe, 1 when it breaks readers."""
    from steward.schema.check import check
    from steward.schema.fields import parse_proposed
    from steward.schema.history import dataset_id_of

    fields = parse_proposed(_read_proposed(proposed, dbt_contract), dbt_contract=dbt_contract)
    steward = steward_from_env()
    steward.upgrade()
    with steward.store.write() as conn:
        result = check(conn, dataset_id_of(conn, dataset), fields)
    if as_json:
        print(json.dumps({"dataset": dataset, **result.to_json()}, indent=2))
    else:
        out().print(f"{escape(dataset)} against schema v{result.against_version}:")
        for finding in result.findings:
            mark = "[red]BREAKS[/red]" if finding.breaking else "[green]ok[/green]"
            out().print(f"{mark} {escape(finding.message)}")
            for r in finding.readers:
                column = f".{r.column}" if r.column else " (whole dataset)"
                owners = ", ".join(r.owners) or "no owner"
                out().print(
                    f"    {r.kind} {escape(r.dataset + column)} via {escape(r.job)}"
                    f" (owners: {escape(owners)})"
                )
        if not result.findings:
            out().print("no changes")
    if result.breaking:
        raise typer.Exit(1)


@app.command("deprecate")
def deprecate_command(
    target: Annotated[
        str, typer.Argument(help="DATASET or DATASET.COLUMN (a catalog name's last part).")
    ],
    sunset: Annotated[
        str, typer.Option("--sunset", help="The date (YYYY-MM-DD) from which it may go.")
    ],
    replacement: Annotated[
        str | None, typer.Option("--replacement", help="What readers should use instead.")
    ] = None,
    author: Annotated[str | None, typer.Option(help="Who deprecates (default: OS user).")] = None,
) -> None:
    """Deprecate a dataset or a column: breaking changes to it pass `check` from its sunset."""
    from steward.audit.log import record_change
    from steward.errors import InvalidInput
    from steward.identity.models import Principal
    from steward.schema.deprecations import deprecate
    from steward.schema.history import dataset_target

    try:
        when = date.fromisoformat(sunset)
    except ValueError as exc:
        raise InvalidInput(f"--sunset: not a date (YYYY-MM-DD): {sunset!r}") from exc
    principal = Principal(user=author or f"local:{getpass.getuser()}", is_admin=True)
    steward = steward_from_env()
    steward.upgrade()
    with steward.store.write() as conn:
        dataset_id, column, columns = dataset_target(conn, target)
        made = deprecate(
            conn,
            dataset_id,
            column,
            sunset=when,
            replacement=replacement,
            author=principal.user,
            columns=columns,
        )
        dataset_name = target if column is None else target.removesuffix(f".{column}")
        record_change(
            conn,
            principal,
            "schema.deprecate",
            dataset_name,
            (column,) if column else (),
            made.to_json(),
        )
    what = f"column {made.column}" if made.column else "dataset"
    err.print(f"deprecated {what} of {escape(target)}; sunset {made.sunset.isoformat()}")
