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
) -> None:
    """Create a token; only the token is printed, on stdout."""
    from steward.identity.tokens import create_token

    steward = steward_from_env()
    steward.upgrade()
    names = [g.strip() for g in groups.split(",") if g.strip()]
    issued = create_token(
        steward.store, user=user, groups=names, is_admin=admin, description=description
    )
    print(issued.secret)


@app.command("list")
def list_() -> None:
    """List tokens (never their secrets)."""
    from steward.identity.tokens import list_tokens

    steward = steward_from_env()
    steward.upgrade()
    table = Table("id", "user", "groups", "admin", "created", "revoked")
    for t in list_tokens(steward.store):
        table.add_row(
            str(t["token_id"]),
            str(t["user"]),
            ",".join(t["groups"]),  # type: ignore[arg-type]
            "yes" if t["admin"] else "",
            str(t["created_at"]),
            "yes" if t["revoked"] else "",
        )
    Console().print(table)


@app.command("revoke")
def revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (steward token list).")],
) -> None:
    """Revoke a token by id."""
    from steward.identity.tokens import revoke_token

    steward = steward_from_env()
    revoke_token(steward.store, token_id)
    Console(stderr=True).print(f"revoked {token_id}")
