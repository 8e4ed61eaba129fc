"""Dataset pages and catalog search follow the policy's `describe`, per role."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from steward.app import Steward
from tests.security.conftest import bearer


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | None]:
    """Search filters in SQL, which differs per store: both stores here."""
    if request.param == "sqlite":
        yield None
        return
    yield from _postgres(request)


def _postgres(request: pytest.FixtureRequest) -> Iterator[str | None]:
    import uuid

    import sqlalchemy as sa

    admin_url, template = request.getfixturevalue("postgres_template").split("|")
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"steward_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield sa.make_url(admin_url).set(database=name).render_as_string(False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _page(http: TestClient, token: str, ref: str = "lake.crm.customers") -> dict[str, object]:
    answer = http.get(f"/api/v1/datasets/{ref}", headers=bearer(token))
    assert answer.status_code == 200, answer.text
    page: dict[str, object] = answer.json()
    return page


def _columns(page: dict[str, object]) -> list[str]:
    return [str(c["name"]) for c in page["columns"]]  # type: ignore[attr-defined, index]


@pytest.mark.slow
def test_admin_and_analyst_see_every_column(http: TestClient, tokens: dict[str, str]) -> None:
    for role in ("admin", "analyst"):
        columns = _columns(_page(http, tokens[role]))
        assert columns == ["id", "name", "email", "ssn", "region", "salary"], role


def test_denied_column_is_left_out_of_a_describable_page(
    http: TestClient, tokens: dict[str, str]
) -> None:
    page = _page(http, tokens["masked"])
    assert _columns(page) == ["id", "name", "email", "ssn", "region"]
    assert "salary" not in str(page["columns"])


def test_dataset_the_caller_may_not_describe_is_not_found_like_a_missing_one(
    http: TestClient, tokens: dict[str, str]
) -> None:
    outsider = bearer(tokens["outsider"])
    hidden = http.get("/api/v1/datasets/lake.crm.customers", headers=outsider)
    missing = http.get("/api/v1/datasets/lake.crm.nothing", headers=outsider)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["error"].replace("customers", "nothing") == missing.json()["error"]
    node = _page(http, tokens["admin"])["nodeId"]
    by_node = http.get(f"/api/v1/datasets/{node}", headers=outsider)
    assert by_node.status_code == 404
    assert "no dataset" in by_node.json()["error"]
    # What they may select, they may describe.
    assert _columns(_page(http, tokens["outsider"], "lake.crm.orders")) == [
        "order_id",
        "customer_id",
        "amount",
    ]


def test_nothing_is_described_to_a_caller_before_a_policy_is_applied(steward: Steward) -> None:
    from steward.api import create_app
    from steward.identity.tokens import create_token
    from tests.query.conftest import make_lake

    make_lake(steward)
    token = bearer(create_token(steward.store, user="new@example.com", groups=["analysts"]).secret)
    with TestClient(create_app(steward)) as http:
        assert http.get("/api/v1/datasets/lake.crm.orders", headers=token).status_code == 404
        found = http.get("/api/v1/catalog/search", params={"q": ""}, headers=token).json()
    assert found == {"results": [], "totalCount": 0}


def _search(http: TestClient, token: str, q: str, **params: object) -> list[str]:
    answer = http.get("/api/v1/catalog/search", params={"q": q, **params}, headers=bearer(token))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["totalCount"] == len(body["results"])
    return [r["name"] for r in body["results"]]


def test_search_leaves_out_what_the_caller_may_not_describe(
    http: TestClient, tokens: dict[str, str]
) -> None:
    for role in ("admin", "analyst", "masked"):
        assert _search(http, tokens[role], "") == ["lake.crm.customers", "lake.crm.orders"]
        assert _search(http, tokens[role], "customers") == ["lake.crm.customers"]
    assert _search(http, tokens["outsider"], "") == ["lake.crm.orders"]
    assert _search(http, tokens["outsider"], "customers") == []
    # Matching on a column of a table it may not describe finds nothing either.
    assert _search(http, tokens["outsider"], "ssn") == []
    assert _search(http, tokens["analyst"], "ssn") == ["lake.crm.customers"]
    # The limit counts only what the caller may see: the one table they may describe.
    assert _search(http, tokens["outsider"], "lake", limit=1) == ["lake.crm.orders"]
