"""`steward policy`: validate, diff, apply, rollback, list, show, explain, export.

These commands administer the local installation directly; the author recorded with
an apply or a rollback is `--author`, else the operating-system user.
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from steward.cli.client import RemoteUrlOption, TokenOption, remote
from steward.cli.context import out, steward_from_env

app = typer.Typer(
    help="Access policies as code: grants, masks, row filters, denies.", no_args_is_help=True
)
err = Console(stderr=True)

PolicyPath = Annotated[Path, typer.Argument(help="A policy YAML file, or a folder of them.")]
Author = Annotated[
    str | None, typer.Option("--author", help="Who makes this change (default: your OS user).")
]
NoCatalog = Annotated[
    bool,
    typer.Option("--no-catalog", help="Do not check tables and columns against the catalog."),
]


def _local_admin(author: str | None) -> Any:
    from steward.identity.models import Principal

    return Principal(user=author or f"local:{getpass.getuser()}", is_admin=True)


def _steward(*, may_create: bool = False) -> Any:
    steward = steward_from_env(may_create=may_create)
    steward.upgrade()
    return steward


EngineName = Annotated[
    str | None,
    typer.Option(
        "--engine",
        help="Check that masks and row filters run on this engine: duckdb or spark"
        " (default: the configured engine).",
    ),
]


@app.command("validate")
def validate_command(
    path: PolicyPath, no_catalog: NoCatalog = False, engine: EngineName = None
) -> None:
    """Check a policy: its shape, roles, SQL, the tables and columns it names, and that
    the engine can run its masks and row filters."""
    from steward.config import load_settings
    from steward.errors import InvalidInput
    from steward.policy.drift import validation_warnings
    from steward.policy.load import load, read_sources
    from steward.policy.statement import AllowList
    from steward.policy.versions import catalog_columns

    chosen = engine or load_settings().engine
    if chosen not in ("duckdb", "spark"):
        raise InvalidInput(f"--engine: {chosen!r} is not an engine; choose duckdb or spark")
    allowed = AllowList.named(chosen)
    sources = read_sources(path)
    warnings: list[str] = []
    if no_catalog:
        policy = load(sources, engine=allowed).policy
    else:
        steward = _steward()
        with steward.store.read() as conn:
            policy = load(sources, columns_of=catalog_columns(conn), engine=allowed).policy
        warnings = validation_warnings(steward.store, policy)
    for warning in warnings:
        err.print(f"warning: {warning}")
    err.print(
        f"valid: {len(policy.roles)} roles, {len(policy.grants)} grants, "
        f"{len(policy.masks)} masks, {len(policy.row_filters)} row filters, "
        f"{len(policy.deny)} denies"
    )


@app.command("diff")
def diff_command(path: PolicyPath) -> None:
    """What applying a policy would change, against the active version."""
    from steward.policy.load import load, read_sources
    from steward.policy.versions import active, diff, get

    steward = _steward()
    sources = read_sources(path)
    new = load(sources).policy
    current = active(steward.store)
    old_sources = get(steward.store, current[0]).sources if current else {}
    lines = diff(current[1] if current else None, new, old_sources=old_sources, new_sources=sources)
    for line in lines:
        print(line)
    if not lines:
        err.print("no change")


@app.command("apply")
def apply_command(path: PolicyPath, author: Author = None, no_catalog: NoCatalog = False) -> None:
    """Validate a policy and make it the active version (audited)."""
    from steward.policy.load import load, read_sources
    from steward.policy.versions import active, apply, diff

    steward = _steward(may_create=True)
    sources = read_sources(path)
    current = active(steward.store)
    version = apply(
        steward.store, sources, actor=_local_admin(author), check_catalog=not no_catalog
    )
    for line in diff(current[1] if current else None, load(sources).policy):
        err.print(escape(line), highlight=False)
    err.print(f"applied policy version {version}")


@app.command("rollback")
def rollback_command(
    version: Annotated[int, typer.Argument(help="The version to restore.")], author: Author = None
) -> None:
    """Make an earlier version active again (as a new version with the same files)."""
    from steward.policy.versions import rollback

    new = rollback(_steward().store, version, actor=_local_admin(author))
    err.print(f"restored version {version} as version {new}")


@app.command("list")
def list_command() -> None:
    """Every applied version, newest (the active one) first."""
    from steward.policy.versions import history

    table = Table("version", "applied", "by", "action", "files", "sha256")
    for item in history(_steward().store):
        action = item.action + (f" to {item.restored_from}" if item.restored_from else "")
        table.add_row(
            str(item.version),
            item.created_at.isoformat(timespec="seconds"),
            escape(item.author or ""),
            action,
            escape(", ".join(sorted(item.sources))),
            item.sha256[:12],
        )
    out().print(table)


@app.command("show")
def show_command(
    version: Annotated[int | None, typer.Argument(help="Default: the active version.")] = None,
    url: RemoteUrlOption = None,
    token: TokenOption = None,
) -> None:
    """Print a version's files exactly as applied."""
    from steward.errors import InvalidInput, NotFound
    from steward.policy.versions import active, get

    client = remote(url, token)
    if client is not None:
        if version is not None:
            raise InvalidInput(
                "version: a server shows its active version only (GET /api/v1/policy);"
                " drop the version, or run this where the store is"
            )
        sources: dict[str, str] = client.request("GET", "/api/v1/policy")["sources"]
    else:
        steward = _steward()
        if version is None:
            current = active(steward.store)
            if current is None:
                raise NotFound("no policy has been applied yet")
            version = current[0]
        sources = get(steward.store, version).sources
    for name, text in sorted(sources.items()):
        if len(sources) > 1:
            print(f"# --- {name}")
        print(text, end="" if text.endswith("\n") else "\n")


