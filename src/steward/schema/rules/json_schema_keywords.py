"""Keyword comparisons for JSON Schema compatibility, one function per kind of schema.

Each follows the matching class of Confluent's `io.confluent.kafka.schemaregistry.json.diff`
(StringSchemaDiff, NumberSchemaDiff, EnumSchemaDiff, CombinedSchemaDiff, ObjectSchemaDiff,
ArraySchemaDiff) and records the same `Difference.Type` names.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from steward.errors import InvalidInput
from steward.schema.rules.json_schema import Context, Node, compare, subschemas

# Where an object's content model says what other properties may be.
OBJECT_EXTRA = ("additionalProperties", "patternProperties")


def keywords(node: Node) -> Mapping[str, Any]:
    """The keywords of a schema (a boolean schema has none)."""
    return node.schema if isinstance(node.schema, Mapping) else {}


def compare_bound(ctx: Context, o: Node, u: Node, keyword: str, name: str) -> None:
    """A numeric keyword: <NAME>_ADDED, _REMOVED, _INCREASED or _DECREASED."""
    before, after = keywords(o).get(keyword), keywords(u).get(keyword)
    # draft-4 spells exclusive bounds as booleans next to minimum/maximum: not a limit.
    before = None if isinstance(before, bool) else before
    after = None if isinstance(after, bool) else after
    for value, where in ((before, o), (after, u)):
        if value is not None and not isinstance(value, int | float):
            raise InvalidInput(f"{where.where}/{keyword}: must be a number")
    if before == after:
        return
    if before is None:
        ctx.add(f"{name}_ADDED", keyword)
    elif after is None:
        ctx.add(f"{name}_REMOVED", keyword)
    elif before < after:
        ctx.add(f"{name}_INCREASED", keyword)
    else:
        ctx.add(f"{name}_DECREASED", keyword)


def compare_string(ctx: Context, o: Node, u: Node) -> None:
    """StringSchemaDiff: lengths and pattern."""
    compare_bound(ctx, o, u, "maxLength", "MAX_LENGTH")
    compare_bound(ctx, o, u, "minLength", "MIN_LENGTH")
    before, after = keywords(o).get("pattern"), keywords(u).get("pattern")
    if before != after:
        if before is None:
            ctx.add("PATTERN_ADDED", "pattern")
        elif after is None:
            ctx.add("PATTERN_REMOVED", "pattern")
        else:
            ctx.add("PATTERN_CHANGED", "pattern")


def compare_number(ctx: Context, o: Node, u: Node) -> None:
    """NumberSchemaDiff: bounds, multipleOf, and integer versus number."""
    compare_bound(ctx, o, u, "maximum", "MAXIMUM")
    compare_bound(ctx, o, u, "minimum", "MINIMUM")
    compare_bound(ctx, o, u, "exclusiveMaximum", "EXCLUSIVE_MAXIMUM")
    compare_bound(ctx, o, u, "exclusiveMinimum", "EXCLUSIVE_MINIMUM")
    before, after = keywords(o).get("multipleOf"), keywords(u).get("multipleOf")
    if before != after:
        if before is None:
            ctx.add("MULTIPLE_OF_ADDED", "multipleOf")
        elif after is None:
            ctx.add("MULTIPLE_OF_REMOVED", "multipleOf")
        elif int(after) != 0 and int(before) != 0 and int(after) % int(before) == 0:
            ctx.add("MULTIPLE_OF_EXPANDED", "multipleOf")
        elif int(after) != 0 and int(before) % int(after) == 0:
            ctx.add("MULTIPLE_OF_REDUCED", "multipleOf")
        else:
            ctx.add("MULTIPLE_OF_CHANGED", "multipleOf")
    o_int, u_int = keywords(o).get("type") == "integer", keywords(u).get("type") == "integer"
    if o_int and not u_int:
        ctx.add("TYPE_EXTENDED")
    elif u_int and not o_int:
        ctx.add("TYPE_NARROWED")


def enum_values(node: Node) -> set[str]:
    """The values an enum allows, as canonical JSON."""
    values = keywords(node).get("enum")
    if not isinstance(values, list):
        raise InvalidInput(f"{node.where}/enum: must be a list")
    return {json.dumps(v, sort_keys=True) for v in values}


def compare_enum(ctx: Context, o: Node, u: Node) -> None:
    """EnumSchemaDiff: values added (extended), removed (narrowed), or both (changed)."""
    before, after = enum_values(o), enum_values(u)
    if before == after:
        return
    if after >= before:
        ctx.add("ENUM_ARRAY_EXTENDED", "enum")
    elif before >= after:
        ctx.add("ENUM_ARRAY_NARROWED", "enum")
    else:
        ctx.add("ENUM_ARRAY_CHANGED", "enum")


def compare_combined(ctx: Context, o_kind: str, o: Node, u_kind: str, u: Node) -> None:
    """CombinedSchemaDiff: the criterion, the number of subschemas, and a matching of them."""
    o_subs, u_subs = subschemas(o, o_kind), subschemas(u, u_kind)
    o_crit, u_crit = o_kind.split(":")[1], u_kind.split(":")[1]
    if o_crit != u_crit:
        if u_crit == "anyOf" or (
            len(o_subs) == 1 and (u_crit == "oneOf" or (u_crit == "allOf" and len(u_subs) == 1))
        ):
            ctx.add("COMBINED_TYPE_EXTENDED")
        else:
            ctx.add("COMBINED_TYPE_CHANGED")
            return
    if len(o_subs) < len(u_subs):
        ctx.add("PRODUCT_TYPE_EXTENDED" if u_crit == "allOf" else "SUM_TYPE_EXTENDED")
    elif len(o_subs) > len(u_subs):
        ctx.add("PRODUCT_TYPE_NARROWED" if u_crit == "allOf" else "SUM_TYPE_NARROWED")
    edges: dict[int, list[int]] = {}
    for i, o_sub in enumerate(o_subs):
        with ctx.at(f"{o_crit}/{i}"):
            for j, u_sub in enumerate(u_subs):
                sub = ctx.sub()
                compare(sub, o_sub, u_sub)
                if sub.compatible():
                    edges.setdefault(i, []).append(j)
    if matching_size(edges, len(o_subs)) < min(len(o_subs), len(u_subs)):
        ctx.add("COMBINED_TYPE_SUBSCHEMAS_CHANGED")


def matching_size(edges: dict[int, list[int]], left: int) -> int:
    """The size of a maximum matching in a bipartite graph (augmenting paths)."""
    match: dict[int, int] = {}

    def augment(i: int, seen: set[int]) -> bool:
        for j in edges.get(i, []):
            if j not in seen:
                seen.add(j)
                if j not in match or augment(match[j], seen):
                    match[j] = i
                    return True
        return False

    return sum(augment(i, set()) for i in range(left))


def open_content(s: Mapping[str, Any], additional: str, patterns: str | None) -> bool:
    """Open content model: no pattern schemas and `additional*` absent or true."""
    return (patterns is None or not s.get(patterns)) and s.get(additional, True) is True


def partial_schema(node: Node, additional: str, patterns: str | None, key: str) -> Node | None:
    """The schema a partially open content model gives to `key` (a pattern or additional*)."""
    s = keywords(node)
    if patterns is not None:
        for pattern, schema in (s.get(patterns) or {}).items():
            if re.search(pattern, key):
                return node.child(schema, f"{patterns}/{pattern}")
    extra = s.get(additional)
    return node.child(extra, additional) if isinstance(extra, Mapping) else None


def compare_additional(ctx: Context, o: Node, u: Node, keyword: str, name: str) -> None:
    """additionalProperties / additionalItems: allowed, forbidden, or a schema."""
    before, after = keywords(o).get(keyword, True), keywords(u).get(keyword, True)
    with ctx.at(keyword):
        if (before is not False) != (after is not False):
            ctx.add(f"{name}_ADDED" if after is not False else f"{name}_REMOVED")
        elif not isinstance(before, Mapping) and isinstance(after, Mapping):
            ctx.add(f"{name}_NARROWED")
        elif isinstance(before, Mapping) and not isinstance(after, Mapping):
            ctx.add(f"{name}_EXTENDED")
        elif isinstance(before, Mapping) and isinstance(after, Mapping):
            compare(ctx, o.child(before, keyword), u.child(after, keyword))


def has_default(node: Node, key: str) -> bool:
    """Whether property `key` of an object schema declares a default."""
    prop = keywords(node).get("properties", {}).get(key)
    return isinstance(prop, Mapping) and "default" in prop


def compare_object(ctx: Context, o: Node, u: Node) -> None:
    """ObjectSchemaDiff: required, properties against the content model, extra properties."""
    os, us = keywords(o), keywords(u)
    o_props, u_props = os.get("properties", {}), us.get("properties", {})
    for node, props in ((o, o_props), (u, u_props)):
        required = keywords(node).get("required", [])
        if not isinstance(props, Mapping):
            raise InvalidInput(f"{node.where}/properties: must be an object")
        if not isinstance(required, list):
            raise InvalidInput(f"{node.where}/required: must be a list")
    o_req, u_req = set(os.get("required", [])), set(us.get("required", []))
    for key in o_props:
        if key in u_props and (key in o_req) != (key in u_req):
            if key in o_req:
                ctx.add("REQUIRED_ATTRIBUTE_REMOVED", "required", key)
            elif has_default(u, key):
                ctx.add("REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED", "required", key)
            else:
                ctx.add("REQUIRED_ATTRIBUTE_ADDED", "required", key)
    for key in [*o_props, *(k for k in u_props if k not in o_props)]:
        with ctx.at("properties", key):
            if key not in u_props:
                property_removed(ctx, o, u, key)
            elif key not in o_props:
                property_added(ctx, o, u, key, required=key in u_req)
            else:
                compare(ctx, o.child(o_props[key], key), u.child(u_props[key], key))
    compare_dependencies(ctx, o, u)
    compare_additional(ctx, o, u, "additionalProperties", "ADDITIONAL_PROPERTIES")
    compare_bound(ctx, o, u, "maxProperties", "MAX_PROPERTIES")
    compare_bound(ctx, o, u, "minProperties", "MIN_PROPERTIES")


def compare_dependencies(ctx: Context, o: Node, u: Node) -> None:
    """`dependencies`: property lists (more is stricter) and schemas (compared)."""
    before, after = keywords(o).get("dependencies", {}), keywords(u).get("dependencies", {})
    for node, deps in ((o, before), (u, after)):
        if not isinstance(deps, Mapping):
            raise InvalidInput(f"{node.where}/dependencies: must be an object")
    for key in [*before, *(k for k in after if k not in before)]:
        old, new = before.get(key), after.get(key)
        with ctx.at("dependencies", key):
            if isinstance(old, list) or isinstance(new, list):
                if new is None:
                    ctx.add("DEPENDENCY_ARRAY_REMOVED")
                elif old is None:
                    ctx.add("DEPENDENCY_ARRAY_ADDED")
                elif not isinstance(old, list) or not isinstance(new, list):
                    ctx.add("DEPENDENCY_ARRAY_CHANGED")
                elif set(new) > set(old):
                    ctx.add("DEPENDENCY_ARRAY_EXTENDED")
                elif set(new) < set(old):
                    ctx.add("DEPENDENCY_ARRAY_NARROWED")
                elif set(new) != set(old):
                    ctx.add("DEPENDENCY_ARRAY_CHANGED")
            elif new is None:
                ctx.add("DEPENDENCY_SCHEMA_REMOVED")
            elif old is None:
                ctx.add("DEPENDENCY_SCHEMA_ADDED")
            else:
                where = f"dependencies/{key}"
                compare(ctx, o.child(old, where), u.child(new, where))


def property_removed(ctx: Context, o: Node, u: Node, key: str) -> None:
    """A property only the original has: fine if the update still accepts it."""
    before = o.child(keywords(o)["properties"][key], key)
    if open_content(keywords(u), *OBJECT_EXTRA):
        ctx.add("PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL")
    elif (partial := partial_schema(u, *OBJECT_EXTRA, key)) is not None:
        sub = ctx.sub()
        compare(sub, before, partial)
        ctx.differences += sub.differences
        ok = sub.compatible()
        ctx.add(f"PROPERTY_REMOVED_{'IS' if ok else 'NOT'}_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL")
    elif before.schema is False:
        ctx.add("PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL")
    else:
        ctx.add("PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL")


def property_added(ctx: Context, o: Node, u: Node, key: str, *, required: bool) -> None:
    """A property only the update has: fine if the original never allowed other values."""
    after = u.child(keywords(u)["properties"][key], key)
    if open_content(keywords(o), *OBJECT_EXTRA):
        if after.schema is True or after.schema == {}:
            ctx.add("PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL")
        elif required:
            with_default = "WITH_DEFAULT_" if has_default(u, key) else ""
            ctx.add(f"REQUIRED_PROPERTY_{with_default}ADDED_TO_OPEN_CONTENT_MODEL")
        else:
            ctx.add("OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL")
        return
    partial = partial_schema(o, *OBJECT_EXTRA, key)
    if partial is not None:
        sub = ctx.sub()
        compare(sub, partial, after)
        ctx.differences += sub.differences
        ok = sub.compatible()
        ctx.add(f"PROPERTY_ADDED_{'IS' if ok else 'NOT'}_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL")
    if not required:
        ctx.add("OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL")
    elif has_default(u, key):
        ctx.add("REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL")
    else:
        ctx.add("REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL")


def item_schemas(node: Node) -> tuple[Node | None, list[Node], str]:
    """(the schema of every item, the tuple schemas, the keyword for items after them).

    Draft 2020-12 spells a tuple `prefixItems` with `items` for the rest; earlier drafts
    spell it `items: [...]` with `additionalItems`.
    """
    s = keywords(node)
    if isinstance(s.get("prefixItems"), list):
        prefix = [node.child(x, f"prefixItems/{i}") for i, x in enumerate(s["prefixItems"])]
        return None, prefix, "items"
    items = s.get("items")
    if isinstance(items, list):
        return None, [node.child(x, f"items/{i}") for i, x in enumerate(items)], "additionalItems"
    return (node.child(items, "items") if items is not None else None), [], "additionalItems"


def compare_array(ctx: Context, o: Node, u: Node) -> None:
    """ArraySchemaDiff: items, tuple items against the content model, bounds, uniqueness."""
    o_all, o_tuple, o_rest = item_schemas(o)
    u_all, u_tuple, u_rest = item_schemas(u)
    with ctx.at("items"):
        compare(ctx, o_all, u_all)
    for i in range(max(len(o_tuple), len(u_tuple))):
        with ctx.at("items", str(i)):
            if i < len(o_tuple) and i < len(u_tuple):
                compare(ctx, o_tuple[i], u_tuple[i])
            elif i < len(o_tuple):
                tuple_item_removed(ctx, o_tuple[i], u, u_rest)
            else:
                tuple_item_added(ctx, o, o_rest, u_tuple[i])
    if o_rest == u_rest == "additionalItems":
        compare_additional(ctx, o, u, "additionalItems", "ADDITIONAL_ITEMS")
    compare_bound(ctx, o, u, "maxItems", "MAX_ITEMS")
    compare_bound(ctx, o, u, "minItems", "MIN_ITEMS")
    before, after = keywords(o).get("uniqueItems") is True, keywords(u).get("uniqueItems") is True
    if before != after:
        ctx.add("UNIQUE_ITEMS_REMOVED" if before else "UNIQUE_ITEMS_ADDED", "uniqueItems")


def tuple_item_removed(ctx: Context, before: Node, u: Node, rest: str) -> None:
    """A tuple position only the original has: fine if the update still accepts it."""
    if open_content(keywords(u), rest, None):
        ctx.add("ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL")
    elif (partial := partial_schema(u, rest, None, "")) is not None:
        sub = ctx.sub()
        compare(sub, before, partial)
        ctx.differences += sub.differences
        ok = sub.compatible()
        ctx.add(f"ITEM_REMOVED_{'IS' if ok else 'NOT'}_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL")
    elif before.schema is False:
        ctx.add("ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL")
    else:
        ctx.add("ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL")


def tuple_item_added(ctx: Context, o: Node, rest: str, after: Node) -> None:
    """A tuple position only the update has: fine if the original never allowed others."""
    if open_content(keywords(o), rest, None):
        empty = after.schema is True or after.schema == {}
        ctx.add(f"ITEM_{'WITH_EMPTY_SCHEMA_' if empty else ''}ADDED_TO_OPEN_CONTENT_MODEL")
    elif (partial := partial_schema(o, rest, None, "")) is not None:
        sub = ctx.sub()
        compare(sub, partial, after)
        ctx.differences += sub.differences
        ok = sub.compatible()
        ctx.add(f"ITEM_ADDED_{'IS' if ok else 'NOT'}_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL")
    else:
        ctx.add("ITEM_ADDED_TO_CLOSED_CONTENT_MODEL")
