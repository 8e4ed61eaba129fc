"""schema registry: schemas by global id, subject versions, compatibility and mode

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "registry_schemas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("schema_type", sa.String(length=16), nullable=False),
        sa.Column("schema_text", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("refs", _JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_schemas")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_registry_schemas_fingerprint")),
    )
    op.create_table(
        "registry_versions",
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("schema_id", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["schema_id"],
            ["registry_schemas.id"],
            name=op.f("fk_registry_versions_schema_id_registry_schemas"),
        ),
        sa.PrimaryKeyConstraint("subject", "version", name=op.f("pk_registry_versions")),
    )
    op.create_index(
        op.f("ix_registry_versions_schema_id"), "registry_versions", ["schema_id"], unique=False
    )
    op.create_table(
        "registry_references",
        sa.Column("schema_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["schema_id"],
            ["registry_schemas.id"],
            name=op.f("fk_registry_references_schema_id_registry_schemas"),
        ),
        sa.PrimaryKeyConstraint("schema_id", "name", name=op.f("pk_registry_references")),
    )
    op.create_index(
        op.f("ix_registry_references_subject_version"),
        "registry_references",
        ["subject", "version"],
        unique=False,
    )
    op.create_table(
        "registry_settings",
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("compatibility", sa.String(length=32), nullable=True),
        sa.Column("mode", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("subject", name=op.f("pk_registry_settings")),
    )


def downgrade() -> None:
    op.drop_table("registry_settings")
    op.drop_index(op.f("ix_registry_references_subject_version"), table_name="registry_references")
    op.drop_table("registry_references")
    op.drop_index(op.f("ix_registry_versions_schema_id"), table_name="registry_versions")
    op.drop_table("registry_versions")
    op.drop_table("registry_schemas")