@app.command("explain")
def explain_command(
    table: Annotated[str, typer.Argument(help="A catalog table, e.g. lake.crm.customers.")],
    user: Annotated[str, typer.Option("--user", help="The user name.")],
    groups: Annotated[
        list[str] | None, typer.Option("--groups", help="The user's groups (comma-separated).")
    ] = None,
    attribute: Annotated[
        list[str] | None, typer.Option("--attribute", help="A user attribute, name=value.")
    ] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="Explain this policy instead of the active one.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    url: RemoteUrlOption = None,
    token: TokenOption = None,
) -> None:
    """What one principal sees of a table, and which rule decided each column."""
    from steward.errors import InvalidInput

    group_list = [g.strip() for item in groups or [] for g in item.split(",") if g.strip()]
    client = remote(url, token)
    if client is not None:
        if attribute or file is not None:
            raise InvalidInput(
                "--attribute/--file: a server explains its active policy for a user and"
                " groups only (GET /api/v1/policy/effective); drop them, or run this where"
                " the store is"
            )
        params: dict[str, Any] = {"table": table, "user": user}
        if group_list:
            params["groups"] = ",".join(group_list)
        shown = client.request("GET", "/api/v1/policy/effective", params=params)
    else:
        shown = _local_explanation(table, user, group_list, attribute, file)
    if as_json:
        print(json.dumps(shown, indent=2))
        return
    roles = ", ".join(shown["roles"]) or "none"
    verdict = "may select" if shown["allowed"] else "may NOT select"
    reason = f": {escape(shown['reason'])}" if shown["reason"] else ""
    out().print(
        f"{escape(user)} (roles: {escape(roles)}) {verdict} {escape(table)}"
        f" — {shown['rule']}{reason}",
        highlight=False,
    )
    if shown["columns"]:
        grid = Table("column", "verdict", "mask", "rule")
        for column in shown["columns"]:
            grid.add_row(
                escape(column["name"]), column["verdict"], column["mask"] or "", column["rule"]
            )
        out().print(grid)
    for row_filter in shown["rowFilters"]:
        out().print(f"row filter ({row_filter['rule']}): {escape(row_filter['where'])}")


def _local_explanation(
    table: str,
    user: str,
    group_list: list[str],
    attribute: list[str] | None,
    file: Path | None,
) -> dict[str, Any]:
    """`access_json` of the decision for `user` on `table`, from the local store; drift
    warnings on stderr."""
    from steward.errors import InvalidInput
    from steward.policy.drift import active_drift
    from steward.policy.effective import access_json, effective_access
    from steward.policy.load import load, read_sources
    from steward.policy.models import Policy

    steward = _steward()
    attributes: dict[str, str] = {}
    for item in attribute or []:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise InvalidInput(f"--attribute: {item!r} is not name=value")
        attributes[name] = value
    chosen: tuple[int | None, Policy] | None = None
    if file is not None:
        chosen = (None, load(read_sources(file)).policy)
    caller, access = effective_access(
        steward.store, user, group_list, table, attributes=attributes, policy=chosen
    )
    if chosen is None:
        from steward.policy.versions import active

        current = active(steward.store)
        policy = current[1] if current else Policy()
    else:
        policy = chosen[1]
    shown: dict[str, Any] = access_json(caller, access, policy)
    # A column in clear only because a rule still names its old name is said so.
    for drift in active_drift(steward.store, policy if file is not None else None):
        if drift.table == table:
            err.print(f"warning: {escape(drift.message)}", highlight=False)
    return shown


@app.command("export")
def export_command(
    format: Annotated[str, typer.Option("--format", help="Only `trino` for now.")] = "trino",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write here.")] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Export even when the catalog moved away from the policy (a rule names a"
            " column that is gone, a new PII-looking column is in clear).",
        ),
    ] = False,
) -> None:
    """The active policy as Trino file-based access control rules, for the catalog's tables.

    Refused (exit 1) when the catalog moved away from the policy since it was applied,
    unless `--force`: the rules would not protect what the policy's author meant.
    """
    from steward.errors import InvalidInput, NotFound
    from steward.policy.drift import PolicyDrifted, active_drift
    from steward.policy.effective import catalog_tables
    from steward.policy.trino import export_trino
    from steward.policy.versions import active

    if format != "trino":
        raise InvalidInput(f"--format: {format!r} is not supported (only 'trino')")
    steward = _steward()
    current = active(steward.store)
    if current is None:
        raise NotFound("no policy has been applied yet")
    drift = active_drift(steward.store)
    for item in drift:
        label = "warning" if force else "error"
        err.print(f"{label}: {escape(item.message)}", highlight=False)
    if drift and not force:
        raise PolicyDrifted(len(drift))
    rules, unsupported = export_trino(current[1], catalog_tables(steward.store))
    text = json.dumps(rules, indent=2) + "\n"
    if output is None:
        print(text, end="")
    else:
        output.write_text(text, encoding="utf-8")
        err.print(f"wrote {len(rules['tables'])} table rules to {escape(str(output))}")
    for line in unsupported:
        err.print(f"[yellow]not expressible in Trino:[/yellow] {escape(line)}", highlight=False)
