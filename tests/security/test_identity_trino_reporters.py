"""Reporting Trino queries writes audit records in others' names: on a live server, a token
in a group called `trino` may not, a configured reporter may."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import server  # noqa: F401 - the live-server fixture
from tests.security.identity_live import start_live, steward_command

# Slow: a live `steward serve` for each case.
pytestmark = pytest.mark.slow

EVENT = json.loads(
    (Path(__file__).parents[1] / "audit" / "fixtures" / "trino_insert.json").read_text()
)


def test_only_configured_reporters_may_report_trino_queries(
    request: pytest.FixtureRequest, database_url: str | None
) -> None:
    live = start_live(request, trino_reporter_users=["trino-prod"])
    posing = steward_command(live, "token", "create", "--user", "mallory", "--groups", "trino")
    reporter = steward_command(live, "token", "create", "--user", "trino-prod")
    url = f"{live.url}/api/v1/audit/trino"
    refused = httpx.post(url, json=EVENT, headers={"Authorization": f"Bearer {posing.strip()}"})
    assert refused.status_code == 403
    admin = {"Authorization": f"Bearer {live.token}"}
    queries = httpx.get(f"{live.url}/api/v1/audit", params={"action": "query"}, headers=admin)
    assert queries.json()["records"] == []
    accepted = httpx.post(url, json=EVENT, headers={"Authorization": f"Bearer {reporter.strip()}"})
    assert accepted.status_code == 201, accepted.text
    queries = httpx.get(f"{live.url}/api/v1/audit", params={"action": "query"}, headers=admin)
    (recorded,) = queries.json()["records"]
    assert recorded["details"]["reported_by"]["user"] == "trino-prod"
