"""`/metrics` for a Prometheus scraper: a `metrics:read` token reads it, and nothing else
of the audit log; a plain token is refused with the scope it needs."""

from __future__ import annotations

from fastapi.testclient import TestClient

from steward.app import Steward
from steward.identity.tokens import create_token


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_a_metrics_scope_token_scrapes_metrics_but_not_the_audit_log(
    steward: Steward, anonymous: TestClient
) -> None:
    scraper = create_token(steward.store, user="prometheus", scopes=["metrics:read"]).secret
    scraped = anonymous.get("/metrics", headers=_bearer(scraper))
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    assert "steward_audit_records_total" in scraped.text
    refused = anonymous.get("/api/v1/audit", headers=_bearer(scraper))
    assert refused.status_code == 403


def test_metrics_refuse_a_token_without_the_scope_naming_it(
    steward: Steward, anonymous: TestClient, client: TestClient
) -> None:
    reader = create_token(steward.store, user="ana").secret
    refused = anonymous.get("/metrics", headers=_bearer(reader))
    assert refused.status_code == 403
    assert "metrics:read" in refused.json()["error"]
    assert anonymous.get("/metrics").status_code == 401
    assert client.get("/metrics").status_code == 200  # an admin still may
