"""`steward`: serve, db, token and lineage; errors become exit codes here and only here."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from steward.cli import (
    audit,
    catalog,
    demo,
    evidence,
    export,
    lineage,
    policy,
    quality,
    query,
    scan,
    schema,
    token,
)
from steward.cli.context import steward_from_env
from steward.errors import InvalidInput, StewardError

if TYPE_CHECKING:
    from fastapi import FastAPI

    from steward.app import Steward

app = typer.Typer(
    name="steward",
    help="Data governance and lineage for your lakehouse.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db = typer.Typer(help="The metadata store.", no_args_is_help=True)
app.add_typer(db, name="db")
app.add_typer(token.app, name="token")
app.add_typer(lineage.app, name="lineage")
app.add_typer(catalog.app, name="catalog")
app.add_typer(export.app, name="export")
app.command("search")(catalog.search_command)
app.add_typer(audit.app, name="audit")
app.add_typer(policy.app, name="policy")
app.add_typer(quality.app, name="quality")
app.add_typer(schema.app, name="schema")
app.command("publish")(quality.publish_command)
app.command("query")(query.query_command)
app.command("scan")(scan.scan_command)
app.command("evidence")(evidence.evidence_command)
app.command("demo")(demo.demo_command)
err = Console(stderr=True)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="API processes to run; above 1 needs PostgreSQL (docs/postgresql.md).",
        ),
    ] = 1,
    normaliser: Annotated[
        bool,
        typer.Option(
            help="Run the lineage normaliser in a process beside the API (docs/lineage.md);"
            " --no-normaliser builds the graph inside each ingest request instead.",
        ),
    ] = True,
) -> None:
    """Run the API server: migrates the store and, on first start, prints an admin token."""
    import os

    if normaliser:
        # Every API process (uvicorn's workers read the environment) leaves the graph to
        # the normaliser process.
        os.environ["STEWARD_LINEAGE_NORMALISER"] = "worker"
    serve_steward(steward_from_env(), host=host, port=port, workers=workers, normaliser=normaliser)


def serve_steward(
    steward: Steward, *, host: str | None, port: int | None, workers: int, normaliser: bool = True
) -> None:
    """Serve `steward`'s API and web UI until interrupted (`steward serve`, `demo --serve`).

    With `normaliser`, `steward` must have been built with `lineage_normaliser = "worker"`
    (as `serve` does), or the API would build the graph inline beside the worker.
    """
    import uvicorn

    from steward.api import create_app
    from steward.api.server import create_app_from_env, tune_gc_for_serving
    from steward.cli.normaliser_process import NormaliserProcess
    from steward.identity.tokens import first_admin_token

    if normaliser and steward.settings.lineage_normaliser != "worker":
        from steward.app import Steward

        settings = steward.settings.model_copy(update={"lineage_normaliser": "worker"})
        steward.close()
        steward = Steward(settings)
    if workers > 1 and steward.store.dialect != "postgresql":
        raise InvalidInput(
            f"--workers: {workers} processes need the store on PostgreSQL (set"
            f" STEWARD_DATABASE_URL); this one is {steward.store.dialect}, whose single"
            " writer more processes would only queue on"
        )
    steward.upgrade()
    issued = first_admin_token(steward.store)
    if issued is not None:
        err.print(
            "[bold]First start: an admin token was created. It is shown this once;"
            " keep it somewhere safe.[/bold]"
        )
        print(issued.secret, flush=True)
    host = host or steward.settings.host
    port = port or steward.settings.port
    worker = NormaliserProcess() if normaliser else None
    if worker is not None:
        worker.start()
    err.print(
        f"Steward listening on http://{host}:{port} (store: {steward.store.dialect},"
        f" workers: {workers}, lineage normaliser: "
        f"{f'process {worker.pid}' if worker else 'inline'})"
    )
    if workers == 1:
        tune_gc_for_serving()
        app: FastAPI | str = create_app(steward)
    else:
        # Each worker process imports the factory and builds its own `Steward` (and
        # connection pool) from the same environment; migrating and the first token
        # happened above, once.
        steward.close()
        app = f"{create_app_from_env.__module__}:{create_app_from_env.__name__}"
    try:
        uvicorn.run(
            app,
            host=host,
            port=port,
            workers=workers,
            factory=workers > 1,
            log_level="warning",
            access_log=False,
        )
    finally:
        if worker is not None:
            worker.stop()


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply the store's migrations."""
    steward = steward_from_env()
    steward.upgrade()
    err.print(f"store at revision {steward.store.current_revision()}")


@db.command("current")
def db_current() -> None:
    """Print the store's migration revision."""
    print(steward_from_env().store.current_revision() or "(empty)")


def main() -> None:
    """Entry point: run the app, mapping Steward's errors to one message and one exit code."""
    try:
        app()
    except StewardError as exc:
        err.print(f"[red]error:[/red] {escape(exc.message)}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
