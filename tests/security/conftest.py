"""A governed lake for the metadata tests: real Iceberg tables, an applied policy, real
check results and query lineage, and one token per role.

Roles, as the security review named them:
- `admin` (user `root`): administers Steward, sees all metadata; its data access is
  the policy's like anyone's, and it grants `root` every `lake.crm` table;
- `analyst`: may select (so describe) every `lake.crm` table, every column clear;
- `masked`: may select them too, but `email` is masked and `salary` denied;
- `outsider`: may select `lake.crm.orders` only, so may not describe customers.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from steward.api import create_app
from steward.app import Steward
from steward.identity.models import Principal
from steward.identity.tokens import create_token
from steward.policy.versions import apply
from steward.quality.history import record_results
from steward.quality.load import parse_checks
from steward.quality.run import run_dataset
from tests.e2e.conftest import Server, server  # the live `steward serve` fixture
from tests.query.conftest import PEOPLE, make_lake

__all__ = ["PEOPLE", "Server", "server"]

POLICY = """\
roles:
  analyst: {groups: [analysts]}
  masked: {groups: [masked-analysts]}
  outsider: {groups: [outsiders]}
  platform: {users: [root]}
grants:
  - roles: [analyst, masked, platform]
    select: ["lake.crm.*"]
  - roles: [outsider]
    select: ["lake.crm.orders"]
masks:
  - columns: ["lake.crm.customers.email"]
    mask: email
    roles: [masked]
deny:
  - roles: [masked]
    columns: ["lake.crm.customers.salary"]
"""

GROUPS = {"analyst": ["analysts"], "masked": ["masked-analysts"], "outsider": ["outsiders"]}
ROLES = ("admin", "analyst", "masked", "outsider")

# The SSN cast fails on DuckDB with an error that quotes the first SSN it read.
CHECKS = """\
version: 1
datasets:
  - name: lake.crm.customers
    checks:
      - row_count: {max: 3}
      - sql: {sql: "SELECT id FROM lake.crm.customers WHERE CAST(ssn AS INTEGER) > 0"}
    columns:
      - name: salary
        checks:
          - max: {max: 90000}
      - name: email
        checks:
          - accepted_values: {values: [nobody@example.com]}
      - name: region
        checks:
          - accepted_values: {values: [EU, US]}
"""

SALARY_MAX = str(max(row[5] for row in PEOPLE))  # what `max(salary)` observes
SSNS = [row[3] for row in PEOPLE]


def govern(steward: Steward) -> dict[str, str]:
    """Lake, policy, check results; one token per role (secrets by role)."""
    make_lake(steward)
    apply(steward.store, POLICY, actor=Principal(user="admin", is_admin=True))
    checks = parse_checks(CHECKS).datasets[0]
    record_results(steward.store, run_dataset(steward, checks))
    tokens = {"admin": create_token(steward.store, user="root", is_admin=True).secret}
    for role, groups in GROUPS.items():
        # Every role may post lineage (as producers do), so that whose events are shown
        # to whom can be checked.
        tokens[role] = create_token(
            steward.store, user=f"{role}@example.com", groups=groups, scopes=["lineage:write"]
        ).secret
    return tokens


def bearer(token: str) -> dict[str, str]:
    """The Authorization header of `token`."""
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def database_url() -> None:
    """The embedded SQLite store, unless a module asks for PostgreSQL too."""
    return None


@pytest.fixture
def tokens(steward: Steward) -> dict[str, str]:
    return govern(steward)


@pytest.fixture
def http(steward: Steward, tokens: dict[str, str]) -> Iterator[TestClient]:
    """An in-process client with no default credentials: each call names its role's token."""
    with TestClient(create_app(steward), raise_server_exceptions=True) as client:
        yield client
