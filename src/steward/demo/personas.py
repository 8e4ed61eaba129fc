"""The demo's three personas, their tokens, and the governed queries each one runs."""

from __future__ import annotations

from dataclasses import dataclass

from steward.identity.models import Principal


@dataclass(frozen=True)
class Persona:
    """Someone the demo's policy knows: a user in groups, with what they try to read."""

    key: str
    title: str
    user: str
    groups: tuple[str, ...]
    is_admin: bool
    query: str
    expect: str  # what the audit log records: masked, filtered, denied, allowed

    @property
    def principal(self) -> Principal:
        """The persona as the policy sees them."""
        return Principal(user=self.user, groups=frozenset(self.groups), is_admin=self.is_admin)

    @property
    def groups_option(self) -> str:
        """`--groups` as the CLI takes it."""
        return ",".join(self.groups)


PERSONAS = (
    Persona(
        key="analyst",
        title="analyst",
        user="ana",
        groups=("analysts",),
        is_admin=False,
        query="SELECT name, email, country FROM lake.crm.users ORDER BY user_id",
        expect="masked",
    ),
    Persona(
        key="eu-analyst",
        title="EU analyst",
        user="eva",
        groups=("analysts-eu",),
        is_admin=False,
        query="SELECT country, commits FROM lake.marts.commits_by_country ORDER BY country",
        expect="filtered",
    ),
    Persona(
        key="platform-admin",
        title="platform admin",
        user="pat",
        groups=("platform",),
        is_admin=True,
        query="SELECT author_email, count(*) AS commits FROM lake.git.commits GROUP BY 1",
        expect="allowed",
    ),
)
# The analyst also tries a table the policy does not grant them.
DENIED_QUERY = "SELECT author_email FROM lake.git.commits"
