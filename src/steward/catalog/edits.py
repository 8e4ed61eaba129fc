"""Human metadata: descriptions, owners, tags, glossary terms and domains.

An edit is one transaction. It is allowed for admins and for the dataset's owners
(a user owner by name, a group owner by membership) that a person or the catalog source
named; an owner only an OpenLineage event names may not edit, as any token may post
events. Everyone with a token reads. A column's values bind to its identity (Iceberg
field id, else its name compared case-insensitively; see `catalog.authority`), so an
edit naming `EMAIL` changes the column `email`.
Human values are stored with origin `human` and the author, apart from what sources
state, so a sync never overwrites them. Removing a tag or an owner that a source or
the classifier states records a rejection, which keeps it off after later syncs and
classifier runs; adding it back lifts the rejection.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.engine import Connection

from steward.catalog.authority import DATASET, ColumnIdentity, grants_editing
from steward.catalog.search import reindex
from steward.catalog.views import describe_datasets, resolve_dataset
from steward.errors import Forbidden, InvalidInput
from steward.identity.models import Principal
from steward.store import Store
from steward.store.schema import catalog_annotations

_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/@+-]{0,199}$")
# Called inside the edit's transaction with (conn, principal, action, dataset, columns,
# details); the audit log plugs in here so the record commits with the change.
EditRecorder = Callable[[Connection, Principal, str, str, tuple[str, ...], dict[str, Any]], None]


def _label(value: str, what: str) -> str:
    value = value.strip()
    if not _LABEL.match(value):
        raise ValueError(
            f"{what} {value!r} must start with a letter or digit and hold only letters, digits"
            " and _ . : / @ + - (at most 200 characters)"
        )
    return value


class OwnerSpec(BaseModel):
    """An owner to add or remove."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    kind: Literal["user", "group"] = "user"
    role: str = Field(default="technical", min_length=1, max_length=50)


class ColumnEdit(BaseModel):
    """Changes to one column's metadata."""

    model_config = ConfigDict(extra="forbid")

    description: str | None = Field(default=None, max_length=100_000)
    addTags: list[str] = []
    removeTags: list[str] = []
    addTerms: list[str] = []
    removeTerms: list[str] = []

    @field_validator("addTags", "removeTags", "addTerms", "removeTerms")
    @classmethod
    def _labels(cls, values: list[str]) -> list[str]:
        return [_label(v, "label") for v in values]


class DatasetEdit(ColumnEdit):
    """Changes to a dataset's metadata (the body of `PATCH /api/v1/datasets/{id}`).

    A description of "" removes the human description (the source's shows again).
    """

    addOwners: list[OwnerSpec] = []
    removeOwners: list[OwnerSpec] = []
    domain: str | None = Field(default=None, max_length=200)
    columns: dict[str, ColumnEdit] = {}


def can_edit(view: dict[str, Any], principal: Principal) -> bool:
    """Admins and the dataset's owners may edit its metadata (not owners events name)."""
    if principal.is_admin:
        return True
    for owner in view["owners"]:
        if not grants_editing(owner):
            continue
        if owner["kind"] == "user" and owner["name"] == principal.user:
            return True
        if owner["kind"] == "group" and owner["name"] in principal.groups:
            return True
    return False


def edit_dataset(
    store: Store,
    ref: str,
    edit: DatasetEdit,
    principal: Principal,
    *,
    record: EditRecorder | None = None,
) -> dict[str, Any]:
    """Apply `edit` to dataset `ref` in one transaction; returns the dataset's new view."""
    when = datetime.now(UTC).replace(tzinfo=None)
    with store.write() as conn:
        dataset_id = resolve_dataset(conn, ref)
        view = describe_datasets(conn, [dataset_id])[dataset_id]
        if not can_edit(view, principal):
            raise Forbidden(
                f"dataset {ref}: only its owners and admins may edit it, and "
                f"{principal.user} is neither"
            )
        targets = {name: _column(view, ref, name) for name in edit.columns}
        writer = _Writer(conn, dataset_id, principal.user, when)
        writer.apply(ColumnIdentity(DATASET), edit)
        for owner in edit.addOwners:
            writer.owner(owner, add=True)
        for owner in edit.removeOwners:
            writer.owner(owner, add=False)
        if edit.domain is not None:
            writer.single(ColumnIdentity(DATASET), "domain", edit.domain.strip())
        for name, change in edit.columns.items():
            writer.apply(targets[name], change)
        reindex(conn, [dataset_id])
        if record is not None:
            details = edit.model_dump(exclude_defaults=True)
            columns = tuple(sorted(edit.columns))
            record(conn, principal, "catalog.edit", view["id"], columns, details)
        return describe_datasets(conn, [dataset_id])[dataset_id]


