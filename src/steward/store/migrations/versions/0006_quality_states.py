"""quality states: each check's numbers per Iceberg snapshot, for incremental gates

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quality_states",
        sa.Column("dataset", sa.Text(), nullable=False),
        sa.Column("snapshot_id", sa.BigInteger(), nullable=False),
        sa.Column("check_key", sa.String(length=64), nullable=False),
        sa.Column("numbers", sa.Text(), nullable=False),
        sa.Column("parent_snapshot_id", sa.BigInteger(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("dataset", "snapshot_id", "check_key", name="pk_quality_states"),
    )


def downgrade() -> None:
    op.drop_table("quality_states")
