"""The principal a request acts as; later domains authorise on it."""

from __future__ import annotations

from dataclasses import dataclass, field

# What a token may be granted beyond reading. Admins hold every scope.
LINEAGE_WRITE = "lineage:write"
# Registering, deleting and configuring schemas in the schema registry.
SCHEMA_WRITE = "schema:write"
# Reading evidence reports, which carry audit records in full (`steward evidence`).
EVIDENCE_READ = "evidence:read"
# Reading Prometheus `/metrics` (a scraper's token), without the audit log's other reads.
METRICS_READ = "metrics:read"
SCOPES: frozenset[str] = frozenset({LINEAGE_WRITE, SCHEMA_WRITE, EVIDENCE_READ, METRICS_READ})


@dataclass(frozen=True)
class Principal:
    """A user with the groups they belong to, as proven by a token."""

    user: str
    groups: frozenset[str] = field(default_factory=frozenset)
    is_admin: bool = False
    token_id: str | None = None
    # What the token may do beyond reading (`lineage:write`); admins may do everything.
    scopes: frozenset[str] = field(default_factory=frozenset)
    # Attributes row filters read with `current_attribute('name')`, as (name, value) pairs.
    attributes: tuple[tuple[str, str], ...] = ()

    def may(self, scope: str) -> bool:
        """Whether this principal holds `scope` (admins hold every scope)."""
        return self.is_admin or scope in self.scopes

    @property
    def attribute_map(self) -> dict[str, str]:
        """The attributes as a mapping."""
        return dict(self.attributes)


@dataclass(frozen=True)
class IssuedToken:
    """A token as shown once at creation: the secret is not stored anywhere."""

    secret: str
    token_id: str
    principal: Principal


@dataclass(frozen=True)
class TokenInfo:
    """A token as `steward token list` shows it: never its secret."""

    token_id: str
    user: str
    groups: tuple[str, ...]
    is_admin: bool
    scopes: tuple[str, ...]
    attributes: tuple[tuple[str, str], ...]
    description: str | None
    created_at: str
    revoked: bool
