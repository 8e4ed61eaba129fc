"""Every table Steward keeps, as SQLAlchemy Core. Migrations in `migrations/versions` build them.

Times are stored as naive UTC. Lineage edges carry a validity interval
(`valid_from`, `valid_to`): the current graph is the rows whose `valid_to` is NULL,
and the graph as of time T is the rows valid at T.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL wants 64 bits for event ids.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("token_id", sa.String(32), nullable=False, unique=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("user_name", sa.Text, nullable=False),
    sa.Column("groups", Json, nullable=False),
    sa.Column("is_admin", sa.Boolean, nullable=False, default=False),
    sa.Column("description", sa.Text),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("revoked_at", sa.DateTime),
    # Scopes beyond reading (`lineage:write`), a sorted list; attributes as {name: value}.
    sa.Column("scopes", Json, nullable=False, server_default=sa.text("'[]'")),
    sa.Column("attributes", Json, nullable=False, server_default=sa.text("'{}'")),
)

lineage_events = sa.Table(
    "lineage_events",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("event_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("event_kind", sa.String(16), nullable=False),
    sa.Column("event_type", sa.String(16)),
    sa.Column("event_time", sa.DateTime, nullable=False, index=True),
    sa.Column("run_id", sa.String(36), index=True),
    sa.Column("job_namespace", sa.Text),
    sa.Column("job_name", sa.Text),
    sa.Column("producer", sa.Text),
    sa.Column("received_at", sa.DateTime, nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    # The event's canonical JSON, compressed (`lineage.payload`: Zstandard; zlib before).
    sa.Column("payload", sa.LargeBinary, nullable=False),
    # Who posted it (migration 0016): the principal's user, groups (sorted JSON list) and
    # token id, and the `lineage.ingest` audit record that covers it. The id is the order of
    # arrival the normaliser applies events in.
    sa.Column("principal_user", sa.Text),
    sa.Column("principal_groups", sa.Text),
    sa.Column("principal_token", sa.String(32)),
    sa.Column("audit_seq", sa.BigInteger, index=True),
    # Why the normaliser could not apply the event (NULL: applied, or not yet reached).
    sa.Column("apply_error", sa.Text),
)

# How far the normaliser has built the graph from `lineage_events` (migration 0016): one
# row, `applied_id` the last raw id applied, written in the transaction of the batch that
# applied it, so a crash re-applies nothing and loses nothing.
lineage_cursor = sa.Table(
    "lineage_cursor",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("applied_id", sa.BigInteger, nullable=False),
    sa.Column("applied_at", sa.DateTime),
)

namespaces = sa.Table(
    "namespaces",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

datasets = sa.Table(
    "datasets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("namespace_id", sa.Integer, sa.ForeignKey("namespaces.id"), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("source_name", sa.Text),
    sa.Column("source_uri", sa.Text),
    sa.Column("lifecycle_state", sa.String(32)),
    sa.Column("deleted_at", sa.DateTime),
    sa.Column("current_version_id", sa.Integer),
    # Latest value of every dataset facet but `schema` and `columnLineage`, by facet name.
    sa.Column("facets", Json, nullable=False),
    sa.UniqueConstraint("namespace_id", "name"),
    sa.Index("ix_datasets_updated_at", "updated_at"),
)

dataset_versions = sa.Table(
    "dataset_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id"), nullable=False),
    sa.Column("schema_hash", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("run_id", sa.String(36)),
    sa.UniqueConstraint("dataset_id", "schema_hash"),
)

dataset_fields = sa.Table(
    "dataset_fields",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "version_id", sa.Integer, sa.ForeignKey("dataset_versions.id"), nullable=False, index=True
    ),
    sa.Column("ordinal", sa.Integer, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("type", sa.Text),
    sa.Column("description", sa.Text),
    # Nested fields (struct, array, map members): `path` is the dotted path from the top
    # (`address.city`), `parent_ordinal` the ordinal of the enclosing field in the same
    # version; both NULL for a top-level field (rows older than migration 0011 too).
    sa.Column("path", sa.Text),
    sa.Column("parent_ordinal", sa.Integer),
)

dataset_owners = sa.Table(
    "dataset_owners",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id"), nullable=False, index=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("type", sa.Text),
)

dataset_tags = sa.Table(
    "dataset_tags",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id"), nullable=False, index=True),
    sa.Column("field", sa.Text),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("value", sa.Text),
    sa.Column("source", sa.Text),
)

dataset_symlinks = sa.Table(
    "dataset_symlinks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id"), nullable=False, index=True),
    sa.Column("namespace", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("type", sa.Text),
    sa.Index("ix_dataset_symlinks_identity", "namespace", "name"),
)

# Datasets that are one table under several names (a Spark location and its metastore
# name, joined by a `symlinks` facet): one row per member of a group of two or more,
# `component_id` the smallest dataset id of the group. Maintained at ingest.
dataset_aliases = sa.Table(
    "dataset_aliases",
    metadata,
    sa.Column(
        "dataset_id",
        sa.Integer,
        sa.ForeignKey("datasets.id"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("component_id", sa.Integer, nullable=False, index=True),
)

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("namespace_id", sa.Integer, sa.ForeignKey("namespaces.id"), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("job_type", sa.Text),
    sa.Column("integration", sa.Text),
    sa.Column("processing_type", sa.Text),
    sa.Column("source_code_location", sa.Text),
    sa.Column("facets", Json, nullable=False),
    sa.Column("current_version_id", sa.Integer),
    sa.Column("latest_run_id", sa.String(36)),
    # The run (or job event, run NULL) whose inputs and outputs are the current edges.
    sa.Column("io_run_id", sa.String(36)),
    sa.Column("io_time", sa.DateTime),
    sa.UniqueConstraint("namespace_id", "name"),
)

job_versions = sa.Table(
    "job_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("job_id", sa.Integer, sa.ForeignKey("jobs.id"), nullable=False),
    sa.Column("version", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("inputs", Json, nullable=False),
    sa.Column("outputs", Json, nullable=False),
    sa.Column("source_code_location", sa.Text),
    sa.UniqueConstraint("job_id", "version"),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("run_id", sa.String(36), primary_key=True),
    sa.Column("job_id", sa.Integer, sa.ForeignKey("jobs.id"), nullable=False, index=True),
    sa.Column("job_version_id", sa.Integer),
    sa.Column("state", sa.String(16)),
    sa.Column("state_time", sa.DateTime),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("started_at", sa.DateTime),
    sa.Column("ended_at", sa.DateTime),
    sa.Column("nominal_start_time", sa.DateTime),
    sa.Column("nominal_end_time", sa.DateTime),
    sa.Column("parent_run_id", sa.String(36), index=True),
    sa.Column("facets", Json, nullable=False),
    # The ParentRunFacet's job and root (migration 0012): a DAG's task runs by parent job or
    # parent run, and every run under one root, are indexed lookups.
    sa.Column("parent_job_id", sa.Integer, index=True),
    sa.Column("root_run_id", sa.String(36), index=True),
    sa.Column("root_job_id", sa.Integer),
    # Who posted the event that made the run (migration 0016): user, groups (sorted JSON
    # list) and token id, as on `lineage_events`.
    sa.Column("principal_user", sa.Text),
    sa.Column("principal_groups", sa.Text),
    sa.Column("principal_token", sa.String(32)),
)

run_states = sa.Table(
    "run_states",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("run_id", sa.String(36), sa.ForeignKey("runs.run_id"), nullable=False, index=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("event_time", sa.DateTime, nullable=False),
)

run_io = sa.Table(
    "run_io",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("run_id", sa.String(36), sa.ForeignKey("runs.run_id"), nullable=False),
    sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id"), nullable=False, index=True),
    sa.Column("direction", sa.String(6), nullable=False),
    sa.Column("dataset_version_id", sa.Integer),
    sa.Column("event_time", sa.DateTime, nullable=False),
    sa.UniqueConstraint("run_id", "dataset_id", "direction"),
)

# Facets a run reported about a dataset, kept per run (migration 0012): every input and
# output facet (`inputFacets`/`outputFacets`: `dataQualityAssertions`, `inputStatistics`
# ...) with direction input/output, and the measurements sent as dataset facets
# (`dataQualityAssertions`, `dataQualityMetrics`) with direction dataset. One row per
# (run, dataset, direction, facet), the newest event's; a DatasetEvent's have no run.
dataset_run_facets = sa.Table(
    "dataset_run_facets",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id"), nullable=False),
    sa.Column("direction", sa.String(7), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("run_id", sa.String(36)),
    sa.Column("job_id", sa.Integer),
    sa.Column("event_time", sa.DateTime, nullable=False),
    sa.Column("facet", Json, nullable=False),
    sa.UniqueConstraint("run_id", "dataset_id", "direction", "name"),
    sa.Index("ix_dataset_run_facets_latest", "dataset_id", "name", "event_time"),
)

# job -> dataset (direction 'output') and dataset -> job (direction 'input').
lineage_edges = sa.Table(
    "lineage_edges",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("job_id", sa.Integer, sa.ForeignKey("jobs.id"), nullable=False),
    sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id"), nullable=False),
    sa.Column("direction", sa.String(6), nullable=False),
    sa.Column("valid_from", sa.DateTime, nullable=False),
    sa.Column("valid_to", sa.DateTime),
    sa.Column("run_id", sa.String(36)),
    sa.Index("ix_lineage_edges_by_dataset", "dataset_id", "direction", "valid_to", "job_id"),
    sa.Index("ix_lineage_edges_by_job", "job_id", "direction", "valid_to", "dataset_id"),
)

# in_dataset.in_field -> out_dataset.out_field through job; out_field NULL: the whole dataset.
column_edges = sa.Table(
    "column_edges",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("job_id", sa.Integer, sa.ForeignKey("jobs.id"), nullable=False),
    sa.Column("in_dataset_id", sa.Integer, sa.ForeignKey("datasets.id"), nullable=False),
    sa.Column("in_field", sa.Text, nullable=False),
    sa.Column("out_dataset_id", sa.Integer, sa.ForeignKey("datasets.id"), nullable=False),
    sa.Column("out_field", sa.Text),
    sa.Column("transformations", Json, nullable=False),
    sa.Column("transformation_description", sa.Text),
    sa.Column("transformation_type", sa.Text),
    sa.Column("valid_from", sa.DateTime, nullable=False),
    sa.Column("valid_to", sa.DateTime),
    sa.Column("run_id", sa.String(36)),
    sa.Index("ix_column_edges_by_output", "out_dataset_id", "out_field", "valid_to"),
    sa.Index("ix_column_edges_by_input", "in_dataset_id", "in_field", "valid_to"),
    sa.Index("ix_column_edges_by_job", "job_id", "out_dataset_id", "valid_to"),
)

# Which run last set the column lineage of one job's output dataset.
column_lineage_heads = sa.Table(
    "column_lineage_heads",
    metadata,
    sa.Column("job_id", sa.Integer, sa.ForeignKey("jobs.id"), primary_key=True),
    sa.Column("out_dataset_id", sa.Integer, sa.ForeignKey("datasets.id"), primary_key=True),
    sa.Column("run_id", sa.String(36)),
    sa.Column("event_time", sa.DateTime, nullable=False),
    # SHA-256 of the facet's fields and dataset lists as last applied.
    sa.Column("fingerprint", sa.String(64), nullable=False),
)

# -- catalog ------------------------------------------------------------------------------------
# A dataset's discovered facts (schema, source description, owners, tags) live in the
# lineage tables above, written as OpenLineage DatasetEvents by `catalog sync`; what
# people and the classifier add lives here, each value with its origin.

# One row per dataset a catalog source states, what all its sources state together (see
# `catalog_entry_sources`); `name` is the catalog name (`lake.sales.orders`) of the source
# authoritative for its structure, `source` that source.
catalog_entries = sa.Table(
    "catalog_entries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id"), nullable=False, unique=True),
    sa.Column("source", sa.Text, nullable=False, index=True),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("fingerprint", sa.Text),
    sa.Column("definition", sa.Text),
    sa.Column("properties", Json, nullable=False),
    sa.Column("first_seen_at", sa.DateTime, nullable=False),
    sa.Column("synced_at", sa.DateTime, nullable=False),
    sa.Column("deleted_at", sa.DateTime),
    # What the source states of the table beyond owners and tags (which are annotations):
    # {"description", "columns": [{"name", "type", "description", "fieldId"}], "symlinks"}.
    # The source is authoritative for these; NULL for entries synced before migration 0008.
    sa.Column("stated", Json),
)

# What each catalog source states of a dataset: one row per (source, table). Several
# sources may state one dataset (a dbt project and the warehouse it builds into); the
# dataset's `catalog_entries` row is what they state together (`catalog.merge`).
catalog_entry_sources = sa.Table(
    "catalog_entry_sources",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id"), nullable=False, index=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("source_type", sa.String(16), nullable=False),
    sa.Column("name", sa.Text, nullable=False, unique=True),  # "{source}.{table}"
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("fingerprint", sa.Text),
    sa.Column("definition", sa.Text),
    sa.Column("properties", Json, nullable=False),
    sa.Column("stated", Json),
    sa.Column("first_seen_at", sa.DateTime, nullable=False),
    sa.Column("synced_at", sa.DateTime, nullable=False),
    sa.Column("deleted_at", sa.DateTime),
    sa.UniqueConstraint("source", "dataset_id"),
)

catalog_sources = sa.Table(
    "catalog_sources",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("synced_at", sa.DateTime, nullable=False),
    sa.Column("tables", sa.Integer, nullable=False),
)

# Descriptions, owners, tags, glossary terms and domains. `field` is '' for the dataset
# itself, else a column name; `field_id` is the column's Iceberg field id when it has one
# (a value binds to that id, else to the name compared case-insensitively). `origin` is
# human, source or classifier; `status` is active for plain values, and proposed /
# confirmed / rejected for classifier tags.
catalog_annotations = sa.Table(
    "catalog_annotations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id"), nullable=False),
    sa.Column("field", sa.Text, nullable=False),
    sa.Column("field_id", sa.Integer),
    sa.Column("attribute", sa.String(16), nullable=False),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("kind", sa.String(16)),  # owners: user or group
    sa.Column("role", sa.Text),  # owners: technical, business ...
    sa.Column("origin", sa.String(16), nullable=False),
    sa.Column("author", sa.Text),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("confidence", sa.Float),
    sa.Column("reason", sa.Text),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Index("ix_catalog_annotations_lookup", "dataset_id", "attribute", "field"),
    sa.Index("ix_catalog_annotations_value", "attribute", "value"),
)

# Tests a source declares on a dataset or column (dbt's not_null ...), with their last status.
catalog_tests = sa.Table(
    "catalog_tests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id"), nullable=False, index=True),
    sa.Column("field", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("unique_id", sa.Text),
    sa.Column("status", sa.String(16)),
    sa.Column("source", sa.Text),  # the catalog source that declares it
)

# The search document of every dataset the catalog indexed (one row per dataset); the
# full-text index over it is FTS5 on SQLite and a GIN tsvector index on PostgreSQL, both
# made by the migration (see `catalog/search.py`).
catalog_search = sa.Table(
    "catalog_search",
    metadata,
    sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id"), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    # Lower-cased whole name and last part (`orders` of `lake.sales.orders`): exact matches.
    sa.Column("exact_name", sa.Text, nullable=False, index=True),
    sa.Column("short_name", sa.Text, nullable=False, index=True),
    sa.Column("source", sa.Text),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("columns", sa.Text, nullable=False),
    sa.Column("tags", sa.Text, nullable=False),
    sa.Column("owners", sa.Text, nullable=False),
    sa.Column("domain", sa.Text),
    sa.Column("deleted", sa.Boolean, nullable=False),
    # The dataset's `updated_at` when this row was built: a newer one means rebuild it.
    sa.Column("indexed_at", sa.DateTime, nullable=False),
)

# How far the search index has looked at `datasets` (one row): datasets with a larger
# id or a later `updated_at` are checked on the next search.
catalog_search_state = sa.Table(
    "catalog_search_state",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("last_dataset_id", sa.Integer, nullable=False),
    sa.Column("last_updated_at", sa.DateTime, nullable=False),
)


# The audit log: one hash-chained row per record, `seq` 1, 2, 3 ... without gaps.
# `actor_groups`, `columns` and `details` hold canonical JSON text (sorted keys, no spaces),
# exactly the bytes that were hashed, so no backend's JSON type can reformat them.
audit_records = sa.Table(
    "audit_records",
    metadata,
    sa.Column("seq", BigId, primary_key=True, autoincrement=False),
    sa.Column("recorded_at", sa.DateTime, nullable=False, index=True),
    sa.Column("actor_user", sa.Text, index=True),
    sa.Column("actor_groups", sa.Text, nullable=False),
    sa.Column("actor_token_id", sa.String(32)),
    sa.Column("action", sa.String(64), nullable=False, index=True),
    sa.Column("dataset", sa.Text, index=True),
    sa.Column("columns", sa.Text, nullable=False),
    sa.Column("decision", sa.String(16), nullable=False),
    sa.Column("policy", sa.Text),
    sa.Column("details", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False, unique=True),
    # The audit dashboard's denials, newest first (migration 0015).
    sa.Index("ix_audit_records_decision_seq", "decision", "seq"),
)

# Every (dataset, column) a record read, for filters and reports; derived from the records
# (resource and `details.inputs`), so it is not part of the chain.
audit_access = sa.Table(
    "audit_access",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False, index=True),
    sa.Column("dataset", sa.Text, nullable=False),
    sa.Column("column", sa.Text),
    sa.Index("ix_audit_access_dataset_column", "dataset", "column"),
)

# The audit dashboard's per-day counts of queries (`steward.audit.rollup`), added to from
# a cursor; user '' is no user, column '' the dataset as a whole.
audit_rollup_daily = sa.Table(
    "audit_rollup_daily",
    metadata,
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("user", sa.Text, primary_key=True),
    sa.Column("decision", sa.String(16), primary_key=True),
    sa.Column("queries", sa.BigInteger, nullable=False),
)
audit_rollup_reads = sa.Table(
    "audit_rollup_reads",
    metadata,
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("user", sa.Text, primary_key=True),
    sa.Column("dataset", sa.Text, primary_key=True),
    sa.Column("column", sa.Text, primary_key=True),
    sa.Column("decision", sa.String(16), primary_key=True),
    sa.Column("queries", sa.BigInteger, nullable=False),
    sa.Index("ix_audit_rollup_reads_dataset", "dataset", "day"),
)
audit_rollup_state = sa.Table(
    "audit_rollup_state",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("last_seq", sa.BigInteger, nullable=False),
)

# The chain's head, one row (id 1): appenders lock it, so there is one chain without gaps.
audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

# Signed (Ed25519) statements "the chain's head at `seq` was `head_hash`".
audit_checkpoints = sa.Table(
    "audit_checkpoints",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("head_hash", sa.String(64), nullable=False),
    sa.Column("signed_at", sa.DateTime, nullable=False),
    sa.Column("key_id", sa.String(64), nullable=False),
    sa.Column("signature", sa.Text, nullable=False),
)

# Records moved out of `audit_records` by retention, into signed segment files.
audit_archives = sa.Table(
    "audit_archives",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("first_seq", sa.BigInteger, nullable=False),
    sa.Column("last_seq", sa.BigInteger, nullable=False, unique=True),
    sa.Column("head_hash", sa.String(64), nullable=False),
    sa.Column("file_name", sa.Text, nullable=False),
    sa.Column("file_sha256", sa.String(64), nullable=False),
    sa.Column("key_id", sa.String(64), nullable=False),
    sa.Column("signature", sa.Text, nullable=False),
    sa.Column("archived_at", sa.DateTime, nullable=False),
)

# How far each exporter (loki, jsonl ...) has sent the log: it resumes after `last_seq`.
audit_export_cursors = sa.Table(
    "audit_export_cursors",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("last_seq", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)


# -- policy -------------------------------------------------------------------------------------
# Every applied policy, newest = active. `sources` is the files exactly as applied (file
# name -> YAML text), so a rollback restores them byte for byte as a new version;
# `hash_key` is the per-version secret that `hash` masks mix into the value.
policy_versions = sa.Table(
    "policy_versions",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("author", sa.Text),
    sa.Column("action", sa.String(16), nullable=False),  # apply or rollback
    sa.Column("restored_from", sa.Integer),
    sa.Column("sources", Json, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("hash_key", sa.String(64), nullable=False),
)


# -- quality ------------------------------------------------------------------------------------

# Every check result, kept as history: the latest per (dataset, check) is its state, and
# the sequence of statuses tells a flapping check.
quality_results = sa.Table(
    "quality_results",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("run_id", sa.String(36), nullable=False, index=True),
    sa.Column("dataset", sa.Text, nullable=False),
    sa.Column("check_name", sa.Text, nullable=False),
    sa.Column("column_name", sa.Text),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("severity", sa.String(8), nullable=False),
    sa.Column("status", sa.String(8), nullable=False),
    sa.Column("failures", sa.BigInteger),
    sa.Column("observed", sa.Text),
    sa.Column("threshold", sa.Text, nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("how", sa.Text, nullable=False),
    sa.Column("ran_at", sa.DateTime, nullable=False),
    sa.Index("ix_quality_results_check", "dataset", "check_name", "id"),
)

# The checks a dataset carries in the catalog (`steward quality attach`): a checks file
# holding that dataset alone, as text.
quality_checks = sa.Table(
    "quality_checks",
    metadata,
    sa.Column("dataset", sa.Text, primary_key=True),
    sa.Column("checks", sa.Text, nullable=False),
    sa.Column("author", sa.Text),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

# What each alert receiver last heard of each check (firing / resolved): one alert per
# change, none while a failure persists.
quality_alert_state = sa.Table(
    "quality_alert_state",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

# Each check's numbers (`quality.run.measure`) for one Iceberg snapshot of a dataset: a
# gate on a branch that only appends combines them with the appended files' numbers.
# `check_key` is the check's definition hashed (kind, column, arguments, where), so a
# changed check never reuses old numbers; `parent_snapshot_id` is the snapshot of the
# table a `relationships` check read.
quality_states = sa.Table(
    "quality_states",
    metadata,
    sa.Column("dataset", sa.Text, primary_key=True),
    sa.Column("snapshot_id", sa.BigInteger, primary_key=True),
    sa.Column("check_key", sa.String(64), primary_key=True),
    sa.Column("numbers", sa.Text, nullable=False),
    sa.Column("parent_snapshot_id", sa.BigInteger),
    sa.Column("recorded_at", sa.DateTime, nullable=False),
)


# -- schema ---------------------------------------------------------------------------------
# Every schema a dataset has had, numbered per dataset from 1: what a catalog sync stated
# (`origin` catalog) and what OpenLineage schema facets said (`origin` openlineage, with
# the `dataset_versions` row it came from). `fields` is the nested field list
# [{"name", "type", "fieldId", "required", "default", "doc", "fields"}].
schema_versions = sa.Table(
    "schema_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("origin", sa.String(16), nullable=False),
    sa.Column("schema_hash", sa.String(64), nullable=False),
    sa.Column("fields", Json, nullable=False),
    sa.Column("recorded_at", sa.DateTime, nullable=False),
    sa.Column("run_id", sa.String(36)),
    sa.Column("lineage_version_id", sa.Integer, index=True),
    sa.UniqueConstraint("dataset_id", "version"),
)

# A deprecated dataset (`field` '') or column, with its sunset date and replacement.
schema_deprecations = sa.Table(
    "schema_deprecations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id"), nullable=False),
    sa.Column("field", sa.Text, nullable=False),
    sa.Column("sunset", sa.Date, nullable=False),
    sa.Column("replacement", sa.Text),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("dataset_id", "field"),
)


# The schema registry (Confluent's REST API). A schema is stored once, by the fingerprint
# of its type, canonical text and references; `id` is its global id, the one Kafka
# serializers write into every message. A subject's versions point at schemas; a soft
# delete only sets `deleted`, a permanent one removes the row.
registry_schemas = sa.Table(
    "registry_schemas",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("schema_type", sa.String(16), nullable=False),
    sa.Column("schema_text", sa.Text, nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False, unique=True),
    # [{"name": ..., "subject": ..., "version": ...}] in the order the client sent them.
    sa.Column("refs", Json, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

registry_versions = sa.Table(
    "registry_versions",
    metadata,
    sa.Column("subject", sa.Text, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("schema_id", sa.Integer, sa.ForeignKey("registry_schemas.id"), nullable=False),
    sa.Column("deleted", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Index(None, "schema_id"),
)

# Which schemas reference which subject versions, so a delete can refuse one in use
# without reading every schema.
registry_references = sa.Table(
    "registry_references",
    metadata,
    sa.Column("schema_id", sa.Integer, sa.ForeignKey("registry_schemas.id"), primary_key=True),
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Index(None, "subject", "version"),
)

# Compatibility level and mode, per subject; the global setting is the row whose subject
# is the empty string.
registry_settings = sa.Table(
    "registry_settings",
    metadata,
    sa.Column("subject", sa.Text, primary_key=True),
    sa.Column("compatibility", sa.String(32)),
    sa.Column("mode", sa.String(16)),
)


# Web sign-in sessions (docs/web.md): the browser holds a random id, this table its
# SHA-256 and the principal it signed in as. Ending a session sets `ended_at`.
web_sessions = sa.Table(
    "web_sessions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("session_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("via", sa.String(16), nullable=False),  # token | oidc
    sa.Column("user_name", sa.Text, nullable=False),
    sa.Column("groups", Json, nullable=False),
    sa.Column("is_admin", sa.Boolean, nullable=False),
    sa.Column("token_id", sa.String(32)),
    sa.Column("scopes", Json, nullable=False),
    sa.Column("attributes", Json, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("last_seen_at", sa.DateTime, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False, index=True),
    sa.Column("ended_at", sa.DateTime),
)

# OIDC sign-ins under way: the `state` sent to the issuer (hashed), with the nonce, the
# PKCE code verifier and where to go after; each is used once and lives a few minutes.
web_sign_ins = sa.Table(
    "web_sign_ins",
    metadata,
    sa.Column("state_hash", sa.String(64), primary_key=True),
    sa.Column("nonce", sa.String(64), nullable=False),
    sa.Column("code_verifier", sa.String(128), nullable=False),
    sa.Column("next_path", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False, index=True),
)


# -- governance ---------------------------------------------------------------------------
# What `steward lineage check` found (migration 0017): one row per finding key (the
# evaluated dataset, the job, the table and column read, the kind), with the run, rule and
# policy version it was last found with. Open while `resolved_at` is NULL: a check raises
# a key once, and resolves it when a later check of the same dataset no longer finds it.
governance_findings = sa.Table(
    "governance_findings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("target", sa.Text, nullable=False, index=True),
    sa.Column("job", sa.Text, nullable=False),
    sa.Column("dataset", sa.Text, nullable=False),
    sa.Column("column", sa.Text),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("rule", sa.Text, nullable=False),
    sa.Column("policy_version", sa.Integer, nullable=False),
    sa.Column("run_id", sa.String(36), nullable=False),
    sa.Column("principal", sa.Text),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("first_seen_at", sa.DateTime, nullable=False),
    sa.Column("last_seen_at", sa.DateTime, nullable=False),
    sa.Column("resolved_at", sa.DateTime),
)


def declared_here(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Alembic's `include_object`: leave out what the full-text search index adds itself.

    The FTS5 virtual table and its shadow tables (SQLite) and the generated tsvector
    column (PostgreSQL) are made by raw SQL in the catalog migration, not declared here.
    """
    if type_ == "table" and name is not None and name.startswith("catalog_search_fts"):
        return False
    if type_ == "index" and name == "ix_catalog_search_document":
        return False
    if type_ == "column" and name == "document" and reflected:
        return getattr(getattr(obj, "table", None), "name", None) != "catalog_search"
    return True
