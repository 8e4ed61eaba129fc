"""Refused tokens are counted per client per minute: one record in full, one summary after."""

from __future__ import annotations

import pytest

from steward.app import Steward
from steward.audit.log import AuditFilter, list_records
from steward.audit.refusals import OTHER_CLIENTS, Refusal, RefusedTokens, write

MINUTE = 29_000_000  # some minute since the epoch


class Clock:
    """A clock the test moves by hand, so that minutes roll over when the test says."""

    def __init__(self) -> None:
        self.now = MINUTE * 60.0 + 1

    def __call__(self) -> float:
        return self.now


def refusal(client: str | None, path: str = "/api/v1/namespaces") -> Refusal:
    return Refusal(client, None, "invalid token", {"method": "GET", "path": path})


def records(steward: Steward) -> list[dict[str, object]]:
    with steward.store.read() as conn:
        found = list_records(conn, AuditFilter(action="auth.failed"), limit=1000)
    return [r.to_json() for r in reversed(found)]


def test_one_record_per_client_per_minute_then_one_summary(steward: Steward) -> None:
    clock = Clock()
    refusals = RefusedTokens(clock=clock)
    for _ in range(500):
        write(steward.audit, refusals.account(refusal("10.0.0.1")))
    write(steward.audit, refusals.account(refusal("10.0.0.2")))
    assert len(records(steward)) == 2
    assert not refusals.finished()  # the minute is not over
    clock.now += 60
    write(steward.audit, refusals.finished())
    first, second, summary = records(steward)
    assert first["details"]["client"] == "10.0.0.1"  # type: ignore[index]
    assert second["details"]["client"] == "10.0.0.2"  # type: ignore[index]
    assert summary["decision"] == "failed"
    assert summary["details"] == {  # 10.0.0.2 had no more: no summary for it
        "client": "10.0.0.1",
        "minute": "2025-02-19T21:20Z",
        "more": 499,
        "summary": "499 more refused tokens from client 10.0.0.1 in minute 2025-02-19T21:20Z",
    }


def test_a_new_minute_starts_a_new_count_and_writes_the_old_one(steward: Steward) -> None:
    clock = Clock()
    refusals = RefusedTokens(clock=clock)
    for _ in range(3):
        write(steward.audit, refusals.account(refusal("10.0.0.1")))
    clock.now += 60
    writes = refusals.account(refusal("10.0.0.1"))
    assert writes.first is not None
    assert [s.count for s in writes.summaries] == [2]
    write(steward.audit, writes)
    assert len(records(steward)) == 3


def test_what_is_left_is_written_at_shutdown(steward: Steward) -> None:
    refusals = RefusedTokens(clock=Clock())
    for _ in range(3):
        write(steward.audit, refusals.account(refusal(None)))
    write(steward.audit, refusals.everything())
    first, summary = records(steward)
    assert first["details"]["client"] is None  # type: ignore[index]
    assert summary["details"]["more"] == 2  # type: ignore[index]
    assert summary["details"]["client"] == "unknown"  # type: ignore[index]
    assert not refusals.everything()


def test_many_clients_share_one_count_past_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    from steward.audit import refusals as module

    monkeypatch.setattr(module, "MAX_CLIENTS_PER_MINUTE", 3)
    refusals = RefusedTokens(clock=Clock())
    firsts = [refusals.account(refusal(f"10.0.0.{n}")).first for n in range(10)]
    assert sum(first is not None for first in firsts) == 4  # three clients, then the rest
    (shared,) = refusals.everything().summaries
    assert (shared.client, shared.count) == (OTHER_CLIENTS, 6)


def test_a_long_path_is_cut_and_marked(steward: Steward) -> None:
    refusals = RefusedTokens(clock=Clock())
    write(steward.audit, refusals.account(refusal("10.0.0.1", "/" + "a" * 10_000)))
    (found,) = records(steward)
    details = found["details"]
    assert details["path"] == "/" + "a" * 199 + "…"  # type: ignore[index]
    assert details["path_chars"] == 10_001  # type: ignore[index]
