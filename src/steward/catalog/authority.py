"""Who states what of a dataset, and which column a tag or description belongs to.

A dataset a catalog source states (`steward catalog sync` wrote its entry) takes its
columns, types, owners, tags and symlinks from that source alone: OpenLineage events
about it may add descriptions where nobody else gave one, and lineage edges, nothing
else. A dataset only lineage knows takes all of these from its events, but owners an
event names never grant the right to edit (see `catalog.edits.can_edit`).

A value recorded for a column (a tag, a description, a term) binds to the column's
identity: its Iceberg field id where both the value and the column have one, else its
name compared case-insensitively, as engines resolve unquoted names. So a tag put on
`email` stays on the column when a producer or a later sync spells it `EMAIL`, and
follows an Iceberg rename.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

DATASET = ""  # the `field` of an annotation about the dataset itself

# Which origin wins when several state the same tag on the same column: people first,
# then the classifier's proposals, then the catalog source, then lineage events.
_RANK = {"human": 0, "classifier": 1, "source": 2, "lineage": 3}
# Owners from these origins may edit a dataset's metadata; owners only an event names
# (origin `lineage`) may not, since any token may post events.
EDITING_ORIGINS = frozenset({"human", "source"})


@dataclass(frozen=True)
class ColumnIdentity:
    """What a value recorded for a column is bound to: a name and, for Iceberg, a field id."""

    name: str
    field_id: int | None = None

    def binds(self, other: ColumnIdentity) -> bool:
        """Whether a value recorded for `self` belongs to column `other`."""
        if self.name == DATASET or other.name == DATASET:
            return self.name == other.name
        if self.field_id is not None and other.field_id is not None:
            return self.field_id == other.field_id
        return self.name.casefold() == other.name.casefold()


@dataclass(frozen=True)
class StatedColumn:
    """A column as its authority states it."""

    identity: ColumnIdentity
    type: str | None
    description: str | None
    # Nested fields of a struct, array or map column, as a tree (`fields` of each).
    fields: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Label:
    """A tag on a dataset or a column, from one origin."""

    target: ColumnIdentity
    value: str
    origin: str
    status: str = "active"
    author: str | None = None
    confidence: float | None = None
    reason: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The tag as the catalog shows it."""
        return {
            "tag": self.value,
            "origin": self.origin,
            "status": self.status,
            **({"author": self.author} if self.author else {}),
            **({"confidence": self.confidence} if self.confidence is not None else {}),
            **({"reason": self.reason} if self.reason else {}),
        }


def source_columns(stated: Mapping[str, Any]) -> list[StatedColumn]:
    """The columns a catalog source stated (`catalog_entries.stated`)."""
    return [
        StatedColumn(
            ColumnIdentity(column["name"], column.get("fieldId")),
            column.get("type"),
            column.get("description"),
            tuple(
                _iceberg_children(column["iceberg"]["type"], f"{column['name']}.")
                if column.get("iceberg")
                else ()
            ),
        )
        for column in stated.get("columns", [])
    ]


def _iceberg_children(kind: Any, prefix: str) -> list[dict[str, Any]]:
    """The nested fields of an Iceberg type (its spec's JSON), named as OpenLineage names
    them: a struct's fields, a list's `_element`, a map's `key` and `value`."""
    if not isinstance(kind, dict):
        return []
    members: list[tuple[str, Any, str | None]] = []
    if kind.get("type") == "struct":
        members = [(f["name"], f["type"], f.get("doc")) for f in kind.get("fields", [])]
    elif kind.get("type") == "list":
        members = [("_element", kind.get("element"), None)]
    elif kind.get("type") == "map":
        members = [("key", kind.get("key"), None), ("value", kind.get("value"), None)]
    return [
        {
            "name": name,
            "path": prefix + name,
            "type": member if isinstance(member, str) else str(member.get("type")),
            "description": doc,
            "fields": _iceberg_children(member, f"{prefix}{name}."),
        }
        for name, member, doc in members
    ]


def _tree(fields: Iterable[Mapping[str, Any]], prefix: str) -> list[dict[str, Any]]:
    """Nested fields as the catalog shows them: name, dotted path, type, description and
    their own `fields` (a tree)."""
    return [
        {
            "name": f["name"],
            "path": prefix + f["name"],
            "type": f.get("type"),
            "description": f.get("description"),
            "fields": _tree(f.get("fields") or [], f"{prefix}{f['name']}."),
        }
        for f in fields
    ]


def lineage_columns(fields: Iterable[Mapping[str, Any]]) -> list[StatedColumn]:
    """The columns OpenLineage events stated (the current schema version's fields)."""
    return [
        StatedColumn(
            ColumnIdentity(f["name"]),
            f.get("type"),
            f.get("description"),
            tuple(_tree(f.get("fields") or [], f"{f['name']}.")),
        )
        for f in fields
    ]


def event_description(fields: Iterable[Mapping[str, Any]], column: ColumnIdentity) -> str | None:
    """The description events give `column` of a source-stated dataset, if any."""
    for field in fields:
        if field.get("description") and ColumnIdentity(field["name"]).binds(column):
            return str(field["description"])
    return None


