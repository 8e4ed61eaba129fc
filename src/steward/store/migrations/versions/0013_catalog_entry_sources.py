"""catalog: several sources may state one dataset (`catalog_entry_sources`)

A dbt project and the warehouse it builds into name the same relation; each source's
statement of it is a row of `catalog_entry_sources`, and `catalog_entries` keeps one
row per dataset, what its sources state together. Every existing entry becomes its
source's row; `catalog_tests` records which source declared each test.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "catalog_entry_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("source_type", sa.String(length=16), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=True),
        sa.Column("definition", sa.Text(), nullable=True),
        sa.Column("properties", _JSON, nullable=False),
        sa.Column("stated", _JSON, nullable=True),
        sa.Column("first_seen_at", sa.DateTime(), nullable=False),
        sa.Column("synced_at", sa.DateTime(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name="fk_catalog_entry_sources_dataset_id_datasets"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_catalog_entry_sources"),
        sa.UniqueConstraint("name", name="uq_catalog_entry_sources_name"),
        sa.UniqueConstraint(
            "source", "dataset_id", name="uq_catalog_entry_sources_source_dataset_id"
        ),
    )
    op.create_index("ix_catalog_entry_sources_dataset_id", "catalog_entry_sources", ["dataset_id"])
    with op.batch_alter_table("catalog_tests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.Text(), nullable=True))
    # Every entry so far is its one source's statement of the dataset.
    op.execute(
        sa.text(
            "INSERT INTO catalog_entry_sources (dataset_id, source, source_type, name, kind,"
            " fingerprint, definition, properties, stated, first_seen_at, synced_at, deleted_at)"
            " SELECT e.dataset_id, e.source, COALESCE(s.type, 'unknown'), e.name, e.kind,"
            " e.fingerprint, e.definition, e.properties, e.stated, e.first_seen_at,"
            " e.synced_at, e.deleted_at"
            " FROM catalog_entries e LEFT JOIN catalog_sources s ON s.name = e.source"
        )
    )
    op.execute(
        sa.text(
            "UPDATE catalog_tests SET source = (SELECT e.source FROM catalog_entries e"
            " WHERE e.dataset_id = catalog_tests.dataset_id)"
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("catalog_tests", schema=None) as batch_op:
        batch_op.drop_column("source")
    op.drop_index("ix_catalog_entry_sources_dataset_id", table_name="catalog_entry_sources")
    op.drop_table("catalog_entry_sources")
