"""`steward export`: the catalog as Backstage entities or as a browsable data dictionary."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from steward.cli.context import steward_from_env

app = typer.Typer(help="Export the catalog to other tools.", no_args_is_help=True)
err = Console(stderr=True)


@app.command("backstage")
def backstage(
    output: Annotated[Path, typer.Option("--output", "-o", help="The YAML file to write.")] = Path(
        "catalog-info.yaml"
    ),
    default_owner: Annotated[
        str, typer.Option(help="Owner entity reference for datasets that have none.")
    ] = "group:default/data-platform",
) -> None:
    """Write every dataset as a Backstage `Resource` (spec.type dataset), domains as `System`s."""
    from steward.connectors.backstage import backstage_entities, write_backstage

    steward = steward_from_env()
    steward.upgrade()
    count = write_backstage(backstage_entities(steward.store, default_owner=default_owner), output)
    err.print(f"wrote {count} Backstage entities to {output}")


@app.command("docs")
def docs(
    output: Annotated[Path, typer.Option("--output", "-o", help="The directory to write.")] = Path(
        "data-dictionary"
    ),
) -> None:
    """Write a data dictionary (markdown and HTML): every dataset, owner, columns, PII, lineage."""
    from steward.connectors.datadict import write_docs

    steward = steward_from_env()
    steward.upgrade()
    count = write_docs(steward.store, output)
    err.print(f"wrote {count} dataset pages to {output}/ (open {output}/index.html)")
