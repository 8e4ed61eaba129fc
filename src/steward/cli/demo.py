"""`steward demo`: build the demo lakehouse in `STEWARD_HOME`, print how to try it."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from steward.cli.context import steward_from_env

if TYPE_CHECKING:
    from steward.app import Steward
    from steward.demo.build import Demo

err = Console(stderr=True)


def things_to_try(home: str) -> list[tuple[str, str]]:
    """What to run once the demo is built: (what it shows, the command). A feature that
    adds a command worth a stranger's first minutes adds its line here."""
    return [
        (
            "lineage from the dashboard back to the Kafka topic",
            "steward lineage upstream 'job:superset:engineering_dashboard' --depth all",
        ),
        (
            "what the EU analyst sees of users, and why",
            "steward policy explain lake.crm.users --user eva --groups analysts-eu",
        ),
        (
            "a governed query: emails masked, EU rows only, audited",
            "steward query 'SELECT name, email, region FROM lake.crm.users'"
            " --user eva --groups analysts-eu",
        ),
        (
            "write-audit-publish refusing the planted defect",
            "steward publish lake.sales.orders --branch audit",
        ),
        (
            "was the mart built as the policy allows? (the dbt job's EU-only account"
            " read all regions)",
            "steward lineage check lake.marts.commits_by_country",
        ),
        (
            "the evidence for the mart, and its proof checked offline",
            "steward evidence lake.marts.commits_by_country -o evidence.json"
            " && steward audit public-key -o key.pem"
            " && steward audit verify --evidence evidence.json --public-key key.pem",
        ),
        (
            "the token leaked in a repository's history",
            f"steward scan {shlex.quote(home + '/demo-repo')} --history",
        ),
    ]


def _dbt_path(demo: Demo, *, recorded: bool) -> str:
    """Which path the dbt model's lineage took, as the home's mark keeps it."""
    facts = demo.home.facts
    if facts.get("dbt_from") == "dbt-ol":
        return (
            f"dbt model: built by a real `dbt-ol run` in {facts.get('dbt_seconds') or 0:.1f} s;"
            f" its lineage is the events dbt-ol wrote ({facts.get('dbt_producer')})"
        )
    if "lineage" not in demo.built_now:
        why = "stored when the demo was built; `steward demo --reset` builds it anew"
    elif facts.get("dbt_failure"):
        why = f"the real run failed: {facts['dbt_failure']}"
    elif recorded:
        why = "--recorded"
    else:
        why = "`dbt-ol` and `dbt` are not both on PATH"
    return f"dbt model: lineage from recorded dbt-ol events ({why})"


def demo_command(
    reset: Annotated[
        bool, typer.Option("--reset", help="Delete the demo's home first and build it anew.")
    ] = False,
    serve: Annotated[
        bool, typer.Option("--serve", help="Then run the server (as `steward serve`).")
    ] = False,
    host: Annotated[str | None, typer.Option(help="With --serve: address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="With --serve: port to listen on.")] = None,
    recorded: Annotated[
        bool,
        typer.Option(
            "--recorded",
            help="Store the recorded dbt-ol events even when dbt-ol is on PATH, instead of"
            " running the demo's dbt project.",
        ),
    ] = False,
) -> None:
    """Build a small governed lakehouse in STEWARD_HOME (idempotent): tables with personal
    data, lineage, policies and tokens for three personas, checks, audited queries.

    The dbt model is built by a real `dbt-ol run` when `dbt-ol` and `dbt` are on PATH
    (dbt-core, dbt-duckdb, openlineage-dbt); else, or with --recorded, its lineage is a
    recording of such a run."""
    import time

    from steward.config import load_settings
    from steward.demo.build import build_demo
    from steward.demo.dbt import find_dbt_ol
    from steward.demo.home import open_demo_home, wipe_demo_home
    from steward.errors import InvalidInput

    settings = load_settings()
    if not settings.is_embedded:
        raise InvalidInput(
            "STEWARD_DATABASE_URL: the demo builds its own embedded home; unset it (and set"
            " STEWARD_HOME to a folder of its own) to run the demo"
        )
    if reset:
        wipe_demo_home(settings.home)
        err.print(f"deleted the demo home {escape(str(settings.home))}")
    # Marked before the store is opened (which creates files in the home), so that a
    # home the demo did not make is refused while it is still untouched.
    open_demo_home(settings.home)
    started = time.perf_counter()
    steward = steward_from_env(may_create=True)
    err.print(f"building the demo in {escape(str(steward.settings.home))}")
    dbt_ol = None if recorded else find_dbt_ol()
    demo = build_demo(steward, progress=lambda what: err.print(f"  {escape(what)}"), dbt_ol=dbt_ol)
    _report(steward, demo, host, port, seconds=time.perf_counter() - started, recorded=recorded)
    if serve:
        from steward.cli.main import serve_steward

        serve_steward(steward, host=host, port=port, workers=1)
    else:
        steward.close()


def _report(
    steward: Steward,
    demo: Demo,
    host: str | None,
    port: int | None,
    *,
    seconds: float,
    recorded: bool,
) -> None:
    from steward.demo.personas import PERSONAS

    if not demo.built_now:
        err.print("  (already built: nothing changed)")
    s = demo.summary
    out = Console(soft_wrap=True)
    out.print(
        f"demo ready in {seconds:.1f} s: {s.tables} Iceberg tables ({s.rows} rows),"
        f" {s.lineage_events} lineage events over {s.datasets} datasets and {s.jobs} jobs,"
        f" {s.pii_columns} PII columns, {s.policy_versions} policy versions,"
        f" {s.audit_records} audit records",
        highlight=False,
    )
    out.print(_dbt_path(demo, recorded=recorded), highlight=False)
    url = f"http://{host or steward.settings.host}:{port or steward.settings.port}"
    out.print(f"web UI and API: {url}  (sign in with a token below)", highlight=False)
    for persona in PERSONAS:
        token = demo.tokens.get(persona.key, "")
        out.print(
            f"  {persona.title:<15} {persona.user} ({persona.groups_option}): {token}",
            highlight=False,
        )
    out.print("things to try:")
    home = str(steward.settings.home)
    for what, command in things_to_try(home):
        out.print(f"  # {escape(what)}\n  {escape(command)}", highlight=False)
