"""`steward token`: create, list and revoke API tokens in the local store."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from steward.cli.context import steward_from_env

app = typer.Typer(help="API tokens.", no_args_is_help=True)


@app.command("create")
def create(
    user: Annotated[str, typer.Option(help="The user the token acts as.")],
    groups: Annotated[str, typer.Option(help="Comma-separated groups, e.g. analysts,eu.")] = "",
    admin: Annotated[bool, typer.Option("--admin", help="Grant administration rights.")] = False,
    description: Annotated[str | None, typer.Option(help="What the token is for.")] = None,
    scope: Annotated[
        list[str] | None,
        typer.Option(help="A scope beyond reading, e.g. lineage:write (repeat for more)."),
    ] = None,
    attribute: Annotated[
        list[str] | None,
        typer.Option(help="NAME=VALUE read by row filters, e.g. region=EU (repeat for more)."),
    ] = None,
) -> None:
    """Create a token; only the token is printed, on stdout."""
    from steward.identity.tokens import create_token, parse_attribute

    names = [g.strip() for g in groups.split(",") if g.strip()]
    attributes = [parse_attribute(text) for text in attribute or ()]
    # Tokens are made while setting up (before the first `serve`), so this may create it.
    steward = steward_from_env(may_create=True)
    steward.upgrade()
    issued = create_token(
        steward.store,
        user=user,
        groups=names,
        is_admin=admin,
        description=description,
        scopes=[s.strip() for s in scope or ()],
        attributes=attributes,
    )
    print(issued.secret)


@app.command("list")
def list_() -> None:
    """List tokens (never their secrets)."""
    from steward.identity.tokens import list_tokens

    steward = steward_from_env()
    steward.upgrade()
    table = Table("id", "user", "groups", "admin", "scopes", "attributes", "created", "revoked")
    for t in list_tokens(steward.store):
        table.add_row(
            t.token_id,
            t.user,
            ",".join(t.groups),
            "yes" if t.is_admin else "",
            ",".join(t.scopes),
            ",".join(f"{name}={value}" for name, value in t.attributes),
            t.created_at,
            "yes" if t.revoked else "",
        )
    Console(width=200).print(table)


@app.command("revoke")
def revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (steward token list).")],
) -> None:
    """Revoke a token by id."""
    from steward.identity.tokens import revoke_token

    steward = steward_from_env()
    revoke_token(steward.store, token_id)
    Console(stderr=True).print(f"revoked {token_id}")
