"""source authority: what a source states of its tables, and column identity for annotations

`catalog_entries.stated` keeps what the source stated (columns with their Iceberg field
ids, description, symlinks) apart from what OpenLineage events say, and
`catalog_annotations.field_id` binds a tag or description to a column's field id.
Every entry's fingerprint is cleared, so the next `steward catalog sync` reloads each
table and records what its source states.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("catalog_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stated", _JSON, nullable=True))
    with op.batch_alter_table("catalog_annotations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("field_id", sa.Integer(), nullable=True))
    # The next sync loads every table again, recording what its source states.
    op.execute(sa.text("UPDATE catalog_entries SET fingerprint = NULL"))


def downgrade() -> None:
    with op.batch_alter_table("catalog_annotations", schema=None) as batch_op:
        batch_op.drop_column("field_id")
    with op.batch_alter_table("catalog_entries", schema=None) as batch_op:
        batch_op.drop_column("stated")
