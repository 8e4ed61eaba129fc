"""api token scopes and attributes: what a token may do beyond reading, and who it speaks for

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    # Tokens made before this migration hold no scope and no attribute.
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("scopes", _JSON, nullable=False, server_default=sa.text("'[]'"))
        )
        batch_op.add_column(
            sa.Column("attributes", _JSON, nullable=False, server_default=sa.text("'{}'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("attributes")
        batch_op.drop_column("scopes")
