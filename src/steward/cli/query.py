"""`steward query "SQL"`: run read-only SQL on the local installation as a given principal."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from steward.cli.context import steward_from_env


def query_command(
    sql: Annotated[str, typer.Argument(help="One read-only SELECT statement.")],
    user: Annotated[
        str, typer.Option(help="Act as this user, to see what the policies give them.")
    ] = "local",
    groups: Annotated[str, typer.Option(help="Comma-separated groups of that user.")] = "",
    attribute: Annotated[
        list[str] | None,
        typer.Option(
            "--attribute",
            help="An attribute of that user, NAME=VALUE, as row filters read it with"
            " current_attribute('NAME'); repeat for several.",
        ),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many rows.")] = 10_000,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Run SQL as USER (with GROUPS) under the active policies: masked, filtered, audited."""
    from steward.identity.models import Principal
    from steward.policy.query import run_query
    from steward.policy.wiring import access_for

    steward = steward_from_env()
    steward.upgrade()
    pairs = []
    for given in attribute or []:
        name, sep, value = given.partition("=")
        if not sep or not name.strip():
            raise typer.BadParameter(f"{given!r}: give NAME=VALUE", param_hint="--attribute")
        pairs.append((name.strip(), value))
    principal = Principal(
        user=user,
        groups=frozenset(g.strip() for g in groups.split(",") if g.strip()),
        attributes=tuple(pairs),
    )
    result = run_query(
        steward,
        sql,
        principal,
        access_for=access_for(steward, principal),
        limit=limit,
        client="steward-cli",
    )
    if as_json:
        print(json.dumps(result.to_json(), default=str))
        return
    table = Table(*result.columns)
    for row in result.rows:
        table.add_row(*("NULL" if v is None else str(v) for v in row))
    console = Console()
    console.print(table)
    for item in result.applied:
        what = f"mask {item['mask']} on {item['column']}" if "mask" in item else item["filter"]
        console.print(f"applied: {item['table']}: {what} ({item['rule']})", style="dim")
    if result.truncated:
        console.print(f"(first {limit} rows shown)", style="dim")
