"""audit: the dashboard's per-day rollups and an index; on PostgreSQL, the report as views

Revision ID: 0015
Revises: 0014

`steward_audit_daily` (queries per user per day, by decision) and `steward_audit_access`
(one row per record and column read) are what a Superset dataset reads (docs/audit.md).
They are PostgreSQL only; any store can write the same tables as Parquet with
`steward audit export-report`. The SQL is frozen here, as a migration must be.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

DAILY = """
CREATE VIEW steward_audit_daily AS
SELECT
    CAST(recorded_at AS DATE) AS day,
    actor_user AS "user",
    COUNT(*) AS queries,
    COUNT(*) FILTER (WHERE decision = 'allowed') AS allowed,
    COUNT(*) FILTER (WHERE decision = 'masked') AS masked,
    COUNT(*) FILTER (WHERE decision = 'filtered') AS filtered,
    COUNT(*) FILTER (WHERE decision IN ('denied', 'failed')) AS denied
FROM audit_records
WHERE action = 'query'
GROUP BY CAST(recorded_at AS DATE), actor_user
"""

ACCESS = """
CREATE VIEW steward_audit_access AS
SELECT
    r.seq,
    r.recorded_at AS "time",
    CAST(r.recorded_at AS DATE) AS day,
    r.actor_user AS "user",
    r.action,
    COALESCE(a.dataset, r.dataset) AS dataset,
    a."column",
    r.decision,
    r.policy
FROM audit_records AS r
LEFT JOIN audit_access AS a ON a.seq = r.seq
"""


def upgrade() -> None:
    op.create_table(
        "audit_rollup_daily",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("user", sa.Text(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("queries", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "user", "decision", name="pk_audit_rollup_daily"),
    )
    op.create_table(
        "audit_rollup_reads",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("user", sa.Text(), nullable=False),
        sa.Column("dataset", sa.Text(), nullable=False),
        sa.Column("column", sa.Text(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("queries", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day", "user", "dataset", "column", "decision", name="pk_audit_rollup_reads"
        ),
    )
    op.create_index("ix_audit_rollup_reads_dataset", "audit_rollup_reads", ["dataset", "day"])
    op.create_table(
        "audit_rollup_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_rollup_state"),
    )
    # The cursor's one row exists from the start: concurrent refreshes lock it, never race
    # to create it.
    op.execute("INSERT INTO audit_rollup_state (id, last_seq) VALUES (1, 0)")
    op.create_index("ix_audit_records_decision_seq", "audit_records", ["decision", "seq"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(DAILY)
        op.execute(ACCESS)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP VIEW IF EXISTS steward_audit_access")
        op.execute("DROP VIEW IF EXISTS steward_audit_daily")
    op.drop_index("ix_audit_records_decision_seq", table_name="audit_records")
    op.drop_table("audit_rollup_state")
    op.drop_index("ix_audit_rollup_reads_dataset", table_name="audit_rollup_reads")
    op.drop_table("audit_rollup_reads")
    op.drop_table("audit_rollup_daily")
