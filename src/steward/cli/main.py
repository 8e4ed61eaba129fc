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
            help="API processes to run, on SQLite or PostgreSQL (docs/performance.md).",
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
    serve_steward(
        steward_from_env(may_create=True),
        host=host,
        port=port,
        workers=workers,
        normaliser=normaliser,
    )


def serve_steward(
    steward: Steward, *, host: str | None, port: int | None, workers: int, normaliser: bool = True
) -> None:
    """Serve `steward`'s API and web UI until interrupted (`steward serve`, `demo --serve`).

    With `normaliser`, a normaliser process builds the lineage graph beside the API, which
    then leaves it to that process (`lineage_normaliser = "worker"`).
    """
    import uvicorn

    from steward.api import create_app
    from steward.api.request_log import configure_logging
    from steward.api.server import create_app_from_env, tune_gc_for_serving
    from steward.cli.normaliser_process import NormaliserProcess
    from steward.identity.tokens import first_admin_token
    from steward.store.database import describe_url

    if normaliser and steward.settings.lineage_normaliser != "worker":
        from steward.app import Steward

        settings = steward.settings.model_copy(update={"lineage_normaliser": "worker"})
        steward.close()
        steward = Steward(settings)
    if workers > 1 and steward.store.dialect == "sqlite" and steward.store.file is None:
        raise InvalidInput(
            f"--workers: {workers} processes cannot share an in-memory store (or one named by"
            " a URI); use a file (STEWARD_HOME) or PostgreSQL (STEWARD_DATABASE_URL)"
        )
    host = host or steward.settings.host
    port = port or steward.settings.port
    refuse_taken_port(host, port)
    steward.upgrade()
    issued = first_admin_token(steward.store)
    if issued is not None:
        err.print(
            "[bold]First start: an admin token was created. It is shown this once;"
            " keep it somewhere safe.[/bold]"
        )
        print(issued.secret, flush=True)
    configure_logging(steward.settings)
    worker = NormaliserProcess() if normaliser else None
    if worker is not None:
        worker.start()
    err.print(
        f"Steward listening on http://{host}:{port} (store:"
        f" {describe_url(steward.settings.sqlalchemy_url)}, workers: {workers}, lineage"
        f" normaliser: {f'process {worker.pid}' if worker else 'inline'})",
        highlight=False,
        markup=False,
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


def refuse_taken_port(host: str, port: int) -> None:
    """`InvalidInput` (exit 2) naming the address when nothing new can listen on it, so
    `serve` never claims to listen where another process already does."""
    import errno
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise InvalidInput(f"--host: cannot listen on {host!r}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # As uvicorn binds: an address in TIME_WAIT is free, a listening one is not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise InvalidInput(
                    f"--port: {host}:{port} is already in use (another Steward or another"
                    " program listens there); stop it, or choose a free port with --port or"
                    " STEWARD_PORT"
                ) from None
            raise InvalidInput(
                f"--host/--port: cannot listen on {host}:{port}: {exc.strerror}"
            ) from None


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply the store's migrations (creating the store when there is none)."""
    steward = steward_from_env(may_create=True)
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
