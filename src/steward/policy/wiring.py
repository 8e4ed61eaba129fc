"""Which `access_for` the API and the CLI give the query path: the one place to change.

Until the policy file (`policy.decide`) is wired in, this placeholder is deny-by-default:
an admin token sees every table in clear, anyone else is refused. The coordinator
replaces `access_for` with one reading the active policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from steward.identity.models import Principal
from steward.policy.access import ColumnAccess, TableAccess

if TYPE_CHECKING:
    from steward.app import Steward
    from steward.policy.query import AccessFor


def access_for(steward: Steward, principal: Principal) -> AccessFor:
    """How the query path learns what `principal` may see of each table."""

    def decide(table: str, columns: Sequence[tuple[str, frozenset[str]]]) -> TableAccess:
        if not principal.is_admin:
            return TableAccess(
                table=table,
                allowed=False,
                rule="default",
                reason=f"{table}: no policy grants you select on it (deny is the default)",
            )
        return TableAccess(
            table=table,
            allowed=True,
            rule="admin",
            columns=tuple(ColumnAccess(name, "clear", "admin") for name, _ in columns),
        )

    return decide
