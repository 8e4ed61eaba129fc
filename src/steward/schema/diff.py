"""What changed between two schemas: fields added, dropped, renamed, reordered, retyped.

Fields pair by field id where both sides have one (Iceberg), so a rename is told apart
from a drop and an add; without ids they pair by name, and a rename reads as a drop
and an add. Nested fields are compared under their parent's path (`address.city`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from steward.schema.fields import Field, Schema


class ChangeKind(StrEnum):
    """The kinds of change a diff reports."""

    ADDED = "added"
    DROPPED = "dropped"
    RENAMED = "renamed"
    REORDERED = "reordered"
    TYPE_CHANGED = "type_changed"
    NULLABILITY_CHANGED = "nullability_changed"
    DEFAULT_CHANGED = "default_changed"


@dataclass(frozen=True)
class Change:
    """One change: its kind, the field's path (in the new schema, or the old for a drop)."""

    kind: ChangeKind
    path: str
    old: str | None = None
    new: str | None = None
    field_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        """This change as the API and `--json` show it."""
        return {
            "kind": self.kind.value,
            "path": self.path,
            "old": self.old,
            "new": self.new,
            "fieldId": self.field_id,
        }

    def describe(self) -> str:
        """One line for people."""
        if self.kind in (ChangeKind.ADDED, ChangeKind.DROPPED):
            return f"{self.kind.value} {self.path}" + (f" ({self.new or self.old})")
        return f"{self.kind.value} {self.path}: {self.old} -> {self.new}"


def _pairs(old: Schema, new: Schema) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Index pairs (old, new) of the same field; old indexes dropped; new indexes added."""
    pairs: list[tuple[int, int]] = []
    new_by_id = {f.field_id: j for j, f in enumerate(new) if f.field_id is not None}
    taken: set[int] = set()
    left: list[int] = []
    for i, f in enumerate(old):
        j = new_by_id.get(f.field_id) if f.field_id is not None else None
        if j is not None:
            pairs.append((i, j))
            taken.add(j)
        else:
            left.append(i)
    # By name: fields without ids, and fields whose id is not on the other side.
    new_by_name = {f.name: j for j, f in enumerate(new) if j not in taken}
    dropped: list[int] = []
    for i in left:
        f = old[i]
        j = new_by_name.get(f.name)
        # An id on both sides that differs is a different field under the same name.
        if j is not None and (f.field_id is None or new[j].field_id is None):
            pairs.append((i, j))
            taken.add(j)
        else:
            dropped.append(i)
    added = [j for j in range(len(new)) if j not in taken]
    return sorted(pairs), dropped, added


def _kind(type_: str | None) -> str | None:
    """A type's outer kind: `struct<a: int>` -> `struct`, children compared apart."""
    return None if type_ is None else type_.split("<", 1)[0].strip().lower()


def _field_changes(a: Field, b: Field, path: str) -> list[Change]:
    out: list[Change] = []
    if a.name != b.name:
        out.append(Change(ChangeKind.RENAMED, path, a.name, b.name, b.field_id))
    nested = bool(a.fields) and bool(b.fields)
    # A side that does not say the type (a dbt contract column without data_type) is no change.
    known = a.type is not None and b.type is not None
    # Type names compare case-insensitively: a contract's `integer` is the warehouse's INTEGER.
    same = (
        (_kind(a.type) == _kind(b.type)) if nested else (str(a.type).lower() == str(b.type).lower())
    )
    if known and not same:
        out.append(Change(ChangeKind.TYPE_CHANGED, path, a.type, b.type, b.field_id))
    if a.required is not None and b.required is not None and a.required != b.required:
        old = "required" if a.required else "optional"
        new = "required" if b.required else "optional"
        out.append(Change(ChangeKind.NULLABILITY_CHANGED, path, old, new, b.field_id))
    if a.default != b.default:
        out.append(Change(ChangeKind.DEFAULT_CHANGED, path, a.default, b.default, b.field_id))
    out += diff_schemas(a.fields, b.fields, prefix=f"{path}.")
    return out


def diff_schemas(old: Schema, new: Schema, *, prefix: str = "") -> list[Change]:
    """Every change from `old` to `new`, parents before their children."""
    pairs, dropped, added = _pairs(old, new)
    out: list[Change] = []
    for i in dropped:
        f = old[i]
        out.append(Change(ChangeKind.DROPPED, prefix + f.name, f.type, None, f.field_id))
    for j in added:
        f = new[j]
        out.append(Change(ChangeKind.ADDED, prefix + f.name, None, f.type, f.field_id))
    # Reordered: a kept field whose place among the kept fields moved.
    by_new = sorted(pairs, key=lambda p: p[1])
    for rank_new, (i, j) in enumerate(by_new):
        rank_old = pairs.index((i, j))
        if rank_old != rank_new:
            f = new[j]
            out.append(
                Change(
                    ChangeKind.REORDERED,
                    prefix + f.name,
                    str(rank_old + 1),
                    str(rank_new + 1),
                    f.field_id,
                )
            )
    for i, j in by_new:
        out += _field_changes(old[i], new[j], prefix + new[j].name)
    return out
