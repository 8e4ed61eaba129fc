"""The active policy applied to one caller and one catalog table: what explain shows.

`policy explain`, `GET /api/v1/policy/effective` and the query path all call
`effective_access`, so what is shown is what is enforced.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from steward.errors import NotFound
from steward.policy.access import Caller, TableAccess
from steward.policy.decide import HASH_KEY_PARAMETER, caller_for, decide, may_describe
from steward.policy.models import Policy
from steward.policy.versions import active, catalog_columns
from steward.store import Store


def table_columns(store: Store, table: str) -> list[tuple[str, frozenset[str]]]:
    """A catalog table's columns with their effective tags; NotFound if not in the catalog."""
    with store.read() as conn:
        found = catalog_columns(conn)(table)
    if found is None:
        raise NotFound(f"table: {table!r} is not in the catalog")
    return list(found)


def effective_access(
    store: Store,
    user: str,
    groups: Iterable[str],
    table: str,
    *,
    attributes: Mapping[str, str] | None = None,
    policy: tuple[int | None, Policy] | None = None,
) -> tuple[Caller, TableAccess]:
    """The caller and what they see of `table` under the active (or the given) policy.

    With no policy applied yet, nothing is granted: every table is refused.
    """
    columns = table_columns(store, table)
    chosen = policy if policy is not None else active(store)
    version, rules = chosen if chosen is not None else (None, Policy())
    caller = caller_for(rules, user, groups, attributes)
    return caller, decide(rules, caller, table, columns, version=version)


def access_json(caller: Caller, access: TableAccess, policy: Policy) -> dict[str, Any]:
    """A decision as the API and `explain --json` show it; the `hash` key is not shown."""

    def public(sql: str | None) -> str | None:
        if sql is None:
            return sql
        sql = sql.replace(f"${HASH_KEY_PARAMETER}", "'<policy key>'")
        return sql.replace(policy.hash_key, "<policy key>") if policy.hash_key else sql

    return {
        "user": caller.user,
        "groups": sorted(caller.groups),
        "roles": sorted(caller.roles),
        "table": access.table,
        "allowed": access.allowed,
        "describe": may_describe(policy, caller, access.table),
        "rule": access.rule,
        "reason": access.reason,
        "policyVersion": access.policy_version,
        "columns": [
            {
                "name": c.name,
                "verdict": c.verdict,
                "rule": c.rule,
                "mask": c.mask,
                "expression": public(c.expression),
            }
            for c in access.columns
        ],
        "rowFilters": [
            {"where": where, "rule": rule}
            for where, rule in zip(access.row_filters, access.row_filter_rules, strict=True)
        ],
    }


def catalog_tables(store: Store) -> dict[str, list[tuple[str, frozenset[str]]]]:
    """Every live catalog table with its columns and their effective tags."""
    import sqlalchemy as sa

    from steward.store.schema import catalog_entries

    with store.read() as conn:
        names = conn.execute(
            sa.select(catalog_entries.c.name)
            .where(catalog_entries.c.deleted_at.is_(None))
            .order_by(catalog_entries.c.name)
        ).scalars()
        columns_of = catalog_columns(conn)
        return {name: list(columns_of(name) or []) for name in names}
