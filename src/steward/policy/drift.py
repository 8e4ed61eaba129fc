"""Where the catalog moved away from a policy: columns a rule names that are gone, and
new columns that look like PII and that some role would see in clear.

A policy names columns by name (`ssn`, `lake.crm.customers.ssn`) or by tag
(`tag:pii.ssn`). Tags follow a column through a rename (they bind to its Iceberg field
id); names do not. So after a rename, a rule naming the old name protects nothing,
and a new or renamed column holding PII is in clear until a rule or a tag covers it.

"Gone" and "new" are measured against the columns each table had when the active
policy was applied (`columns_at`): applying a policy again is the acknowledgement.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.errors import StewardError
from steward.policy.access import Caller
from steward.policy.decide import columns_named, decide, matches
from steward.policy.load import CALLER_NAMES
from steward.policy.models import Policy
from steward.store import Store
from steward.store.schema import (
    catalog_entries,
    catalog_entry_sources,
    dataset_fields,
    dataset_versions,
)

Columns = Sequence[tuple[str, frozenset[str]]]
DriftKind = Literal["gone", "pii_in_clear"]


class PolicyDrifted(StewardError):
    """The catalog moved away from the active policy; exporting it would not protect it."""

    http_status = 409

    def __init__(self, count: int) -> None:
        super().__init__(
            f"the catalog moved away from the active policy ({count} problem(s) above): fix"
            " the policy and apply it, or export with --force"
        )


@dataclass(frozen=True)
class Drift:
    """One place where a policy no longer says what its author meant."""

    kind: DriftKind
    rule: str  # e.g. `masks[1]`; '' for a column no rule covers
    table: str
    column: str
    message: str


def policy_drift(
    policy: Policy,
    *,
    tables: Mapping[str, Columns],
    earlier: Mapping[str, frozenset[str]] | None,
) -> list[Drift]:
    """The rules naming columns that are gone, and new PII-looking columns in clear.

    Args:
        tables: every live catalog table -> its columns with their effective tags.
        earlier: each table's column names (lower case) when the active policy was
            applied; None when no policy was applied, so nothing counts as gone or new
            but a qualified column name the table lacks.
    """
    found = _gone(policy, tables, earlier or {})
    if earlier is not None:
        found += _pii_in_clear(policy, tables, earlier)
    return found


def _gone(
    policy: Policy, tables: Mapping[str, Columns], earlier: Mapping[str, frozenset[str]]
) -> list[Drift]:
    found: list[Drift] = []
    named = [
        (f"masks[{i}]", pattern) for i, mask in enumerate(policy.masks) for pattern in mask.columns
    ]
    named += [
        (f"deny[{i}]", pattern) for i, deny in enumerate(policy.deny) for pattern in deny.columns
    ]
    for rule, pattern in named:
        if pattern.startswith("tag:"):
            continue
        table_pattern, _, column = pattern.rpartition(".")
        candidates = [t for t in tables if not table_pattern or matches(table_pattern, t)]
        now = [
            t
            for t in candidates
            if any(fnmatch.fnmatchcase(c.lower(), column.lower()) for c, _ in tables[t])
        ]
        if now and not table_pattern:
            continue  # a bare name some table still has
        for table in candidates:
            if table in now:
                continue
            had = any(fnmatch.fnmatchcase(c, column.lower()) for c in earlier.get(table, ()))
            exact = table_pattern and "*" not in pattern
            if had or exact:
                found.append(
                    Drift(
                        "gone",
                        rule,
                        table,
                        column,
                        f"{rule} names column {column}, which {table} no longer has"
                        f" (columns: {', '.join(c for c, _ in tables[table])}); a renamed"
                        " column is not covered by the old name",
                    )
                )
    for i, row_filter in enumerate(policy.row_filters):
        wanted = columns_named(row_filter.where) - CALLER_NAMES
        for table in tables:
            if not matches(row_filter.table, table):
                continue
            have = {c.lower() for c, _ in tables[table]}
            for column in sorted(wanted - have):
                if column in earlier.get(table, ()):
                    found.append(
                        Drift(
                            "gone",
                            f"row_filters[{i}]",
                            table,
                            column,
                            f"row_filters[{i}] names column {column}, which {table} no longer"
                            f" has: {table} is refused to {', '.join(row_filter.roles)}",
                        )
                    )
    return found


def _pii_in_clear(
    policy: Policy, tables: Mapping[str, Columns], earlier: Mapping[str, frozenset[str]]
) -> list[Drift]:
    from steward.catalog.pii_names import name_hints

    found: list[Drift] = []
    for table, columns in sorted(tables.items()):
        before = earlier.get(table)
        if before is None:
            continue  # a table new since the policy: its grants decided to show it
        suspect = {
            name: sorted({t for t in tags if t.startswith("pii.")} | name_hints(name))
            for name, tags in columns
            if name.lower() not in before
        }
        suspect = {name: tags for name, tags in suspect.items() if tags}
        if not suspect:
            continue
        clear_to: dict[str, list[str]] = {name: [] for name in suspect}
        for role in policy.roles:
            access = decide(
                policy, Caller(user="", roles=frozenset({role})), table, columns, version=None
            )
            if not access.allowed:
                continue
            for column in access.columns:
                if column.name in clear_to and column.verdict == "clear":
                    clear_to[column.name].append(role)
        for name, roles in clear_to.items():
            if roles:
                found.append(
                    Drift(
                        "pii_in_clear",
                        "",
                        table,
                        name,
                        f"{table}.{name} is new since the policy was applied and looks like"
                        f" PII ({', '.join(suspect[name])}), yet roles {', '.join(roles)} see it"
                        " in clear: mask or deny it",
                    )
                )
    return found


def columns_at(conn: Connection, names: Sequence[str], when: datetime) -> dict[str, frozenset[str]]:
    """Each catalog table's column names (lower case) in its schema version as of `when`.

    Tables with no schema version recorded by then are left out.
    """
    latest = (
        sa.select(
            catalog_entries.c.name,
            sa.func.max(dataset_versions.c.id).label("version_id"),
        )
        .join(dataset_versions, dataset_versions.c.dataset_id == catalog_entries.c.dataset_id)
        .where(catalog_entries.c.name.in_(list(names)), dataset_versions.c.created_at <= when)
        .group_by(catalog_entries.c.name)
        .subquery()
    )
    rows = conn.execute(
        sa.select(latest.c.name, dataset_fields.c.name.label("column")).join(
            dataset_fields,
            sa.and_(  # top-level columns; nested fields are their parts
                dataset_fields.c.version_id == latest.c.version_id,
                dataset_fields.c.parent_ordinal.is_(None),
            ),
            isouter=True,
        )
    )
    found: dict[str, set[str]] = {}
    for row in rows:
        columns = found.setdefault(row.name, set())
        if row.column is not None:
            columns.add(str(row.column).lower())
    return {name: frozenset(columns) for name, columns in found.items()}


def active_drift(store: Store, policy: Policy | None = None) -> list[Drift]:
    """`policy_drift` of `policy` (default: the active one) against the catalog now.

    Gone and new are measured from when the active policy was applied; with no active
    policy, only qualified column names a table lacks are reported.
    """
    from steward.policy.effective import catalog_tables
    from steward.policy.versions import active, get

    current = active(store)
    if policy is None:
        if current is None:
            return []
        policy = current[1]
    tables = catalog_tables(store)
    earlier = None
    if current is not None:
        applied = get(store, current[0]).created_at
        with store.read() as conn:
            earlier = columns_at(conn, list(tables), applied)
    return policy_drift(policy, tables=tables, earlier=earlier)


def validation_warnings(store: Store, policy: Policy) -> list[str]:
    """What `policy validate` warns of for `policy` against the live catalog.

    The tables a row filter will refuse (it names a column they lack), then the rest of
    the policy's drift: masks and denies naming gone columns, PII-looking columns in clear.
    """
    from steward.policy.load import filter_denials
    from steward.policy.versions import catalog_columns

    with store.read() as conn:
        names = conn.execute(
            sa.select(catalog_entries.c.name).where(catalog_entries.c.deleted_at.is_(None))
        ).scalars()
        warnings = filter_denials(policy, columns_of=catalog_columns(conn), names=sorted(names))
        warnings += other_source_names(policy, _names_shown_as(conn))
    # Row filters naming a gone column are among the filter denials already.
    warnings += [
        d.message for d in active_drift(store, policy) if not d.rule.startswith("row_filters")
    ]
    return warnings


def other_source_names(policy: Policy, shown_as: Mapping[str, str]) -> list[str]:
    """Rules naming a table by a name the catalog does not show it under.

    A table two sources state (a dbt model and the warehouse table it builds) is shown
    under one catalog name, its authority's; the policy matches that name only, so a rule
    written with the other source's name applies to nothing. `shown_as` maps each such
    other name (lower case) to the name shown.
    """
    found = []
    for rule, pattern in _table_patterns(policy):
        shown = shown_as.get(pattern.lower())
        if shown is not None:
            found.append(
                f"{rule} names {pattern}, which the catalog shows as {shown} (two sources"
                f" state it): the rule applies to nothing until it names {shown}"
            )
    return found


def _table_patterns(policy: Policy) -> Iterator[tuple[str, str]]:
    """(rule, table name) for each table a rule names literally, without wildcards."""
    named: list[tuple[str, str]] = []
    for i, grant in enumerate(policy.grants):
        named += [(f"grants[{i}]", t) for t in (*grant.select, *grant.describe)]
    for i, mask in enumerate(policy.masks):
        named += [(f"masks[{i}]", c.rsplit(".", 1)[0]) for c in mask.columns if "." in c]
    for i, row_filter in enumerate(policy.row_filters):
        named.append((f"row_filters[{i}]", row_filter.table))
    for i, deny in enumerate(policy.deny):
        named += [(f"deny[{i}]", t) for t in deny.tables]
        named += [(f"deny[{i}]", c.rsplit(".", 1)[0]) for c in deny.columns if "." in c]
    for rule, name in dict.fromkeys(named):
        if "*" not in name and not name.startswith("tag:"):
            yield rule, name


def _names_shown_as(conn: Connection) -> dict[str, str]:
    """Each live source name of a table that the catalog shows under another name."""
    e, s = catalog_entries.c, catalog_entry_sources.c
    rows = conn.execute(
        sa.select(s.name, e.name.label("shown"))
        .join(catalog_entries, e.dataset_id == s.dataset_id)
        .where(s.deleted_at.is_(None), e.deleted_at.is_(None), s.name != e.name)
    )
    return {row.name.lower(): row.shown for row in rows}
