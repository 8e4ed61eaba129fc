"""lineage: the raw log keeps who posted each event; a cursor for the normaliser; runs' poster

Revision ID: 0016
Revises: 0015

Ingest now acknowledges an event once its raw row and audit record are durable, and a
normaliser builds the graph from `lineage_events` behind it. The raw row keeps the poster
(user, groups, token id) and the seq of the `lineage.ingest` audit record covering it;
`lineage_cursor` holds the last raw id applied. Every event stored before this migration
was applied at ingest, so the cursor starts at the newest one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE ADD COLUMN on both backends (no batch copy of referenced tables).
    with op.batch_alter_table("lineage_events") as batch:
        batch.add_column(sa.Column("principal_user", sa.Text(), nullable=True))
        batch.add_column(sa.Column("principal_groups", sa.Text(), nullable=True))
        batch.add_column(sa.Column("principal_token", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("audit_seq", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("apply_error", sa.Text(), nullable=True))
    op.create_index("ix_lineage_events_audit_seq", "lineage_events", ["audit_seq"])
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("principal_user", sa.Text(), nullable=True))
        batch.add_column(sa.Column("principal_groups", sa.Text(), nullable=True))
        batch.add_column(sa.Column("principal_token", sa.String(length=32), nullable=True))
    op.create_table(
        "lineage_cursor",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("applied_id", sa.BigInteger(), nullable=False),
        sa.Column("applied_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_lineage_cursor"),
    )
    # The one row exists from the start, so batches lock it and never race to create it.
    op.execute(
        "INSERT INTO lineage_cursor (id, applied_id)"
        " SELECT 1, COALESCE(MAX(id), 0) FROM lineage_events"
    )


def downgrade() -> None:
    op.drop_table("lineage_cursor")
    # Plain ALTER TABLE DROP COLUMN (SQLite 3.35+): a batch copy of `runs` would drop the
    # table that run_states and run_io reference, which SQLite's foreign keys refuse.
    for column in ("principal_token", "principal_groups", "principal_user"):
        op.drop_column("runs", column)
    op.drop_index("ix_lineage_events_audit_seq", table_name="lineage_events")
    for column in (
        "apply_error",
        "audit_seq",
        "principal_token",
        "principal_groups",
        "principal_user",
    ):
        op.drop_column("lineage_events", column)
