"""One governed query, from the caller's SQL to the SQL the engine runs.

`govern` is the whole pipeline but running and recording, and reads like it:

1. parse: exactly one read-only statement, not nested too deep (`policy.statement`);
2. refuse: statement kinds, functions and forms outside the allow-lists;
3. qualify: each table reference, by scope, a CTE or a catalog table (`policy.resolve`);
   a CTE named like a table the caller could name is refused;
4. decide: what the caller sees of each table (`CallerAccess.table`); no grant at all,
   no query;
5. secure: every catalog reference replaced by its secure view (`policy.secure`), each
   unnamed output named as the caller wrote it;
6. verify: the SQL that will run parsed again and checked against the invariant
   (`policy.verify`): no engine table is read but through a secure view.

`policy.query.run_query` runs what `govern` returns and records it; the golden tests
and `bench/policy_overhead.py` call this same function.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from steward.errors import Forbidden, InvalidInput, PolicyDenied
from steward.policy.access import CallerAccess, Columns, TableAccess
from steward.policy.decide import HASH_KEY_PARAMETER
from steward.policy.metadata import expand_information_schema, information_schema_references
from steward.policy.reads import ReadQuery, read_query
from steward.policy.resolve import referenced_tables, refuse_shadowing, render
from steward.policy.secure import name_outputs, secure_tables, secure_view
from steward.policy.statement import (
    DIALECT,
    RESERVED_PREFIX,
    AllowList,
    parse_query,
    refuse_unsafe,
)
from steward.policy.verify import verify

__all__ = ["DIALECT", "Catalog", "Governed", "govern", "internal_name"]


@dataclass(frozen=True)
class Catalog:
    """What `govern` needs to know of the catalog and the engine, for one query.

    `names` are the live catalog tables; `columns` gives some of them with their columns
    and tags; `physical` the columns the engine's table (internal name) has, for the
    current snapshot or the one `(VERSION|TIMESTAMP, value)` names; `types`
    (catalog name -> (column, type) pairs) fills `information_schema`; `engine_names`
    are the names the engine resolves as tables on its own.
    """

    names: Collection[str]
    columns: Callable[[Sequence[str]], Mapping[str, Columns]]
    physical: Callable[[str, str, tuple[str, str] | None], Sequence[str]]
    types: Callable[[Sequence[str]], Mapping[str, Sequence[tuple[str, str]]]] | None = None
    engine_names: Collection[str] = ()
    # Where the engine reads each table from, as planned while governing (internal name ->
    # the engine's table data), so that running does not plan it twice.
    planned: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Governed:
    """A query rewritten for one caller: the SQL to run and what it reads, as decided."""

    sql: str
    parameters: dict[str, str]
    tables: tuple[str, ...]  # catalog names, in order of first reference
    internal: dict[str, str]  # catalog name -> engine table of its current snapshot
    snapshots: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    access: dict[str, TableAccess] = field(default_factory=dict)
    # The query as the columns-read analysis takes it, for the record (`policy.reads`).
    reading: ReadQuery = field(default_factory=lambda: ReadQuery(None, {}))


def internal_name(name: str, *, salt: str) -> str:
    """The engine table name of a catalog table (or snapshot): unguessable without `salt`."""
    return RESERVED_PREFIX + "_" + hashlib.sha256(f"{salt}:{name}".encode()).hexdigest()[:20]


def govern(
    sql: str,
    *,
    catalog: Catalog,
    access: CallerAccess,
    salt: str,
    allowed: AllowList,
    max_depth: int = 200,
    materialize: bool = False,
) -> Governed:
    """`sql` parsed, checked and rewritten for one caller; refused with the reason.

    `allowed` is the engine's allow-list: the caller's functions are checked against it,
    and the SQL returned is in its dialect, checked again as the engine will read it.
    """
    query = refuse_unsafe(parse_query(sql, max_depth=max_depth), allowed=allowed)
    if information_schema_references(query):
        query = _expand_metadata(query, catalog, access)
    refuse_shadowing(query, catalog=catalog.names, engine_names=catalog.engine_names)
    references = referenced_tables(query, catalog=catalog.names)
    if not references and not access.may_query:
        raise PolicyDenied("the policy grants you nothing, so no query runs; ask for a grant")
    names = tuple(dict.fromkeys(references.values()))
    decided = _decide(names, catalog, access)
    internal = {name: internal_name(name, salt=salt) for name in names}
    travels = _time_travel(query, references=references, access=decided)
    snapshots = {
        internal_name(f"{name}@{kind}={value}", salt=salt): (name, kind, value)
        for name, kind, value in travels.values()
    }
    snapshot_of = {
        node: internal_name(f"{name}@{kind}={value}", salt=salt)
        for node, (name, kind, value) in travels.items()
    }
    _refuse_denied_columns(query, tables=names, access=decided)
    reading = read_query(
        query,
        references=references,
        visible={name: [c.name for c in decided[name].visible] for name in names},
    )
    name_outputs(query)
    views: dict[int, tuple[str, exp.Select]] = {}
    built: dict[str, exp.Select] = {}
    for node, name in references.items():
        engine_table = snapshot_of.get(node, internal[name])
        if engine_table not in built:
            at = travels[node][1:] if node in travels else None
            physical = catalog.physical(name, engine_table, at)
            built[engine_table] = secure_view(decided[name], engine_table, physical)
        views[node] = (engine_table, built[engine_table])
    secured = secure_tables(
        query, references=references, views=views, materialize=materialize and not snapshots
    )
    text = render(secured, dialect=allowed.dialect)
    verify(text, internal=[*internal.values(), *snapshots], allowed=allowed)
    uses_key = any(
        c.expression is not None and HASH_KEY_PARAMETER in c.expression
        for name in names
        for c in decided[name].visible
    )
    return Governed(
        sql=text,
        parameters={HASH_KEY_PARAMETER: access.hash_key} if uses_key else {},
        tables=names,
        internal=internal,
        snapshots=snapshots,
        access=decided,
        reading=reading,
    )


def _decide(names: Sequence[str], catalog: Catalog, access: CallerAccess) -> dict[str, TableAccess]:
    described = catalog.columns(names)
    decided: dict[str, TableAccess] = {}
    for name in names:
        table = access.table(name, described[name])
        if not table.allowed:
            reason = table.reason or f"{name}: not granted to you"
            raise PolicyDenied(reason, table=name, rule=table.rule)
        decided[name] = table
    return decided


def _expand_metadata(query: exp.Query, catalog: Catalog, access: CallerAccess) -> exp.Query:
    """`information_schema.tables|columns` made of what the caller may describe."""
    names = sorted(catalog.names)
    described = catalog.columns(names)
    decided = {name: access.table(name, described[name]) for name in names}
    shown = [name for name in names if decided[name].describe]
    types = catalog.types(shown) if catalog.types is not None else {}
    return expand_information_schema(
        query, tables={n: list(types.get(n, ())) for n in names}, access=decided
    )


def _time_travel(
    expression: exp.Query, *, references: Mapping[int, str], access: Mapping[str, TableAccess]
) -> dict[int, tuple[str, str, str]]:
    """Each time-travelling reference: (catalog name, VERSION or TIMESTAMP, the value).

    Refused on a table with masks or row filters: they are decided on the current
    snapshot, and an older one may hold rows or values they would not cover.
    """
    found: dict[int, tuple[str, str, str]] = {}
    for table in expression.find_all(exp.Table):
        when = table.args.get("when")
        name = references.get(id(table))
        if when is None or name is None:
            continue
        decided = access[name]
        if decided.row_filters or any(c.verdict == "masked" for c in decided.columns):
            raise Forbidden(
                f"sql: time travel on {name} is not allowed: masks and row filters apply to"
                " its current snapshot only"
            )
        kind = str(when.args.get("kind") or "").upper()
        if str(when.this).upper() != "AT" or kind not in ("VERSION", "TIMESTAMP"):
            raise Forbidden("sql: time travel is `AT (VERSION => id)` or `AT (TIMESTAMP => t)`")
        value = when.expression
        literal = value.this if isinstance(value, exp.Cast) else value
        if not isinstance(literal, exp.Literal):
            raise InvalidInput("sql: time travel takes a literal snapshot id or timestamp")
        found[id(table)] = (name, kind, str(literal.name))
    return found


def _refuse_denied_columns(
    expression: exp.Query, *, tables: Sequence[str], access: Mapping[str, TableAccess]
) -> None:
    """Name a denied column the query asks for (the view lacks it in any case)."""
    denied: dict[str, str] = {}
    visible: set[str] = set()
    for name in tables:
        for column in access[name].columns:
            if column.verdict == "denied":
                denied.setdefault(column.name.lower(), name)
            else:
                visible.add(column.name.lower())
    if not denied:
        return
    defined = {a.alias.lower() for a in expression.find_all(exp.Alias)}
    defined |= {
        c.name.lower() for alias in expression.find_all(exp.TableAlias) for c in alias.columns
    }
    for reference in expression.find_all(exp.Column):
        name = reference.name.lower()
        if name in denied and name not in visible and name not in defined:
            raise PolicyDenied(
                f"sql: column {denied[name]}.{reference.name} is denied to you",
                table=denied[name],
                rule=next(c.rule for c in access[denied[name]].columns if c.name.lower() == name),
            )