def _column(view: dict[str, Any], ref: str, name: str) -> ColumnIdentity:
    """The column of `view` an edit names: by exact name, else case-insensitively."""
    columns = [ColumnIdentity(c["name"], c["fieldId"]) for c in view["columns"]]
    for column in columns:
        if column.name == name:
            return column
    for column in columns:
        if column.binds(ColumnIdentity(name)):
            return column
    known = ", ".join(sorted(c.name for c in columns)) or "no columns"
    raise InvalidInput(f"columns.{name}: {ref} has no such column (it has {known})")


class _Writer:
    def __init__(self, conn: Connection, dataset_id: int, author: str, when: datetime) -> None:
        self.conn, self.dataset_id, self.author, self.when = conn, dataset_id, author, when

    def _delete_human(
        self, target: ColumnIdentity, attribute: str, *extra: sa.ColumnElement[bool]
    ) -> None:
        """Delete the human values of `attribute` bound to `target` (its identity, any spelling)."""
        c = catalog_annotations.c
        rows = self.conn.execute(
            sa.select(c.id, c.field, c.field_id).where(
                c.dataset_id == self.dataset_id,
                c.attribute == attribute,
                c.origin == "human",
                *extra,
            )
        )
        ids = [row.id for row in rows if ColumnIdentity(row.field, row.field_id).binds(target)]
        if ids:
            self.conn.execute(catalog_annotations.delete().where(c.id.in_(ids)))

    def _insert(self, target: ColumnIdentity, attribute: str, value: str, **extra: Any) -> None:
        self.conn.execute(
            catalog_annotations.insert().values(
                dataset_id=self.dataset_id,
                field=target.name,
                field_id=target.field_id,
                attribute=attribute,
                value=value,
                origin="human",
                author=self.author,
                status=extra.pop("status", "active"),
                updated_at=self.when,
                **extra,
            )
        )

    def single(self, target: ColumnIdentity, attribute: str, value: str) -> None:
        """Set (or with "", clear) a one-valued attribute: a description or a domain."""
        self._delete_human(target, attribute)
        if value:
            self._insert(target, attribute, value)

    def labels(self, target: ColumnIdentity, attribute: str, value: str, *, add: bool) -> None:
        """Add or remove a tag or term; removing a tag records a rejection that keeps it off."""
        self._delete_human(target, attribute, catalog_annotations.c.value == value)
        if add:
            self._insert(target, attribute, value)
        elif attribute == "tag":
            self._insert(target, attribute, value, status="rejected")

    def owner(self, owner: OwnerSpec, *, add: bool) -> None:
        c = catalog_annotations.c
        target = ColumnIdentity(DATASET)
        self._delete_human(target, "owner", c.value == owner.name, c.kind == owner.kind)
        status = "active" if add else "rejected"
        self._insert(target, "owner", owner.name, kind=owner.kind, role=owner.role, status=status)

    def apply(self, target: ColumnIdentity, change: ColumnEdit) -> None:
        if change.description is not None:
            self.single(target, "description", change.description.strip())
        for tag in change.addTags:
            self.labels(target, "tag", tag, add=True)
        for tag in change.removeTags:
            self.labels(target, "tag", tag, add=False)
        for term in change.addTerms:
            self.labels(target, "term", term, add=True)
        for term in change.removeTerms:
            self.labels(target, "term", term, add=False)
