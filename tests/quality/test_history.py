"""Check results are kept with history, shown on the dataset's page; flapping is flagged."""

from __future__ import annotations

from fastapi.testclient import TestClient

from steward.app import Steward
from steward.catalog.sync import sync
from steward.quality.history import alert, latest, record_results
from steward.quality.models import CheckResult
from tests.quality.conftest import make_shop


def result(name: str, status: str, failures: int) -> CheckResult:
    return CheckResult(
        name=name,
        dataset="lake.shop.orders",
        column="order_id",
        kind=name.split("(")[0],
        severity="error",
        status=status,  # type: ignore[arg-type]
        failures=failures,
        observed=failures,
        threshold="> 0",
        message="",
        how="aggregate scan",
    )


def test_each_check_shows_its_latest_result_and_flapping_ones_are_flagged(
    steward: Steward, client: TestClient
) -> None:
    make_shop(steward)
    sync(steward.store, steward.source("lake"))
    for status in ("pass", "fail", "pass", "fail", "pass"):
        record_results(
            steward.store,
            [
                result("unique(order_id)", status, 0 if status == "pass" else 2),
                result("not_null(order_id)", "fail", 1),
            ],
        )
    with steward.store.read() as conn:
        checks = {c["check"]: c for c in latest(conn, "lake.shop.orders")}
    assert checks["unique(order_id)"]["status"] == "pass"
    assert checks["unique(order_id)"]["recent"] == ["pass", "fail", "pass", "fail", "pass"]
    assert checks["unique(order_id)"]["flapping"] is True
    assert checks["not_null(order_id)"]["flapping"] is False
    assert checks["not_null(order_id)"]["failures"] == 1

    answer = client.get("/api/v1/datasets/lake.shop.orders")
    assert answer.status_code == 200, answer.text
    page = answer.json()
    shown = {c["check"]: c for c in page["quality"]}
    assert shown == {k: checks[k] for k in shown}
    assert set(shown) == {"unique(order_id)", "not_null(order_id)"}


def test_quality_run_alerts_once_per_change_with_its_state_in_the_store(
    steward: Steward,
) -> None:
    from tests.quality.test_alerts import Receiver

    receiver = Receiver()
    try:
        settings = steward.settings.model_copy(
            update={
                "quality_alertmanager_url": receiver.url,
                "quality_webhook_url": f"{receiver.url}/hook",
            }
        )
        for status in ("fail", "fail", "pass"):
            missed = alert(steward.store, [result("unique(order_id)", status, 2)], settings)
            assert missed == []
    finally:
        receiver.close()
    posts = receiver.bodies("/api/v2/alerts")
    alerts = [a for body in posts for a in body]
    assert len(alerts) == 2  # one firing, one resolved
    assert alerts[0]["labels"]["check"] == "unique(order_id)"
    assert "endsAt" in alerts[1]
    assert len(receiver.bodies("/hook")) == 2
