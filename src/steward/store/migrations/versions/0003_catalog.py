"""catalog: entries, sources, annotations, tests, search index

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

# The search document's text columns, and their weights (name first, owners last).
_FTS_COLUMNS = ("name", "description", "columns", "tags", "owners", "source", "domain")


def upgrade() -> None:
    op.create_table(
        "catalog_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=True),
        sa.Column("definition", sa.Text(), nullable=True),
        sa.Column("properties", _JSON, nullable=False),
        sa.Column("first_seen_at", sa.DateTime(), nullable=False),
        sa.Column("synced_at", sa.DateTime(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name="fk_catalog_entries_dataset_id_datasets"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_catalog_entries"),
        sa.UniqueConstraint("dataset_id", name="uq_catalog_entries_dataset_id"),
        sa.UniqueConstraint("name", name="uq_catalog_entries_name"),
    )
    op.create_index("ix_catalog_entries_source", "catalog_entries", ["source"])
    op.create_table(
        "catalog_sources",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("synced_at", sa.DateTime(), nullable=False),
        sa.Column("tables", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_catalog_sources"),
    )
    op.create_table(
        "catalog_annotations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.Text(), nullable=False),
        sa.Column("attribute", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=True),
        sa.Column("role", sa.Text(), nullable=True),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("author", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name="fk_catalog_annotations_dataset_id_datasets"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_catalog_annotations"),
    )
    op.create_index(
        "ix_catalog_annotations_lookup",
        "catalog_annotations",
        ["dataset_id", "attribute", "field"],
    )
    op.create_index("ix_catalog_annotations_value", "catalog_annotations", ["attribute", "value"])
    op.create_table(
        "catalog_tests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("unique_id", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name="fk_catalog_tests_dataset_id_datasets"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_catalog_tests"),
    )
    op.create_index("ix_catalog_tests_dataset_id", "catalog_tests", ["dataset_id"])
    op.create_table(
        "catalog_search",
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("exact_name", sa.Text(), nullable=False),
        sa.Column("short_name", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("columns", sa.Text(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("owners", sa.Text(), nullable=False),
        sa.Column("domain", sa.Text(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("indexed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name="fk_catalog_search_dataset_id_datasets"
        ),
        sa.PrimaryKeyConstraint("dataset_id", name="pk_catalog_search"),
    )
    op.create_index("ix_catalog_search_exact_name", "catalog_search", ["exact_name"])
    op.create_index("ix_catalog_search_short_name", "catalog_search", ["short_name"])
    op.create_table(
        "catalog_search_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_dataset_id", sa.Integer(), nullable=False),
        sa.Column("last_updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_catalog_search_state"),
    )
    op.create_index("ix_datasets_updated_at", "datasets", ["updated_at"])
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_full_text()
    else:
        _postgresql_full_text()


def _sqlite_full_text() -> None:
    columns = ", ".join(_FTS_COLUMNS)
    new = ", ".join(f"new.{c}" for c in _FTS_COLUMNS)
    old = ", ".join(f"old.{c}" for c in _FTS_COLUMNS)
    op.execute(
        f"CREATE VIRTUAL TABLE catalog_search_fts USING fts5({columns}, "
        "content='catalog_search', content_rowid='dataset_id', "
        "tokenize=\"unicode61 remove_diacritics 2 tokenchars '-'\")"
    )
    op.execute(
        "CREATE TRIGGER catalog_search_ai AFTER INSERT ON catalog_search BEGIN "
        f"INSERT INTO catalog_search_fts(rowid, {columns}) VALUES (new.dataset_id, {new}); END"
    )
    op.execute(
        "CREATE TRIGGER catalog_search_ad AFTER DELETE ON catalog_search BEGIN "
        f"INSERT INTO catalog_search_fts(catalog_search_fts, rowid, {columns}) "
        f"VALUES ('delete', old.dataset_id, {old}); END"
    )
    op.execute(
        "CREATE TRIGGER catalog_search_au AFTER UPDATE ON catalog_search BEGIN "
        f"INSERT INTO catalog_search_fts(catalog_search_fts, rowid, {columns}) "
        f"VALUES ('delete', old.dataset_id, {old}); "
        f"INSERT INTO catalog_search_fts(rowid, {columns}) VALUES (new.dataset_id, {new}); END"
    )


def _postgresql_full_text() -> None:
    # 'simple' keeps identifiers whole (no stemming of table names); separators in names
    # become spaces so `orders` finds `lake.sales.orders`.
    def part(column: str, weight: str) -> str:
        text = f"regexp_replace(coalesce({column}, ''), '[._/:]', ' ', 'g')"
        return f"setweight(to_tsvector('simple', {text}), '{weight}')"

    document = " || ".join(
        part(c, w) for c, w in zip(_FTS_COLUMNS[:5], ("A", "B", "B", "C", "D"), strict=True)
    )
    op.execute(
        f"ALTER TABLE catalog_search ADD COLUMN document tsvector "
        f"GENERATED ALWAYS AS ({document}) STORED"
    )
    op.execute("CREATE INDEX ix_catalog_search_document ON catalog_search USING gin (document)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS catalog_search_fts")
    op.drop_index("ix_datasets_updated_at", "datasets")
    for table in (
        "catalog_search_state",
        "catalog_search",
        "catalog_tests",
        "catalog_annotations",
        "catalog_sources",
        "catalog_entries",
    ):
        op.drop_table(table)
