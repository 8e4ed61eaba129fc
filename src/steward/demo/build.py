"""`build_demo`: a small but real lakehouse in a demo home, one idempotent step at a time.

Each step runs once per home: the home's mark (`demo.json`) records it as done, so a
second run changes nothing (the audit log, the policy versions, the tokens stay as they
were) and prints the same tokens again. The order is the one a platform team would
follow: data, catalog, lineage, policy, tokens, checks, queries, registry, repository.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from steward.demo.home import DemoHome, open_demo_home
from steward.demo.personas import DENIED_QUERY, PERSONAS
from steward.errors import InvalidInput, StewardError
from steward.identity.models import Principal

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from steward.app import Steward

ACTOR = Principal(user="steward-demo", is_admin=True)
REGISTRY_SUBJECT = "git.commits-value"
DESCRIPTIONS = {
    "lake.git.commits": ("One row per commit, as the Flink job ingests it.", "platform"),
    "lake.crm.users": ("One row per user of the shop.", "crm"),
    "lake.sales.orders": ("One row per order; new orders land on a branch first.", "sales"),
    "lake.marts.commits_by_country": ("dbt model: commits and authors per country.", "analytics"),
}
COMMITS_V1 = """{"type": "record", "name": "Commit", "namespace": "demo.git", "fields": [
  {"name": "sha", "type": "string"},
  {"name": "author_email", "type": "string"}]}"""
# Adds a field with no default: readers of the new schema cannot read the old records.
COMMITS_V2 = """{"type": "record", "name": "Commit", "namespace": "demo.git", "fields": [
  {"name": "sha", "type": "string"},
  {"name": "author_email", "type": "string"},
  {"name": "repo_id", "type": "long"}]}"""


@dataclass(frozen=True)
class DemoSummary:
    """What the demo home holds, as counts a user can check against the store."""

    tables: int
    rows: int
    lineage_events: int
    datasets: int
    jobs: int
    pii_columns: int
    policy_versions: int
    tokens: int
    audit_records: int


@dataclass
class Demo:
    """What `build_demo` made or found: tokens by persona, facts, and the counts."""

    home: DemoHome
    summary: DemoSummary
    built_now: list[str] = field(default_factory=list)

    @property
    def tokens(self) -> dict[str, str]:
        """Persona key -> its bearer token."""
        return self.home.tokens


def policy_text() -> str:
    """The demo's policy as shipped (also `examples/demo/policies.yaml`)."""
    return files("steward.demo").joinpath("files", "policies.yaml").read_text(encoding="utf-8")


def checks_text() -> str:
    """The demo's checks as shipped (also `examples/demo/checks.yaml`)."""
    return files("steward.demo").joinpath("files", "checks.yaml").read_text(encoding="utf-8")


def build_demo(
    steward: Steward,
    *,
    progress: Callable[[str], None] | None = None,
    dbt_ol: Path | None = None,
) -> Demo:
    """Build (or finish building) the demo in `steward`'s embedded home.

    The home must already carry the demo's mark (`open_demo_home`, called before the
    store is opened, as `steward demo` does): opening a store writes to the home, and a
    home with files but no mark is refused as someone's own installation. With `dbt_ol`
    (a `dbt-ol` command, `demo.dbt.find_dbt_ol`), the dbt model is built by a real
    `dbt-ol run` and its lineage is that run's; without, its lineage is recorded.
    """
    if not steward.settings.is_embedded:
        raise InvalidInput(
            "STEWARD_DATABASE_URL: the demo builds its own embedded home; unset it (and set"
            " STEWARD_HOME to a folder of its own) to run the demo"
        )
    home = open_demo_home(steward.settings.home)
    steward.upgrade()
    say = progress or (lambda _: None)
    built: list[str] = []
    steps: tuple[tuple[str, str, Callable[[Steward, DemoHome], None]], ...] = (
        ("lake", "Iceberg tables: commits, users, orders, a mart", _lake),
        ("catalog", "catalog sync, PII classified, owners and descriptions", _catalog),
        ("policy", "access policy for three personas", _policy),
        (
            "lineage",
            "lineage: Kafka -> Flink -> Iceberg -> dbt -> API -> dashboard"
            + (f" (dbt: a real `dbt-ol run`, {dbt_ol})" if dbt_ol else " (dbt: recorded)"),
            partial(_lineage, dbt_ol=dbt_ol),
        ),
        ("tokens", "a token for each persona", _tokens),
        ("quality", "quality checks; the planted defect blocks publishing", _quality),
        ("queries", "governed queries: masked, filtered, denied", _queries),
        ("registry", "schema registry: a breaking change refused", _registry),
        ("repo", "a git repository whose history leaks a token", _repo),
    )
    for key, what, step in steps:
        if home.done(key):
            continue
        say(what)
        step(steward, home)
        built.append(key)
    return Demo(home=home, summary=summarize(steward), built_now=built)


