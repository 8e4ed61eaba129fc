"""Which `access_for` the API and the CLI give the query path: the active policy's.

The active version is looked up once per query (one version for every table the query
names; the policy itself is parsed once per version), and each table is decided by
`policy.decide` on the columns and tags the query path read from the catalog, the same
decision `steward policy explain` and `/api/v1/policy/effective` show, remembered per
(version, caller, table, columns and tags) in `steward.query_cache`. With no policy
applied, nothing is granted: every table is refused, admins included (an API admin
administers Steward; reading data is a matter for the policy, e.g. a `platform-admin`
role granted `select: ["*"]`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from steward.identity.models import Principal
from steward.policy.access import CallerAccess, TableAccess
from steward.policy.decide import caller_for, decide
from steward.policy.models import Policy

if TYPE_CHECKING:
    from steward.app import Steward


def access_for(steward: Steward, principal: Principal) -> CallerAccess:
    """How the query path learns what `principal` may see of each table."""
    cache = steward.query_cache
    chosen = cache.active_policy(steward.store)
    version, policy = chosen if chosen is not None else (None, Policy())
    attributes = principal.attribute_map
    caller = caller_for(policy, principal.user, principal.groups, attributes)
    who = (principal.user, frozenset(principal.groups), tuple(sorted(attributes.items())))

    def decide_table(table: str, columns: Sequence[tuple[str, frozenset[str]]]) -> TableAccess:
        # Keyed by everything the decision is made from: the policy version (its
        # grants, masks, filters), the caller, the table and its columns with their tags.
        key = (version, who, table, tuple(columns))
        return cache.decision(key, lambda: decide(policy, caller, table, columns, version=version))

    may_query = any(caller.roles.intersection(grant.roles) for grant in policy.grants)
    return CallerAccess(table=decide_table, may_query=may_query, hash_key=policy.hash_key)
