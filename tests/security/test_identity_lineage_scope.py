"""Posting lineage needs `lineage:write`: ordinary callers of a live server are refused (403)
and store nothing; a token made with the scope, an admin, or an OIDC member of
`lineage_write_groups` may post."""

from __future__ import annotations

import httpx
import pytest

from steward.identity.models import LINEAGE_WRITE
from tests.e2e.conftest import Server, server  # noqa: F401 - the live-server fixture
from tests.identity.conftest import AUDIENCE, ISSUER, Issuer, issuer, signing_key  # noqa: F401
from tests.openlineage_events import dataset, run_event
from tests.security.identity_live import start_live, steward_command

# Slow: a live `steward serve` for each case.
pytestmark = pytest.mark.slow

EVENT = run_event("nightly", inputs=[dataset("wh", "orders")], outputs=[dataset("wh", "daily")])


def post(live: Server, token: str, path: str, body: object) -> httpx.Response:
    return httpx.post(
        f"{live.url}{path}", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def stored(live: Server) -> tuple[list[object], list[object]]:
    """The raw events and namespaces the server holds, read with its admin token."""
    admin = {"Authorization": f"Bearer {live.token}"}
    events = httpx.get(f"{live.url}/api/v1/events/lineage", headers=admin).json()["events"]
    names = httpx.get(f"{live.url}/api/v1/namespaces", headers=admin).json()["namespaces"]
    return events, names


@pytest.mark.parametrize(
    ("path", "body"), [("/api/v1/lineage", EVENT), ("/api/v1/lineage/batch", [EVENT])]
)
def test_a_token_without_the_scope_is_refused_and_stores_nothing(
    request: pytest.FixtureRequest, database_url: str | None, path: str, body: object
) -> None:
    live = start_live(request)
    reader = steward_command(
        live, "token", "create", "--user", "airflow", "--groups", "etl"
    ).strip()
    refused = post(live, reader, path, body)
    assert refused.status_code == 403
    assert refused.json() == {
        "error": "this needs the 'lineage:write' scope: a token made with"
        " `steward token create --scope lineage:write`, or an admin token"
    }
    assert stored(live) == ([], [])
    # The same caller may still read.
    headers = {"Authorization": f"Bearer {reader}"}
    assert httpx.get(f"{live.url}/api/v1/namespaces", headers=headers).status_code == 200


def test_a_token_with_the_scope_and_an_admin_token_may_post(
    request: pytest.FixtureRequest, database_url: str | None
) -> None:
    live = start_live(request)
    writer = steward_command(
        live, "token", "create", "--user", "airflow", "--scope", LINEAGE_WRITE
    ).strip()
    assert post(live, writer, "/api/v1/lineage", EVENT).status_code == 201
    later = run_event(
        "nightly", outputs=[dataset("wh", "weekly")], event_time="2024-05-02T10:00:00Z"
    )
    assert post(live, live.token, "/api/v1/lineage/batch", [later]).status_code == 201
    events, _ = stored(live)
    assert len(events) == 2


def test_oidc_members_of_lineage_write_groups_may_post_others_may_not(
    request: pytest.FixtureRequest, database_url: str | None
) -> None:
    jwks: Issuer = request.getfixturevalue("issuer")
    live = start_live(
        request,
        oidc_issuer=ISSUER,
        oidc_audience=AUDIENCE,
        oidc_jwks_url=jwks.url,
        lineage_write_groups=["pipelines"],
    )
    analyst = jwks.token()  # groups analysts, analysts-eu
    assert post(live, analyst, "/api/v1/lineage", EVENT).status_code == 403
    assert stored(live) == ([], [])
    pipeline = jwks.token(email="etl@example.com", groups=["pipelines"])
    assert post(live, pipeline, "/api/v1/lineage", EVENT).status_code == 201
    # An unverified email cannot name a writer.
    unverified = jwks.token(email="etl@example.com", groups=["pipelines"], email_verified=False)
    refused = post(live, unverified, "/api/v1/lineage", EVENT)
    assert refused.status_code == 401
    assert "not verified" in refused.json()["error"]