def labels_on(target: ColumnIdentity, labels: Iterable[Label]) -> list[dict[str, Any]]:
    """The effective tags of `target` (the dataset or one column), sorted by tag.

    A tag a person rejected stays off whatever else states it; otherwise the highest
    ranked origin's record of a tag is the one shown.
    """
    bound = [label for label in labels if label.target.binds(target)]
    rejected = {label.value for label in bound if label.status == "rejected"}
    chosen: dict[str, Label] = {}
    for label in sorted(bound, key=lambda label: _RANK.get(label.origin, len(_RANK))):
        if label.status == "rejected" or label.value in chosen:
            continue
        if label.value in rejected and label.origin != "human":
            continue
        chosen[label.value] = label
    return [chosen[value].as_json() for value in sorted(chosen)]


def grants_editing(owner: Mapping[str, Any]) -> bool:
    """Whether an owner as the catalog shows it may edit the dataset's metadata."""
    return owner.get("origin") in EDITING_ORIGINS


# When several catalog sources state one dataset (a dbt project and the warehouse it
# builds into name the same relation), each fact comes from the source authoritative
# for it, whatever order they synced in:
# - structure (columns, types, nullability, field ids, kind, the catalog name shown):
#   the system that holds the table (an Iceberg catalog, then a database) before a
#   project that builds it;
# - documentation (descriptions of the dataset and its columns, owners, domain, the
#   definition): dbt's YAML before the comments a warehouse keeps;
# - tags, glossary terms, tests and symlinks: every source's, together.
# Sources of the same type rank by name.
STRUCTURE_RANK = {"iceberg": 0, "sqlalchemy": 1, "dbt": 2}
DOCUMENTATION_RANK = {"dbt": 0, "iceberg": 1, "sqlalchemy": 2}


@dataclass(frozen=True)
class Statement:
    """What one catalog source states of a dataset (a `catalog_entry_sources` row)."""

    source: str
    source_type: str
    name: str  # its catalog name: "{source}.{table}"
    kind: str
    stated: Mapping[str, Any]
    definition: str | None = None
    properties: Mapping[str, Any] | None = None


def by_structure(statements: Iterable[Statement]) -> list[Statement]:
    """`statements`, the authority for columns and types first."""
    return sorted(
        statements, key=lambda s: (STRUCTURE_RANK.get(s.source_type, len(STRUCTURE_RANK)), s.source)
    )


def by_documentation(statements: Iterable[Statement]) -> list[Statement]:
    """`statements`, the authority for descriptions and owners first."""
    return sorted(
        statements,
        key=lambda s: (DOCUMENTATION_RANK.get(s.source_type, len(DOCUMENTATION_RANK)), s.source),
    )


@dataclass(frozen=True)
class Merged:
    """What several sources state of one dataset together (the `catalog_entries` row)."""

    primary: Statement  # the structure authority: its name is the catalog name
    kind: str
    stated: dict[str, Any]
    definition: str | None
    properties: dict[str, Any]


def merge_statements(statements: Sequence[Statement]) -> Merged:
    """One dataset's facts from every source that states it, each from its authority.

    The merged `stated` also lists the sources in documentation order
    (`documentation`), so that owners and the domain are read from the first that
    gives any (`owners_from`).
    """
    if not statements:
        raise ValueError("merge_statements needs at least one statement")
    structure = by_structure(statements)
    documentation = by_documentation(statements)
    shaped = next((s for s in structure if s.stated.get("columns")), structure[0])
    columns = []
    for column in shaped.stated.get("columns") or []:
        identity = ColumnIdentity(column["name"])
        described = next(
            (
                other["description"]
                for s in documentation
                for other in s.stated.get("columns") or []
                if other.get("description") and ColumnIdentity(other["name"]).binds(identity)
            ),
            column.get("description"),
        )
        columns.append({**column, "description": described})
    symlinks: list[dict[str, Any]] = []
    for s in structure:
        for link in s.stated.get("symlinks") or []:
            if link not in symlinks:
                symlinks.append(link)
    properties: dict[str, Any] = {}
    for s in reversed(structure):
        properties.update(s.properties or {})
    return Merged(
        primary=structure[0],
        kind=structure[0].kind,
        stated={
            "description": next(
                (s.stated["description"] for s in documentation if s.stated.get("description")),
                None,
            ),
            "columns": columns,
            "symlinks": symlinks,
            "documentation": [s.source for s in documentation],
        },
        definition=next((s.definition for s in documentation if s.definition), None),
        properties=properties,
    )


def owners_from(stated: Mapping[str, Any], stating: Iterable[str]) -> str | None:
    """Which source's owners (or domain) the catalog shows, of the sources `stating` any.

    The first in documentation order; a dataset one source states has no choice to make.
    """
    given = set(stating)
    order = list(stated.get("documentation") or [])
    return next((s for s in order if s in given), min(given) if given else None)
