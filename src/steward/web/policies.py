"""`/policies` (admins): the active version, its history and diffs, and `explain`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from steward.errors import Forbidden, InvalidInput, StewardError
from steward.identity.sessions import WebSession
from steward.policy.effective import access_json, catalog_tables, effective_access
from steward.policy.load import load
from steward.policy.models import Policy
from steward.policy.versions import PolicyVersion, active, diff, get, history, rule_lines
from steward.store import Store
from steward.web.auth import signed_in, steward_of
from steward.web.render import page

router = APIRouter(include_in_schema=False)


def _admin(session: WebSession, what: str) -> None:
    if not session.principal.is_admin:
        raise Forbidden(f"{what} is for admins; {session.principal.user} is not an admin")


@router.get("/policies")
def get_policies(
    request: Request,
    session: Annotated[WebSession, Depends(signed_in)],
    version: Annotated[int | None, Query(ge=1)] = None,
    role: Annotated[str, Query(max_length=500)] = "",
    groups: Annotated[str, Query(max_length=2000)] = "",
    table: Annotated[str, Query(max_length=1000)] = "",
) -> Response:
    """The active policy, the diff of one version from the one before, and an explain table.

    "What does role X see of table Y": the explain asks as a principal in the role's
    groups (or the groups typed in), exactly as `policy explain` does.
    """
    _admin(session, "the policies page")
    store = steward_of(request).store
    current = active(store)
    versions = history(store)
    context: dict[str, Any] = {
        "current": None,
        "rules": [],
        "versions": versions,
        "shown": None,
        "changes": [],
        "tables": sorted(catalog_tables(store)),
        "roles": [],
        "role": role,
        "groups": groups,
        "table": table,
        "explain": None,
        "explain_error": None,
    }
    if current is not None:
        number, policy = current
        context["current"] = get(store, number)
        context["rules"] = rule_lines(policy)
        context["roles"] = sorted(policy.roles)
        shown = version or number
        context["shown"] = shown
        context["changes"] = _changes(versions, shown)
    if table:
        try:
            context["explain"] = _explain(store, current, role, groups, table)
        except StewardError as exc:
            context["explain_error"] = exc.message
    return page(request, "policies.html", context, session=session, title="Policies")


def _changes(versions: list[PolicyVersion], number: int) -> list[str]:
    """What version `number` changed from the version before it."""
    by_number = {v.version: v for v in versions}
    if number not in by_number:
        raise InvalidInput(f"version: there is no policy version {number}")
    new = by_number[number]
    old = by_number.get(number - 1)
    return diff(
        load(dict(old.sources)).policy if old else None,
        load(dict(new.sources)).policy,
        old_sources=dict(old.sources) if old else {},
        new_sources=dict(new.sources),
    )


def _explain(
    store: Store, current: tuple[int, Policy] | None, role: str, groups: str, table: str
) -> dict[str, Any]:
    chosen = current if current is not None else (None, Policy())
    policy = chosen[1]
    group_list = [g.strip() for g in groups.split(",") if g.strip()]
    if role:
        if role not in policy.roles:
            raise InvalidInput(f"role: {role!r} is not a role of the active policy")
        chosen_role = policy.roles[role]
        group_list += list(chosen_role.groups)
    # A role of named users only is asked about as its first user.
    users = list(policy.roles[role].users) if role else []
    user = (
        users[0] if users and not group_list else (f"someone in role {role}" if role else "someone")
    )
    caller, access = effective_access(store, user, sorted(set(group_list)), table, policy=chosen)
    return access_json(caller, access, policy)
