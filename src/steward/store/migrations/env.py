"""Alembic environment: runs Steward's migrations on the connection it is handed."""

from __future__ import annotations

from alembic import context

from steward.store.schema import declared_here, metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("Steward's migrations run through `steward db upgrade`")
context.configure(
    connection=connection,
    target_metadata=metadata,
    include_object=declared_here,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
