"""audit log: hash-chained records, access index, head, checkpoints, archives, export cursors

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
GENESIS = "0" * 64


def upgrade() -> None:
    op.create_table(
        "audit_records",
        sa.Column("seq", BigId, autoincrement=False, nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("actor_user", sa.Text(), nullable=True),
        sa.Column("actor_groups", sa.Text(), nullable=False),
        sa.Column("actor_token_id", sa.String(length=32), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("dataset", sa.Text(), nullable=True),
        sa.Column("columns", sa.Text(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("policy", sa.Text(), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_records")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_records_hash")),
    )
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_records_recorded_at"), ["recorded_at"])
        batch_op.create_index(batch_op.f("ix_audit_records_actor_user"), ["actor_user"])
        batch_op.create_index(batch_op.f("ix_audit_records_action"), ["action"])
        batch_op.create_index(batch_op.f("ix_audit_records_dataset"), ["dataset"])

    op.create_table(
        "audit_access",
        sa.Column("id", BigId, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("dataset", sa.Text(), nullable=False),
        sa.Column("column", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_access")),
    )
    with op.batch_alter_table("audit_access", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_access_seq"), ["seq"])
        batch_op.create_index("ix_audit_access_dataset_column", ["dataset", "column"])

    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.execute(sa.text(f"INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '{GENESIS}')"))

    op.create_table(
        "audit_checkpoints",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("signed_at", sa.DateTime(), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_checkpoints")),
    )
    op.create_table(
        "audit_archives",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("first_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("archived_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_archives")),
        sa.UniqueConstraint("last_seq", name=op.f("uq_audit_archives_last_seq")),
    )
    op.create_table(
        "audit_export_cursors",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_audit_export_cursors")),
    )


def downgrade() -> None:
    op.drop_table("audit_export_cursors")
    op.drop_table("audit_archives")
    op.drop_table("audit_checkpoints")
    op.drop_table("audit_head")
    with op.batch_alter_table("audit_access", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_access_dataset_column")
        batch_op.drop_index(batch_op.f("ix_audit_access_seq"))
    op.drop_table("audit_access")
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_records_dataset"))
        batch_op.drop_index(batch_op.f("ix_audit_records_action"))
        batch_op.drop_index(batch_op.f("ix_audit_records_actor_user"))
        batch_op.drop_index(batch_op.f("ix_audit_records_recorded_at"))
    op.drop_table("audit_records")
