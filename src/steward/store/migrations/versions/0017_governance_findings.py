"""governance: what `steward lineage check` found, raised once and resolved when fixed

Revision ID: 0017
Revises: 0016

One row per finding key (evaluated dataset, job, table and column read, kind), with the
run, rule and policy version it was last found with; `resolved_at` set when a later check
of the same dataset no longer finds it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "governance_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("job", sa.Text(), nullable=False),
        sa.Column("dataset", sa.Text(), nullable=False),
        sa.Column("column", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("principal", sa.Text(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_governance_findings"),
        sa.UniqueConstraint("key_hash", name="uq_governance_findings_key_hash"),
    )
    op.create_index("ix_governance_findings_target", "governance_findings", ["target"])


def downgrade() -> None:
    op.drop_index("ix_governance_findings_target", table_name="governance_findings")
    op.drop_table("governance_findings")
