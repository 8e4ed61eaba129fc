"""lineage: facets each run reported about a dataset, and the parent job and root of a run

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("parent_job_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("root_run_id", sa.String(length=36), nullable=True))
        batch.add_column(sa.Column("root_job_id", sa.Integer(), nullable=True))
    op.create_index("ix_runs_parent_run_id", "runs", ["parent_run_id"])
    op.create_index("ix_runs_parent_job_id", "runs", ["parent_job_id"])
    op.create_index("ix_runs_root_run_id", "runs", ["root_run_id"])
    op.create_table(
        "dataset_run_facets",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=7), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=True),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("event_time", sa.DateTime(), nullable=False),
        sa.Column("facet", _JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name="fk_dataset_run_facets_dataset_id_datasets"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_dataset_run_facets"),
        sa.UniqueConstraint(
            "run_id",
            "dataset_id",
            "direction",
            "name",
            name="uq_dataset_run_facets_run_id_dataset_id_direction_name",
        ),
    )
    op.create_index(
        "ix_dataset_run_facets_latest",
        "dataset_run_facets",
        ["dataset_id", "name", "event_time"],
    )
    # Runs stored before this migration keep their parent in `facets.parent`: fill the
    # columns from it so children of old runs are found too.
    _backfill_parents()


def _backfill_parents() -> None:
    conn = op.get_bind()
    runs = sa.table(
        "runs",
        sa.column("run_id", sa.String),
        sa.column("facets", _JSON),
        sa.column("parent_run_id", sa.String),
        sa.column("parent_job_id", sa.Integer),
        sa.column("root_run_id", sa.String),
        sa.column("root_job_id", sa.Integer),
    )
    jobs = sa.table(
        "jobs", sa.column("id", sa.Integer), sa.column("namespace_id"), sa.column("name")
    )
    namespaces = sa.table("namespaces", sa.column("id", sa.Integer), sa.column("name"))
    ids = {
        (ns, name): job_id
        for job_id, ns, name in conn.execute(
            sa.select(jobs.c.id, namespaces.c.name, jobs.c.name).join(
                namespaces, namespaces.c.id == jobs.c.namespace_id
            )
        )
    }
    rows = conn.execute(
        sa.select(runs.c.run_id, runs.c.facets).where(runs.c.parent_run_id.is_not(None))
    ).all()
    for run_id, facets in rows:
        parent = (facets or {}).get("parent") if isinstance(facets, dict) else None
        if not isinstance(parent, dict):
            continue
        job = parent.get("job") or {}
        root = parent.get("root") or {}
        values = {
            "parent_job_id": ids.get((job.get("namespace"), job.get("name"))),
            "root_run_id": (root.get("run") or {}).get("runId"),
            "root_job_id": ids.get(
                ((root.get("job") or {}).get("namespace"), (root.get("job") or {}).get("name"))
            ),
        }
        if any(v is not None for v in values.values()):
            conn.execute(runs.update().where(runs.c.run_id == run_id).values(**values))


def downgrade() -> None:
    op.drop_index("ix_dataset_run_facets_latest", table_name="dataset_run_facets")
    op.drop_table("dataset_run_facets")
    op.drop_index("ix_runs_root_run_id", table_name="runs")
    op.drop_index("ix_runs_parent_job_id", table_name="runs")
    op.drop_index("ix_runs_parent_run_id", table_name="runs")
    # Plain ALTER TABLE DROP COLUMN (SQLite 3.35+): a batch copy of `runs` would drop the
    # table that run_states and run_io reference, which SQLite's foreign keys refuse.
    for column in ("root_job_id", "root_run_id", "parent_job_id"):
        op.drop_column("runs", column)
