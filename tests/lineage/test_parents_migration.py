"""Runs stored before migration 0012 keep their parent in `facets.parent` only: the
migration fills the parent job and root columns from it, so old runs have children too."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import command

from steward.app import Steward
from steward.config import Settings
from steward.lineage.hierarchy import job_answer, run_answer
from steward.store.database import alembic_config

DAG_RUN = "00000000-0000-4000-8000-000000000001"
TASK_RUN = "00000000-0000-4000-8000-000000000002"


def test_runs_stored_before_0012_find_their_children(tmp_path: Path) -> None:
    steward = Steward(Settings(home=tmp_path / "home"))
    config = alembic_config(steward.store.engine.url.render_as_string(hide_password=False))
    with steward.store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0010")
    meta = sa.MetaData()
    namespaces, jobs, runs = (
        sa.Table(name, meta, autoload_with=steward.store.engine)
        for name in ("namespaces", "jobs", "runs")
    )
    when = datetime(2024, 5, 1, 9)
    parent = {
        "run": {"runId": DAG_RUN},
        "job": {"namespace": "airflow", "name": "nightly"},
        "root": {"run": {"runId": DAG_RUN}, "job": {"namespace": "airflow", "name": "nightly"}},
    }
    with steward.store.engine.begin() as conn:
        conn.execute(namespaces.insert().values(id=1, name="airflow", created_at=when))
        for job_id, name in ((1, "nightly"), (2, "nightly.copy")):
            conn.execute(
                jobs.insert().values(
                    id=job_id,
                    namespace_id=1,
                    name=name,
                    created_at=when,
                    updated_at=when,
                    facets={},
                )
            )
        conn.execute(
            runs.insert(),
            [
                {
                    "run_id": DAG_RUN,
                    "job_id": 1,
                    "created_at": when,
                    "updated_at": when,
                    "parent_run_id": None,
                    "facets": {},
                },
                {
                    "run_id": TASK_RUN,
                    "job_id": 2,
                    "created_at": when,
                    "updated_at": when,
                    "parent_run_id": DAG_RUN,
                    "facets": {"parent": parent},
                },
            ],
        )
    steward.upgrade()
    with steward.store.read() as conn:
        assert [c["runId"] for c in run_answer(conn, DAG_RUN)["children"]] == [TASK_RUN]
        assert run_answer(conn, TASK_RUN)["root"]["runId"] == DAG_RUN
        assert [c["name"] for c in job_answer(conn, "airflow", "nightly")["children"]] == [
            "nightly.copy"
        ]
    steward.close()