def _lake(steward: Steward, home: DemoHome) -> None:
    from steward.demo.lake import build_lake

    tables = build_lake(steward.settings.home)
    home.finish("lake", locations={t.name: t.location for t in tables})


def _catalog(steward: Steward, home: DemoHome) -> None:
    from steward.audit.log import record_change
    from steward.catalog.edits import DatasetEdit, OwnerSpec, edit_dataset
    from steward.catalog.pii import classify
    from steward.schema.catalog_sync import sync_source

    source = steward.source("lake")
    try:
        sync_source(steward.store, source, actor=ACTOR)
    finally:
        source.close()
    # A first sync classifies no column (it classifies changed columns of known tables);
    # classify every table, as `steward catalog classify` does.
    classify(steward.store, steward.source, None, principal=ACTOR, record=record_change)
    for name, (text, team) in DESCRIPTIONS.items():
        edit = DatasetEdit(
            description=text,
            addOwners=[OwnerSpec(name=team, kind="group", role="technical")],
        )
        edit_dataset(steward.store, name, edit, ACTOR, record=record_change)
    home.finish("catalog")


def _lineage(steward: Steward, home: DemoHome, *, dbt_ol: Path | None) -> None:
    from steward.demo.lineage import send_lineage

    sent = send_lineage(steward.store, home.path, home.facts["locations"], dbt_ol=dbt_ol)
    home.finish(
        "lineage",
        lineage_events=sent.result.received,
        dbt_from=sent.dbt_from,
        dbt_seconds=sent.dbt_seconds,
        dbt_producer=sent.dbt_producer,
        dbt_failure=sent.dbt_failure,
    )


def _policy(steward: Steward, home: DemoHome) -> None:
    from steward.policy.versions import apply

    version = apply(steward.store, {"policies.yaml": policy_text()}, actor=ACTOR)
    home.finish("policy", policy_version=version)


def _tokens(steward: Steward, home: DemoHome) -> None:
    from steward.identity.tokens import create_token

    for persona in PERSONAS:
        if persona.key in home.tokens:
            continue
        issued = create_token(
            steward.store,
            user=persona.user,
            groups=list(persona.groups),
            is_admin=persona.is_admin,
            description=f"steward demo: the {persona.title}",
        )
        home.tokens[persona.key] = issued.secret
        home.save()
    home.finish("tokens")


