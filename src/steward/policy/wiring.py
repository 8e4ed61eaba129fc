"""Which `access_for` the API and the CLI give the query path: the active policy's.

The policy is read once per query (one version for every table the query names), and
each table is decided by `policy.decide` on the columns and tags the query path read
from the catalog, the same decision `steward policy explain` and
`/api/v1/policy/effective` show. With no policy applied, nothing is granted: every
table is refused, admins included (an API admin administers Steward; reading data is
a matter for the policy, e.g. a `platform-admin` role granted `select: ["*"]`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from steward.identity.models import Principal
from steward.policy.access import CallerAccess, TableAccess
from steward.policy.decide import caller_for, decide
from steward.policy.models import Policy
from steward.policy.versions import active

if TYPE_CHECKING:
    from steward.app import Steward


def access_for(steward: Steward, principal: Principal) -> CallerAccess:
    """How the query path learns what `principal` may see of each table."""
    chosen = active(steward.store)
    version, policy = chosen if chosen is not None else (None, Policy())
    caller = caller_for(policy, principal.user, principal.groups, principal.attribute_map)

    def decide_table(table: str, columns: Sequence[tuple[str, frozenset[str]]]) -> TableAccess:
        return decide(policy, caller, table, columns, version=version)

    may_query = any(caller.roles.intersection(grant.roles) for grant in policy.grants)
    return CallerAccess(table=decide_table, may_query=may_query, hash_key=policy.hash_key)
