"""What one caller sees of the metadata under the active policy: the `lineage.scope.Sight`.

The same decisions as the query path (`policy.decide`), made once per request:
- a dataset is described (page, search hit, graph node details) only to a caller the
  policy lets `describe` or `select` it. A dataset outside the catalog is decided by its
  catalog name when it is another name of a catalog table (`lineage.aliases`: Spark's
  storage location, dbt-ol's warehouse relation), as the governance check judges it;
  else it has no name the policy can grant, so only admins see its details (but a
  caller's own query consumer is theirs). A name that stands for several catalog tables
  is hidden too: deny is the default;
- of a described dataset, the columns denied to the caller are left out;
- other users' query lineage (`steward://query`, `steward://consumer`) is left out.
Admins administer Steward and see all metadata: `sight_for` gives them None. With no
policy applied, nothing is granted.
"""

from __future__ import annotations

from collections.abc import Collection

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.identity.models import Principal
from steward.lineage.aliases import catalog_entries_of
from steward.lineage.scope import Hidden, others_query_lineage, own_consumer
from steward.policy.access import Caller, TableAccess
from steward.policy.decide import caller_for, decide, may_describe, selects_column
from steward.policy.models import Policy
from steward.policy.versions import active
from steward.store import Store
from steward.store.schema import catalog_entries

Columns = list[tuple[str, frozenset[str]]]


class PolicySight:
    """One non-admin caller's view of the metadata; decisions are kept for the request."""

    def __init__(self, policy: Policy, version: int | None, caller: Caller) -> None:
        self.policy = policy
        self.version = version
        self.caller = caller
        self.user = caller.user
        self._hidden: Hidden | None = None
        self._describable: frozenset[str] | None = None
        self._access: dict[str, TableAccess] = {}
        self._withheld: dict[int, frozenset[str] | None] = {}

    def hidden(self, conn: Connection) -> Hidden:
        """Other users' query jobs and consumer datasets."""
        if self._hidden is None:
            self._hidden = others_query_lineage(conn, self.user)
        return self._hidden

    def describable(self, conn: Connection) -> frozenset[str]:
        """Catalog names (live or deleted) the caller may describe."""
        if self._describable is None:
            names = conn.execute(sa.select(catalog_entries.c.name)).scalars()
            self._describable = frozenset(n for n in names if self.may_describe(n))
        return self._describable

    def may_describe(self, table: str) -> bool:
        """Whether the policy lets the caller describe `table` (a catalog name)."""
        return may_describe(self.policy, self.caller, table)

    def withheld(
        self, conn: Connection, dataset_ids: Collection[int]
    ) -> dict[int, frozenset[str] | None]:
        """None for each dataset the caller may not describe, else its denied columns."""
        wanted = sorted(set(dataset_ids) - set(self._withheld))
        if wanted:
            self._decide_datasets(conn, wanted)
        return {i: self._withheld[i] for i in dataset_ids}

    def access(self, conn: Connection, table: str) -> TableAccess:
        """The caller's decision on `table` (a catalog name), with its columns."""
        if table not in self._access:
            found = conn.execute(
                sa.select(catalog_entries.c.dataset_id).where(catalog_entries.c.name == table)
            ).scalar()
            columns = _columns(conn, [int(found)]).get(int(found), []) if found else []
            self._access[table] = decide(
                self.policy, self.caller, table, columns, version=self.version
            )
        return self._access[table]

    def _decide_datasets(self, conn: Connection, ids: list[int]) -> None:
        entries = catalog_entries_of(conn, ids)
        shown = [i for i in ids if i in entries and self.may_describe(entries[i][1])]
        columns = _columns(conn, sorted({entries[i][0] for i in shown}))
        for dataset_id in ids:
            self._withheld[dataset_id] = None
        # Their own consumer lists the columns their queries read: theirs to see.
        mine = own_consumer(conn, self.user)
        if mine in self._withheld:
            self._withheld[mine] = frozenset()
        for dataset_id in shown:
            entry, name = entries[dataset_id]
            of_table = columns.get(entry, [])
            access = decide(self.policy, self.caller, name, of_table, version=self.version)
            self._access[name] = access
            self._withheld[dataset_id] = self._denied(name, of_table, access)

    def _denied(self, table: str, columns: Columns, access: TableAccess) -> frozenset[str]:
        if access.allowed:
            return frozenset(c.name for c in access.columns if c.verdict == "denied")
        # Described but not selectable (a `describe` grant): the columns a deny names.
        return frozenset(
            name
            for name, tags in columns
            for deny in self.policy.deny
            if self.caller.roles.intersection(deny.roles)
            and any(selects_column(p, table, name, tags) for p in deny.columns)
        )


def _columns(conn: Connection, dataset_ids: list[int]) -> dict[int, Columns]:
    """Each dataset's columns with their effective tags, as the query path decides on them."""
    from steward.catalog.views import describe_datasets

    out: dict[int, Columns] = {}
    for start in range(0, len(dataset_ids), 500):
        views = describe_datasets(conn, dataset_ids[start : start + 500])
        for dataset_id, view in views.items():
            # Proposed classifier tags count, as on the query path.
            out[dataset_id] = [
                (str(c["name"]), frozenset(str(t["tag"]) for t in c["tags"]))
                for c in view["columns"]
            ]
    return out


def sight_for(store: Store, principal: Principal) -> PolicySight | None:
    """The caller's sight under the active policy; None (everything) for an admin."""
    if principal.is_admin:
        return None
    current = active(store)
    version, policy = current if current is not None else (None, Policy())
    caller = caller_for(policy, principal.user, principal.groups, principal.attribute_map)
    return PolicySight(policy, version, caller)
