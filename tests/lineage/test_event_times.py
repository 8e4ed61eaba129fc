"""Event times too far ahead of the server's clock are refused, naming the field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from steward.config import Settings
from steward.errors import InvalidEvent
from steward.lineage.ingest import parse_events, refuse_future_events
from tests.openlineage_events import dataset, run_event

NOW = datetime(2026, 1, 1, 12, 0, 0)


def _events(*offsets: float) -> list[dict[str, object]]:
    return [
        run_event(
            "nightly",
            outputs=[dataset("postgres://db:5432", "shop.public.orders", ["id"])],
            event_time=(NOW + timedelta(seconds=s)).isoformat() + "Z",
        )
        for s in offsets
    ]


def test_an_event_at_the_limit_is_accepted() -> None:
    parsed = parse_events(_events(-86_400, 0, 300), batch=True)
    refuse_future_events(parsed, max_future_seconds=300, batch=True, now=NOW)


def test_an_event_beyond_the_limit_is_refused_naming_its_index() -> None:
    parsed = parse_events(_events(0, 301), batch=True)
    with pytest.raises(InvalidEvent, match=r"^events\[1\]\.eventTime: .* 300 seconds"):
        refuse_future_events(parsed, max_future_seconds=300, batch=True, now=NOW)


def test_a_zoned_time_is_compared_in_utc() -> None:
    event = _events(0)[0]
    event["eventTime"] = (NOW + timedelta(hours=1)).isoformat() + "+02:00"  # an hour ago
    refuse_future_events(
        parse_events([event], batch=False), max_future_seconds=0, batch=False, now=NOW
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """SQLite, with events allowed no more than 10 seconds ahead."""
    return Settings(home=tmp_path / "home", lineage_max_future_seconds=10)


def test_the_api_applies_the_configured_limit(client: TestClient) -> None:
    ahead = run_event(
        "nightly",
        outputs=[dataset("postgres://db:5432", "shop.public.orders", ["id"])],
        event_time=(datetime.now(UTC) + timedelta(minutes=5)).isoformat(),
    )
    refused = client.post("/api/v1/lineage", json=ahead)
    assert refused.status_code == 400
    assert refused.json()["error"].startswith("eventTime: ")
    assert "10 seconds" in refused.json()["error"]
    ahead["eventTime"] = datetime.now(UTC).isoformat()
    assert client.post("/api/v1/lineage", json=ahead).status_code == 201
