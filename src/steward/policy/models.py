"""The policy file as data: roles, grants, masks, row filters and denies.

A policy is YAML (one file, or a folder of files merged in name order)::

    roles:
      analyst: {groups: [analysts]}
      eu-analyst: {groups: [analysts-eu]}
      platform-admin: {groups: [platform], users: [root@example.com]}
    grants:
      - roles: [analyst, eu-analyst]
        select: ["lake.crm.*"]
        describe: ["lake.*"]
    masks:
      - columns: ["tag:pii.email"]
        mask: email
        except: [platform-admin]
    row_filters:
      - table: lake.crm.customers
        roles: [eu-analyst]
        where: "region = 'EU'"
    deny:
      - roles: [analyst]
        columns: ["lake.crm.customers.salary"]

Names (`lake.crm.customers`, `lake.crm.customers.email`) are dotted catalog names;
`*` inside a part matches any text, and a trailing `.*` matches every name below.
A column pattern without a dot (`email`) names that column in every table.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

if TYPE_CHECKING:
    from steward.policy.parsed import ParsedRules

BuiltinMask = Literal["redact", "null", "hash", "email", "last4", "year", "round"]
MaskName = Literal["redact", "null", "hash", "email", "last4", "year", "round", "sql"]
BUILTIN_MASKS: tuple[str, ...] = ("redact", "null", "hash", "email", "last4", "year", "round")

_NAME = re.compile(r"^[A-Za-z0-9_*$-]+(\.[A-Za-z0-9_*$-]+)*$")
_TAG = re.compile(r"^tag:[a-z0-9_*-]+(\.[a-z0-9_*-]+)*$")


def _names(values: list[str], what: str) -> list[str]:
    for value in values:
        if not _NAME.match(value):
            raise ValueError(f"{what}: {value!r} is not a dotted name like 'lake.crm.customers'")
    return values


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class Role(_Rule):
    """A role and who holds it: members of any of `groups`, or one of `users`."""

    groups: list[str] = []
    users: list[str] = []
    description: str | None = None


class Grant(_Rule):
    """Roles that may select (read rows) or describe (read metadata) the named objects."""

    roles: list[str] = Field(min_length=1)
    select: list[str] = []
    describe: list[str] = []

    @model_validator(mode="after")
    def _something(self) -> Grant:
        _names(self.select, "select")
        _names(self.describe, "describe")
        if not self.select and not self.describe:
            raise ValueError("a grant needs `select` or `describe` names")
        return self


class Mask(_Rule):
    """Columns (by name pattern or `tag:`) shown masked, except to the `except` roles.

    `roles`, when given, limits the mask to callers holding one of them; by default it
    applies to everyone. `sql` is a DuckDB expression over `{column}`.
    """

    columns: list[str] = Field(min_length=1)
    mask: MaskName | None = None
    sql: str | None = None
    digits: int = -2  # for `round`: round(value, digits); -2 rounds to hundreds
    roles: list[str] | None = None
    except_: list[str] = Field(default=[], alias="except")

    @model_validator(mode="after")
    def _one_mask(self) -> Mask:
        for column in self.columns:
            if column.startswith("tag:"):
                if not _TAG.match(column):
                    raise ValueError(f"columns: {column!r} is not a tag like 'tag:pii.email'")
            else:
                _names([column], "columns")
        if self.sql is not None and self.mask not in (None, "sql"):
            raise ValueError("give either a built-in `mask` or `sql`, not both")
        if self.sql is None and self.mask in (None, "sql"):
            raise ValueError(
                f"`mask` must be one of {', '.join(BUILTIN_MASKS)}, or give `sql` over {{column}}"
            )
        if self.sql is not None and "{column}" not in self.sql:
            raise ValueError("sql: name the masked column as {column}")
        return self

    @property
    def kind(self) -> str:
        """The built-in mask's name, or `sql`."""
        return "sql" if self.sql is not None else str(self.mask)


class RowFilter(_Rule):
    """Rows of `table` a caller holding one of `roles` sees: those where `where` holds.

    `where` is DuckDB SQL over the table's columns and the caller: `current_user`,
    `current_groups` (a list: `list_contains(current_groups, 'x')`) and
    `current_attribute('name')`. `except` roles are not filtered by this rule.
    """

    table: str
    roles: list[str] = Field(min_length=1)
    where: str = Field(min_length=1)
    except_: list[str] = Field(default=[], alias="except")

    @model_validator(mode="after")
    def _table(self) -> RowFilter:
        _names([self.table], "table")
        return self


class Deny(_Rule):
    """Tables or columns the roles may never read, whatever else grants them."""

    roles: list[str] = Field(min_length=1)
    tables: list[str] = []
    columns: list[str] = []

    @model_validator(mode="after")
    def _something(self) -> Deny:
        _names(self.tables, "tables")
        _names(self.columns, "columns")
        if not self.tables and not self.columns:
            raise ValueError("a deny needs `tables` or `columns`")
        return self


class Policy(_Rule):
    """A whole policy; rules are named by their place (`masks[0]`, `grants[2]`)."""

    roles: dict[str, Role] = {}
    grants: list[Grant] = []
    masks: list[Mask] = []
    row_filters: list[RowFilter] = []
    deny: list[Deny] = []
    # The key `hash` masks use: set per applied version, never read from the file.
    _hash_key: str = PrivateAttr(default="")
    # Its masks and row filters parsed, on first use (`parsed_rules`); never changed.
    _parsed: ParsedRules | None = PrivateAttr(default=None)

    @property
    def hash_key(self) -> str:
        """The secret mixed into `hash` masks (empty for a policy not applied)."""
        return self._hash_key

    def with_hash_key(self, key: str) -> Policy:
        """This policy with the key of its applied version."""
        keyed = self.model_copy()
        keyed._hash_key = key
        return keyed

    def parsed_rules(self) -> ParsedRules:
        """Its masks and row filters as expressions, parsed once for this object.

        The key does not enter them, so a keyed copy shares them (`with_hash_key`).
        """
        if self._parsed is None:
            from steward.policy.parsed import parse_policy

            self._parsed = parse_policy(self)
        return self._parsed
