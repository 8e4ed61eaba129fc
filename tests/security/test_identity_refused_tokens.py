"""A client sending bad tokens to a live server cannot fill the audit log: its first refusal
in a minute is recorded (the path cut short), the rest are one summary."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import orjson
import pytest

from steward.app import Steward
from steward.audit.log import AuditFilter, list_records
from steward.config import Settings
from tests.e2e.conftest import server  # noqa: F401 - the live-server fixture
from tests.security.identity_live import server_pid, start_live

# Slow: a live `steward serve` for each case.
pytestmark = pytest.mark.slow

REQUESTS = 1000
LONG_PATH = "/api/v1/jobs/" + "a" * 5000  # a route that needs a token, with a 5 KB path


def test_a_thousand_refused_tokens_write_a_bounded_number_of_bytes(
    request: pytest.FixtureRequest, tmp_path: Path, database_url: str | None
) -> None:
    live = start_live(request)
    with httpx.Client(base_url=live.url, timeout=30) as http:
        for number in range(REQUESTS):
            bad = {"Authorization": f"Bearer stw_0123456789ab_{number:043d}"}
            assert http.get(LONG_PATH, headers=bad).status_code == 401
        # While the server runs: the first refusal of each minute is there, cut short.
        admin = {"Authorization": f"Bearer {live.token}"}
        found = http.get("/api/v1/audit", params={"action": "auth.failed"}, headers=admin)
        so_far = found.json()["records"]
    # One record; if a minute ended during the run, also the next first (and a summary).
    assert 1 <= len(so_far) <= 3
    details = so_far[-1]["details"]
    assert details["path"] == LONG_PATH[:200] + "…"
    assert details["path_chars"] == len(LONG_PATH)
    assert details["token_id"] == "0123456789ab"
    # Stopped as an operator stops it: the count of the last minute is written on the way out.
    pid = server_pid(live)
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    steward = Steward(Settings(home=tmp_path / "home", database_url=database_url))
    with steward.store.read() as conn:
        written = list_records(conn, AuditFilter(action="auth.failed"), limit=1000)
    steward.close()
    summaries = [r.details for r in written if "more" in r.details]
    assert len(written) <= 4
    assert len(written) - len(summaries) + sum(s["more"] for s in summaries) == REQUESTS
    assert summaries[0]["summary"].endswith(f"in minute {summaries[0]['minute']}")
    logged = sum(len(orjson.dumps(r.to_json())) for r in written)
    assert logged < 4 * 1024  # against 5 MB of paths sent
