"""Principals for jobs: the token that posted a run, or a `[[lineage.principals]]` mapping,
shown on the API's runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from steward.api import create_app
from steward.app import Steward
from steward.config import load_settings
from steward.errors import ConfigError
from steward.identity.tokens import create_token
from tests.openlineage_events import dataset, run_event

MAPPINGS = """\
[[lineage.principals]]
namespace = "airflow-*"
user = "svc-airflow"
groups = ["etl", "platform"]

[[lineage.principals]]
producer = "*spark*"
user = "svc-spark"
"""


def _post_run(steward: Steward, secret: str, namespace: str) -> str:
    event = run_event(
        "load_orders",
        namespace=namespace,
        inputs=[dataset("pg", "shop.orders")],
        outputs=[dataset("lake", "orders")],
    )
    with TestClient(create_app(steward)) as http:
        http.headers["Authorization"] = f"Bearer {secret}"
        assert http.post("/api/v1/lineage", json=event).status_code == 201
    return str(event["run"]["runId"])


def _runs(steward: Steward, secret: str, namespace: str) -> list[dict[str, object]]:
    with TestClient(create_app(steward)) as http:
        http.headers["Authorization"] = f"Bearer {secret}"
        answer = http.get(f"/api/v1/jobs/{namespace}/load_orders/runs")
        assert answer.status_code == 200, answer.text
        runs: list[dict[str, object]] = answer.json()["runs"]
        return runs


def test_runs_show_the_poster_and_a_mapping_before_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STEWARD_HOME", str(tmp_path))
    (tmp_path / "steward.toml").write_text(MAPPINGS)
    steward = Steward(load_settings())
    steward.upgrade()
    try:
        airflow = create_token(
            steward.store, user="ana", groups=["analysts"], scopes=["lineage:write"]
        ).secret
        posted = _post_run(steward, airflow, "etl")
        mapped = _post_run(steward, airflow, "airflow-prod")
        (run,) = _runs(steward, airflow, "etl")
        assert run["runId"] == posted
        assert run["principal"] == {
            "user": "ana",
            "groups": ["analysts"],
            "source": "poster",
            "mapping": None,
        }
        (other,) = _runs(steward, airflow, "airflow-prod")
        assert other["runId"] == mapped
        assert other["principal"] == {
            "user": "svc-airflow",
            "groups": ["etl", "platform"],
            "source": "mapping",
            "mapping": "lineage_principals[0]",
        }
    finally:
        steward.close()


def test_a_mapping_that_matches_nothing_is_refused_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STEWARD_HOME", str(tmp_path))
    (tmp_path / "steward.toml").write_text('[[lineage.principals]]\nuser = "svc"\n')
    with pytest.raises(ConfigError, match=r"lineage_principals\.0.*namespace.*producer"):
        load_settings()
    (tmp_path / "steward.toml").write_text("[lineage]\nprincipal = []\n")
    with pytest.raises(ConfigError, match=r"\[lineage\] has unknown key\(s\) principal"):
        load_settings()
