"""lineage: datasets joined by symlinks (dataset_aliases), nested schema fields

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dataset_aliases",
        sa.Column("dataset_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("component_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name="fk_dataset_aliases_dataset_id_datasets"
        ),
        sa.PrimaryKeyConstraint("dataset_id", name="pk_dataset_aliases"),
    )
    op.create_index("ix_dataset_aliases_component_id", "dataset_aliases", ["component_id"])
    with op.batch_alter_table("dataset_fields", schema=None) as batch_op:
        batch_op.add_column(sa.Column("path", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("parent_ordinal", sa.Integer(), nullable=True))
    _join_stored_symlinks()


def _join_stored_symlinks() -> None:
    """Group the datasets that symlinks already stored say are one table (see lineage.aliases).

    Two datasets join when one's symlink names the other, or both name the same identity.
    """
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT s.dataset_id, s.namespace, s.name, d.id AS target"
            " FROM dataset_symlinks s"
            " LEFT JOIN namespaces n ON n.name = s.namespace"
            " LEFT JOIN datasets d ON d.namespace_id = n.id AND d.name = s.name"
        )
    ).all()
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    first_holder: dict[tuple[str, str], int] = {}
    for row in rows:
        if row.target is not None and row.target != row.dataset_id:
            union(row.dataset_id, row.target)
        holder = first_holder.setdefault((row.namespace, row.name), row.dataset_id)
        if holder != row.dataset_id:
            union(holder, row.dataset_id)
    groups: dict[int, list[int]] = {}
    for member in list(parent):
        groups.setdefault(find(member), []).append(member)
    values = [
        {"dataset_id": m, "component_id": min(g)} for g in groups.values() if len(g) > 1 for m in g
    ]
    if values:
        table = sa.table("dataset_aliases", sa.column("dataset_id"), sa.column("component_id"))
        conn.execute(table.insert(), values)


def downgrade() -> None:
    with op.batch_alter_table("dataset_fields", schema=None) as batch_op:
        batch_op.drop_column("parent_ordinal")
        batch_op.drop_column("path")
    op.drop_index("ix_dataset_aliases_component_id", table_name="dataset_aliases")
    op.drop_table("dataset_aliases")