def _quality(steward: Steward, home: DemoHome) -> None:
    from steward.audit.log import record
    from steward.audit.models import Resource
    from steward.demo.lake import AUDIT_BRANCH
    from steward.quality.held import attach
    from steward.quality.history import record_results
    from steward.quality.load import parse_checks
    from steward.quality.publish import publish
    from steward.quality.run import run_dataset

    def audited(conn: Connection, names: list[str]) -> None:
        for name in names:
            record(conn, actor=ACTOR, action="quality.attach", resource=Resource(name, ()))

    text = checks_text()
    attach(steward.store, text, name="checks.yaml", author=ACTOR.user, record=audited)
    checks = parse_checks(text, name="checks.yaml")
    results = [r for dataset in checks.datasets for r in run_dataset(steward, dataset)]
    record_results(steward.store, results)
    failed = [r.name for r in results if r.status in ("fail", "error")]
    if failed:
        raise StewardError(f"demo: checks on main should pass, these did not: {failed}")
    orders = checks.dataset("lake.sales.orders")
    if orders is None:
        raise StewardError("demo: the shipped checks.yaml has no checks for lake.sales.orders")
    outcome = publish(steward, orders, AUDIT_BRANCH, actor=ACTOR)
    if outcome.moved:
        raise StewardError("demo: the planted defect should have blocked publishing")
    home.finish("quality", blocked_by=[r.name for r in outcome.blocking])


def _queries(steward: Steward, home: DemoHome) -> None:
    from steward.errors import Forbidden
    from steward.policy.query import run_query
    from steward.policy.wiring import access_for

    outcomes: dict[str, str] = {}
    analyst = PERSONAS[0]
    asked = [(p, p.query) for p in PERSONAS] + [(analyst, DENIED_QUERY)]
    for persona, sql in asked:
        principal = persona.principal
        try:
            result = run_query(
                steward,
                sql,
                principal,
                access_for=access_for(steward, principal),
                client="steward-demo",
            )
            outcomes[f"{persona.key}: {sql}"] = f"{len(result.rows)} rows"
        except Forbidden as exc:
            outcomes[f"{persona.key}: {sql}"] = f"denied: {exc}"
    home.finish("queries", queries=outcomes)


def _registry(steward: Steward, home: DemoHome) -> None:
    from steward.errors import RegistryError
    from steward.schema.registry import register
    from steward.schema.registry_models import SchemaInput

    register(steward.store, REGISTRY_SUBJECT, SchemaInput(COMMITS_V1), actor=ACTOR)
    try:
        register(steward.store, REGISTRY_SUBJECT, SchemaInput(COMMITS_V2), actor=ACTOR)
    except RegistryError as exc:
        home.finish("registry", registry_refused=exc.message)
        return
    raise StewardError("demo: the registry should have refused the breaking change")


def _repo(steward: Steward, home: DemoHome) -> None:
    from steward.demo.repo import build_repo

    repo = build_repo(steward.settings.home)
    home.finish("repo", repo=str(repo))


def summarize(steward: Steward) -> DemoSummary:
    """Counts of what the store holds, the same after a second run."""
    import sqlalchemy as sa

    from steward.demo.lake import TABLES
    from steward.store import schema as tables

    with steward.store.read() as conn:

        def count(table: sa.Table, *where: sa.ColumnElement[bool]) -> int:
            return int(
                conn.execute(
                    sa.select(sa.func.count()).select_from(table).where(*where)
                ).scalar_one()
            )

        counts = {
            "lineage_events": count(tables.lineage_events),
            "datasets": count(tables.datasets),
            "jobs": count(tables.jobs),
            "pii_columns": count(
                tables.catalog_annotations,
                tables.catalog_annotations.c.attribute == "tag",
                tables.catalog_annotations.c.value.like("pii.%"),
                tables.catalog_annotations.c.status != "rejected",
            ),
            "policy_versions": count(tables.policy_versions),
            "tokens": count(tables.api_tokens, tables.api_tokens.c.revoked_at.is_(None)),
            "audit_records": count(tables.audit_records),
        }
    rows = 0
    from steward.connectors.iceberg import lake_catalog

    catalog = lake_catalog(steward.settings.home)
    try:
        for name in TABLES:
            snapshot = catalog.load_table(name.removeprefix("lake.")).current_snapshot()
            if snapshot is not None and snapshot.summary is not None:
                rows += int(snapshot.summary["total-records"] or 0)
    finally:
        catalog.close()
    return DemoSummary(tables=len(TABLES), rows=rows, **counts)
