"""schema: every schema version of a dataset, and deprecations with their sunset

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "schema_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("schema_hash", sa.String(length=64), nullable=False),
        sa.Column("fields", _JSON, nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=True),
        sa.Column("lineage_version_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name="fk_schema_versions_dataset_id_datasets"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_schema_versions"),
        sa.UniqueConstraint("dataset_id", "version", name="uq_schema_versions_dataset_id_version"),
    )
    op.create_index(
        "ix_schema_versions_lineage_version_id", "schema_versions", ["lineage_version_id"]
    )
    op.create_table(
        "schema_deprecations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.Text(), nullable=False),
        sa.Column("sunset", sa.Date(), nullable=False),
        sa.Column("replacement", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name="fk_schema_deprecations_dataset_id_datasets"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_schema_deprecations"),
        sa.UniqueConstraint("dataset_id", "field", name="uq_schema_deprecations_dataset_id_field"),
    )


def downgrade() -> None:
    op.drop_table("schema_deprecations")
    op.drop_index("ix_schema_versions_lineage_version_id", table_name="schema_versions")
    op.drop_table("schema_versions")
