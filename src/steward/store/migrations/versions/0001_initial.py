"""initial lineage store and api tokens

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-24 15:19:55.057724
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_id", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_name", sa.Text(), nullable=False),
        sa.Column(
            "groups",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
        sa.UniqueConstraint("token_id", name=op.f("uq_api_tokens_token_id")),
    )
    op.create_table(
        "lineage_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_hash", sa.String(length=64), nullable=False),
        sa.Column("event_kind", sa.String(length=16), nullable=False),
        sa.Column("event_type", sa.String(length=16), nullable=True),
        sa.Column("event_time", sa.DateTime(), nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=True),
        sa.Column("job_namespace", sa.Text(), nullable=True),
        sa.Column("job_name", sa.Text(), nullable=True),
        sa.Column("producer", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lineage_events")),
        sa.UniqueConstraint("event_hash", name=op.f("uq_lineage_events_event_hash")),
    )
    with op.batch_alter_table("lineage_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lineage_events_event_time"), ["event_time"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_lineage_events_run_id"), ["run_id"], unique=False)

    op.create_table(
        "namespaces",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_namespaces")),
        sa.UniqueConstraint("name", name=op.f("uq_namespaces_name")),
    )
    op.create_table(
        "datasets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("namespace_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("source_name", sa.Text(), nullable=True),
        sa.Column("source_uri", sa.Text(), nullable=True),
        sa.Column("lifecycle_state", sa.String(length=32), nullable=True),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.Column("current_version_id", sa.Integer(), nullable=True),
        sa.Column(
            "facets",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["namespace_id"], ["namespaces.id"], name=op.f("fk_datasets_namespace_id_namespaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_datasets")),
        sa.UniqueConstraint("namespace_id", "name", name=op.f("uq_datasets_namespace_id_name")),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("namespace_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("job_type", sa.Text(), nullable=True),
        sa.Column("integration", sa.Text(), nullable=True),
        sa.Column("processing_type", sa.Text(), nullable=True),
        sa.Column("source_code_location", sa.Text(), nullable=True),
        sa.Column(
            "facets",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("current_version_id", sa.Integer(), nullable=True),
        sa.Column("latest_run_id", sa.String(length=36), nullable=True),
        sa.Column("io_run_id", sa.String(length=36), nullable=True),
        sa.Column("io_time", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["namespace_id"], ["namespaces.id"], name=op.f("fk_jobs_namespace_id_namespaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.UniqueConstraint("namespace_id", "name", name=op.f("uq_jobs_namespace_id_name")),
    )
    op.create_table(
        "column_edges",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("in_dataset_id", sa.Integer(), nullable=False),
        sa.Column("in_field", sa.Text(), nullable=False),
        sa.Column("out_dataset_id", sa.Integer(), nullable=False),
        sa.Column("out_field", sa.Text(), nullable=True),
        sa.Column(
            "transformations",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("transformation_description", sa.Text(), nullable=True),
        sa.Column("transformation_type", sa.Text(), nullable=True),
        sa.Column("valid_from", sa.DateTime(), nullable=False),
        sa.Column("valid_to", sa.DateTime(), nullable=True),
        sa.Column("run_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["in_dataset_id"], ["datasets.id"], name=op.f("fk_column_edges_in_dataset_id_datasets")
        ),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_column_edges_job_id_jobs")),
        sa.ForeignKeyConstraint(
            ["out_dataset_id"],
            ["datasets.id"],
            name=op.f("fk_column_edges_out_dataset_id_datasets"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_column_edges")),
    )
    with op.batch_alter_table("column_edges", schema=None) as batch_op:
        batch_op.create_index(
            "ix_column_edges_by_input", ["in_dataset_id", "in_field", "valid_to"], unique=False
        )
        batch_op.create_index(
            "ix_column_edges_by_job", ["job_id", "out_dataset_id", "valid_to"], unique=False
        )
        batch_op.create_index(
            "ix_column_edges_by_output", ["out_dataset_id", "out_field", "valid_to"], unique=False
        )

    op.create_table(
        "column_lineage_heads",
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("out_dataset_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=True),
        sa.Column("event_time", sa.DateTime(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_column_lineage_heads_job_id_jobs")
        ),
        sa.ForeignKeyConstraint(
            ["out_dataset_id"],
            ["datasets.id"],
            name=op.f("fk_column_lineage_heads_out_dataset_id_datasets"),
        ),
        sa.PrimaryKeyConstraint("job_id", "out_dataset_id", name=op.f("pk_column_lineage_heads")),
    )
    op.create_table(
        "dataset_owners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name=op.f("fk_dataset_owners_dataset_id_datasets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_owners")),
    )
    with op.batch_alter_table("dataset_owners", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dataset_owners_dataset_id"), ["dataset_id"], unique=False
        )

    op.create_table(
        "dataset_symlinks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("namespace", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name=op.f("fk_dataset_symlinks_dataset_id_datasets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_symlinks")),
    )
    with op.batch_alter_table("dataset_symlinks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dataset_symlinks_dataset_id"), ["dataset_id"], unique=False
        )
        batch_op.create_index("ix_dataset_symlinks_identity", ["namespace", "name"], unique=False)

    op.create_table(
        "dataset_tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.Text(), nullable=True),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name=op.f("fk_dataset_tags_dataset_id_datasets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_tags")),
    )
    with op.batch_alter_table("dataset_tags", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dataset_tags_dataset_id"), ["dataset_id"], unique=False
        )

    op.create_table(
        "dataset_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("schema_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name=op.f("fk_dataset_versions_dataset_id_datasets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_versions")),
        sa.UniqueConstraint(
            "dataset_id", "schema_hash", name=op.f("uq_dataset_versions_dataset_id_schema_hash")
        ),
    )
    op.create_table(
        "job_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column(
            "inputs",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "outputs",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("source_code_location", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_job_versions_job_id_jobs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_versions")),
        sa.UniqueConstraint("job_id", "version", name=op.f("uq_job_versions_job_id_version")),
    )
    op.create_table(
        "lineage_edges",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=6), nullable=False),
        sa.Column("valid_from", sa.DateTime(), nullable=False),
        sa.Column("valid_to", sa.DateTime(), nullable=True),
        sa.Column("run_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name=op.f("fk_lineage_edges_dataset_id_datasets")
        ),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_lineage_edges_job_id_jobs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lineage_edges")),
    )
    with op.batch_alter_table("lineage_edges", schema=None) as batch_op:
        batch_op.create_index(
            "ix_lineage_edges_by_dataset",
            ["dataset_id", "direction", "valid_to", "job_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_lineage_edges_by_job",
            ["job_id", "direction", "valid_to", "dataset_id"],
            unique=False,
        )

    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("job_version_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=True),
        sa.Column("state_time", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("nominal_start_time", sa.DateTime(), nullable=True),
        sa.Column("nominal_end_time", sa.DateTime(), nullable=True),
        sa.Column("parent_run_id", sa.String(length=36), nullable=True),
        sa.Column(
            "facets",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_runs_job_id_jobs")),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_runs")),
    )
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_runs_job_id"), ["job_id"], unique=False)

    op.create_table(
        "dataset_fields",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["dataset_versions.id"],
            name=op.f("fk_dataset_fields_version_id_dataset_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_fields")),
    )
    with op.batch_alter_table("dataset_fields", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dataset_fields_version_id"), ["version_id"], unique=False
        )

    op.create_table(
        "run_io",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=6), nullable=False),
        sa.Column("dataset_version_id", sa.Integer(), nullable=True),
        sa.Column("event_time", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name=op.f("fk_run_io_dataset_id_datasets")
        ),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name=op.f("fk_run_io_run_id_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_io")),
        sa.UniqueConstraint(
            "run_id", "dataset_id", "direction", name=op.f("uq_run_io_run_id_dataset_id_direction")
        ),
    )
    with op.batch_alter_table("run_io", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_run_io_dataset_id"), ["dataset_id"], unique=False)

    op.create_table(
        "run_states",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("event_time", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.run_id"], name=op.f("fk_run_states_run_id_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_states")),
    )
    with op.batch_alter_table("run_states", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_run_states_run_id"), ["run_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("run_states", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_run_states_run_id"))

    op.drop_table("run_states")
    with op.batch_alter_table("run_io", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_run_io_dataset_id"))

    op.drop_table("run_io")
    with op.batch_alter_table("dataset_fields", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_fields_version_id"))

    op.drop_table("dataset_fields")
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_runs_job_id"))

    op.drop_table("runs")
    with op.batch_alter_table("lineage_edges", schema=None) as batch_op:
        batch_op.drop_index("ix_lineage_edges_by_job")
        batch_op.drop_index("ix_lineage_edges_by_dataset")

    op.drop_table("lineage_edges")
    op.drop_table("job_versions")
    op.drop_table("dataset_versions")
    with op.batch_alter_table("dataset_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_tags_dataset_id"))

    op.drop_table("dataset_tags")
    with op.batch_alter_table("dataset_symlinks", schema=None) as batch_op:
        batch_op.drop_index("ix_dataset_symlinks_identity")
        batch_op.drop_index(batch_op.f("ix_dataset_symlinks_dataset_id"))

    op.drop_table("dataset_symlinks")
    with op.batch_alter_table("dataset_owners", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_owners_dataset_id"))

    op.drop_table("dataset_owners")
    op.drop_table("column_lineage_heads")
    with op.batch_alter_table("column_edges", schema=None) as batch_op:
        batch_op.drop_index("ix_column_edges_by_output")
        batch_op.drop_index("ix_column_edges_by_job")
        batch_op.drop_index("ix_column_edges_by_input")

    op.drop_table("column_edges")
    op.drop_table("jobs")
    op.drop_table("datasets")
    op.drop_table("namespaces")
    with op.batch_alter_table("lineage_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lineage_events_run_id"))
        batch_op.drop_index(batch_op.f("ix_lineage_events_event_time"))

    op.drop_table("lineage_events")
    op.drop_table("api_tokens")
