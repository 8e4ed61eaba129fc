"""Policy routes: the active version, and what one principal sees of one table."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from steward.api.auth import steward_of
from steward.api.responses import Json
from steward.errors import Forbidden, NotFound
from steward.identity.models import Principal
from steward.policy.effective import access_json, effective_access
from steward.policy.models import Policy
from steward.policy.versions import active, get, rule_lines

router = APIRouter(prefix="/api/v1")


@router.get("/policy")
def get_policy(request: Request) -> Response:
    """The active policy version: its files as applied and its rules, one line each."""
    store = steward_of(request).store
    current = active(store)
    if current is None:
        raise NotFound("no policy has been applied yet")
    version = get(store, current[0])
    return Json({**version.to_json(), "sources": version.sources, "rules": rule_lines(current[1])})


@router.get("/policy/effective")
def get_effective(
    request: Request,
    table: Annotated[str, Query(min_length=1, max_length=1000)],
    user: Annotated[str | None, Query(max_length=500)] = None,
    groups: Annotated[list[str] | None, Query(max_length=500)] = None,
) -> Response:
    """What a principal sees of a table: columns with verdict, mask and rule; row filters.

    Without `user`, the caller themselves (with their token's groups). Admins may ask
    for anyone (`user` and `groups`, comma-separated or repeated); others only for
    themselves.
    """
    caller: Principal = request.state.principal
    store = steward_of(request).store
    group_list = [g.strip() for item in groups or [] for g in item.split(",") if g.strip()]
    if user is None or (user == caller.user and not group_list):
        user, group_list = caller.user, sorted(caller.groups)
    elif not caller.is_admin:
        raise Forbidden(
            f"policy/effective: only admins may ask about another principal; {caller.user} "
            "may ask about themselves"
        )
    current = active(store)
    chosen = current if current is not None else (None, Policy())
    principal, access = effective_access(store, user, group_list, table, policy=chosen)
    return Json(access_json(principal, access, chosen[1]))
