"""The principal a request acts as; later domains authorise on it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Principal:
    """A user with the groups they belong to, as proven by a token."""

    user: str
    groups: frozenset[str] = field(default_factory=frozenset)
    is_admin: bool = False
    token_id: str | None = None


@dataclass(frozen=True)
class IssuedToken:
    """A token as shown once at creation: the secret is not stored anywhere."""

    secret: str
    token_id: str
    principal: Principal
