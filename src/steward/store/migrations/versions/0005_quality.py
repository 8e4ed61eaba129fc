"""quality: check results with history, checks held in the catalog, alert state

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "quality_results",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("dataset", sa.Text(), nullable=False),
        sa.Column("check_name", sa.Text(), nullable=False),
        sa.Column("column_name", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("failures", sa.BigInteger(), nullable=True),
        sa.Column("observed", sa.Text(), nullable=True),
        sa.Column("threshold", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("how", sa.Text(), nullable=False),
        sa.Column("ran_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_quality_results"),
    )
    op.create_index("ix_quality_results_run_id", "quality_results", ["run_id"])
    op.create_index("ix_quality_results_check", "quality_results", ["dataset", "check_name", "id"])
    op.create_table(
        "quality_checks",
        sa.Column("dataset", sa.Text(), nullable=False),
        sa.Column("checks", sa.Text(), nullable=False),
        sa.Column("author", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("dataset", name="pk_quality_checks"),
    )
    op.create_table(
        "quality_alert_state",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_quality_alert_state"),
    )


def downgrade() -> None:
    op.drop_table("quality_alert_state")
    op.drop_table("quality_checks")
    op.drop_table("quality_results")
