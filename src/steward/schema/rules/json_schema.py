"""JSON Schema subjects, by Confluent Schema Registry's JSON Schema compatibility rules.

Confluent compares two schemas (`SchemaDiff.compare(original, update)`) into a list of
differences, each of a `Difference.Type`; a change is compatible when every difference
is in `SchemaDiff.COMPATIBLE_CHANGES`. BACKWARD compares the previous schema (original)
with the new one (update); FORWARD the other way round. No Python library implements
these rules, so this module follows Confluent's diff (json-schema-provider, package
`io.confluent.kafka.schemaregistry.json.diff`) keyword by keyword, with its names for
the differences: the rule id of `REQUIRED_ATTRIBUTE_ADDED` is
`json.required-attribute-added`.

Confluent parses schemas with everit-json-schema; this module reads the JSON the way
everit models it: `type: [a, b]` is an `anyOf`, a schema with keywords of several kinds
(`type: string` with `enum`) is an `allOf` of one schema per kind, `true`/`{}` is the
empty schema, `$ref` to the same document is followed. Not covered: `contains`,
`unevaluated*`, draft 2019's `dependentRequired`/`dependentSchemas`, and references to
other subjects (compared as text).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from steward.errors import InvalidInput
from steward.schema.compatibility import (
    Direction,
    Incompatibility,
    Mode,
    SchemaDocument,
    versions_to_check,
)

# SchemaDiff.COMPATIBLE_CHANGES, for the differences this module finds.
COMPATIBLE = frozenset(
    {
        "SCHEMA_REMOVED",
        "TYPE_EXTENDED",
        "MAX_LENGTH_INCREASED",
        "MAX_LENGTH_REMOVED",
        "MIN_LENGTH_DECREASED",
        "MIN_LENGTH_REMOVED",
        "PATTERN_REMOVED",
        "MAXIMUM_INCREASED",
        "MAXIMUM_REMOVED",
        "MINIMUM_DECREASED",
        "MINIMUM_REMOVED",
        "EXCLUSIVE_MAXIMUM_INCREASED",
        "EXCLUSIVE_MAXIMUM_REMOVED",
        "EXCLUSIVE_MINIMUM_DECREASED",
        "EXCLUSIVE_MINIMUM_REMOVED",
        "MULTIPLE_OF_REDUCED",
        "MULTIPLE_OF_REMOVED",
        "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED",
        "REQUIRED_ATTRIBUTE_REMOVED",
        "DEPENDENCY_ARRAY_NARROWED",
        "DEPENDENCY_ARRAY_REMOVED",
        "DEPENDENCY_SCHEMA_REMOVED",
        "MAX_PROPERTIES_INCREASED",
        "MAX_PROPERTIES_REMOVED",
        "MIN_PROPERTIES_DECREASED",
        "MIN_PROPERTIES_REMOVED",
        "ADDITIONAL_PROPERTIES_ADDED",
        "ADDITIONAL_PROPERTIES_EXTENDED",
        "PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL",
        "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL",
        "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL",
        "PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL",
        "PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL",
        "PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        "PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        "MAX_ITEMS_INCREASED",
        "MAX_ITEMS_REMOVED",
        "MIN_ITEMS_DECREASED",
        "MIN_ITEMS_REMOVED",
        "UNIQUE_ITEMS_REMOVED",
        "ADDITIONAL_ITEMS_ADDED",
        "ADDITIONAL_ITEMS_EXTENDED",
        "ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL",
        "ITEM_ADDED_TO_CLOSED_CONTENT_MODEL",
        "ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL",
        "ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL",
        "ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        "ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        "ENUM_ARRAY_EXTENDED",
        "COMBINED_TYPE_EXTENDED",
        "PRODUCT_TYPE_NARROWED",
        "SUM_TYPE_EXTENDED",
        "NOT_TYPE_NARROWED",
    }
)

TYPES = ("object", "array", "string", "number", "integer", "boolean", "null")
KEYWORDS = {
    "object": (
        "properties",
        "required",
        "additionalProperties",
        "patternProperties",
        "dependencies",
        "minProperties",
        "maxProperties",
    ),
    "array": ("items", "prefixItems", "additionalItems", "minItems", "maxItems", "uniqueItems"),
    "string": ("minLength", "maxLength", "pattern"),
    "number": ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"),
}
COMBINERS = ("allOf", "anyOf", "oneOf")


def check_json_schema(
    new: SchemaDocument, previous: Sequence[SchemaDocument], mode: Mode
) -> list[Incompatibility]:
    """Check a new JSON Schema against the previous versions (oldest first) under `mode`.

    Raises:
        InvalidInput: a schema is not JSON, or not a JSON Schema (an object or a boolean).
    """
    new_schema = parse_json_schema(new, "schema")
    found: list[Incompatibility] = []
    for index in versions_to_check(len(previous), mode):
        # A previous version was read whole when it was registered; its parts are
        # read again only where the comparison reaches them.
        old_schema = parse_json_schema(previous[index], f"previous[{index}]", whole=False)
        if mode.backward:
            found += incompatibilities(old_schema, new_schema, index, "backward")
        if mode.forward:
            found += incompatibilities(new_schema, old_schema, index, "forward")
    return found


def parse_json_schema(document: SchemaDocument, field: str, *, whole: bool = True) -> Node:
    """The root of a JSON Schema document given as JSON text or parsed JSON.

    `whole` reads every subschema now (see `validate`); otherwise only the root.

    Raises:
        InvalidInput: not JSON, or not an object or boolean; the message names `field`.
    """
    parsed: Any = document
    if isinstance(document, str):
        try:
            parsed = json.loads(document)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{field}: not JSON: {exc}") from None
    if not isinstance(parsed, Mapping | bool):
        raise InvalidInput(f"{field}: a JSON Schema is an object or a boolean")
    root = Node(parsed, parsed, field)
    if whole:
        validate(root)
    else:
        root.parts()
    return root


SUBSCHEMA_MAPS = ("properties", "patternProperties", "definitions", "$defs", "dependencies")
SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems", "items")
SUBSCHEMAS = ("not", "items", "additionalProperties", "additionalItems")


def validate(node: Node) -> None:
    """Read every subschema once, so a schema that cannot be compared fails now.

    Raises:
        InvalidInput: a subschema that is not a schema, an unknown type, a `$ref` to
            nothing, or a keyword of the wrong shape; the message names where.
    """
    node.parts()
    s = node.schema
    if not isinstance(s, Mapping):
        return
    for keyword, shape in (("required", list), ("enum", list), ("properties", Mapping)):
        if keyword in s and not isinstance(s[keyword], shape):
            raise InvalidInput(
                f"{node.where}/{keyword}: must be {'a list' if shape is list else 'an object'}"
            )
    for keyword in SUBSCHEMA_MAPS:
        if isinstance(s.get(keyword), Mapping):
            for key, sub in s[keyword].items():
                if keyword == "dependencies" and isinstance(sub, list):
                    continue
                validate(node.child(sub, f"{keyword}/{key}"))
    for keyword in SUBSCHEMA_LISTS:
        if isinstance(s.get(keyword), list):
            for i, sub in enumerate(s[keyword]):
                validate(node.child(sub, f"{keyword}/{i}"))
        elif keyword in ("allOf", "anyOf", "oneOf", "prefixItems") and keyword in s:
            raise InvalidInput(f"{node.where}/{keyword}: must be a list of schemas")
    for keyword in SUBSCHEMAS:
        if keyword in s and not isinstance(s[keyword], list):
            validate(node.child(s[keyword], keyword))


def incompatibilities(
    original: Node, update: Node, version: int, direction: Direction
) -> list[Incompatibility]:
    """The differences from `original` to `update` that Confluent counts as incompatible."""
    ctx = Context()
    compare(ctx, original, update)
    who = (
        f"the new schema cannot read data valid for version {version}"
        if direction == "backward"
        else f"version {version} cannot read data valid for the new schema"
    )
    return [
        Incompatibility(
            rule="json." + kind.lower().replace("_", "-"),
            path=path,
            message=f"{who}: {kind.lower().replace('_', ' ')} at {path}",
            version=version,
            direction=direction,
        )
        for kind, path in dict.fromkeys(ctx.differences)
        if kind not in COMPATIBLE
    ]


@dataclass(frozen=True)
class Node:
    """One schema inside a document: the JSON, its document's root (for `$ref`), a label.

    `as_kind` pins the kind of one part of a schema with keywords of several kinds.
    `key` names a schema built here (not in the document) by where it came from, so a
    recursive schema is recognised when it comes round again.
    """

    schema: Mapping[str, Any] | bool
    root: Mapping[str, Any] | bool
    where: str
    as_kind: str | None = None
    key: tuple[Any, ...] = ()

    def identity(self) -> tuple[Any, ...]:
        """What stays the same each time this schema is reached."""
        return self.key or (id(self.schema), self.as_kind)

    def child(self, schema: Any, key: str) -> Node:
        """A subschema of this one, checked to be a schema."""
        where = f"{self.where}/{key}"
        if not isinstance(schema, Mapping | bool):
            raise InvalidInput(f"{where}: a JSON Schema is an object or a boolean")
        return Node(schema, self.root, where)

    def resolved(self) -> Node:
        """This schema with a same-document `$ref` followed (everit's ReferenceSchema)."""
        node, seen = self, set()
        while isinstance(node.schema, Mapping) and isinstance(node.schema.get("$ref"), str):
            ref: str = node.schema["$ref"]
            if not ref.startswith("#") or ref in seen:
                return node
            seen.add(ref)
            target: Any = node.root
            for token in filter(None, ref[1:].split("/")):
                token = token.replace("~1", "/").replace("~0", "~")
                if not isinstance(target, Mapping) or token not in target:
                    raise InvalidInput(f"{node.where}: $ref {ref!r} points to nothing")
                target = target[token]
            node = node.child(target, "$ref")
        return node

    def parts(self) -> list[tuple[str, Node]]:
        """The kinds of schema this one is, as everit would build them.

        Returns a list of (kind, node): kind is false, empty, ref, combined:<criterion>,
        not, enum, const, or a type name (integer is number with `integer` set).
        """
        if self.as_kind is not None:
            return [(self.as_kind, self)]
        node = self.resolved()
        s = node.schema
        if s is False:
            return [("false", node)]
        if s is True:
            return [("empty", node)]
        assert isinstance(s, Mapping)
        if isinstance(s.get("$ref"), str):
            return [("ref", node)]
        found: list[tuple[str, Node]] = []
        declared = s.get("type")
        if isinstance(declared, list) and len(declared) == 1:
            declared = declared[0]
        if isinstance(declared, list):
            branches = [
                Node({**typed_keywords(s), "type": t}, node.root, node.where, key=(id(s), t))
                for t in declared
            ]
            combined = Node({"anyOf": branches}, node.root, node.where, key=(id(s), "type"))
            found.append(("combined:anyOf", combined))
        elif declared is not None:
            if declared not in TYPES:
                raise InvalidInput(f"{node.where}/type: {declared!r} is not a JSON Schema type")
            found.append(("number" if declared == "integer" else declared, node))
        else:
            # everit infers the type from the keywords present.
            found += [(k, node) for k, words in KEYWORDS.items() if not s.keys().isdisjoint(words)]
        if "enum" in s:
            found.append(("enum", node))
        if "const" in s:
            found.append(("const", node))
        found += [(f"combined:{c}", node) for c in COMBINERS if c in s]
        if "not" in s:
            found.append(("not", node))
        if not found:
            return [("empty", node)]
        if len(found) > 1:
            # everit: keywords of several kinds make an allOf of one schema per kind.
            pinned = [Node(p.schema, p.root, p.where, kind, p.key) for kind, p in found]
            combined = Node({"allOf": pinned}, node.root, node.where, key=(id(s), "kinds"))
            return [("combined:allOf", combined)]
        return found

    def kind(self) -> tuple[str, Node]:
        """The one kind of this schema (several kinds are an allOf)."""
        return self.parts()[0]


def typed_keywords(s: Mapping[str, Any]) -> dict[str, Any]:
    """The keywords of `s` that belong to its type, without enum and combinations."""
    skip = {"type", "enum", "const", "not", *COMBINERS}
    return {k: v for k, v in s.items() if k not in skip}


@dataclass
class Context:
    """Where the comparison is and what it has found (Confluent's diff Context)."""

    differences: list[tuple[str, str]] = field(default_factory=list)
    path: list[str] = field(default_factory=list)
    in_progress: set[tuple[Any, ...]] = field(default_factory=set)

    def add(self, kind: str, *suffix: str) -> None:
        """Record a difference at the current path (plus `suffix`)."""
        self.differences.append((kind, "/" + "/".join([*self.path, *suffix])))

    def sub(self) -> Context:
        """A context for a trial comparison: same place, its own differences."""
        return Context([], list(self.path), self.in_progress)

    def compatible(self) -> bool:
        """Whether every difference found so far is a compatible one."""
        return all(kind in COMPATIBLE for kind, _ in self.differences)

    @contextmanager
    def at(self, *tokens: str) -> Iterator[None]:
        """Compare inside `tokens` (a JSON pointer step) for the `with` block."""
        self.path.extend(tokens)
        try:
            yield
        finally:
            del self.path[len(self.path) - len(tokens) :]


def compare(ctx: Context, original: Node | None, update: Node | None) -> None:
    """SchemaDiff.compare: the differences from `original` to `update` into `ctx`."""
    if original is None or update is None:
        if original is not None:
            ctx.add("SCHEMA_REMOVED")
        elif update is not None:
            ctx.add("SCHEMA_ADDED")
        return
    o_kind, o = original.kind()
    u_kind, u = update.kind()
    o_combined, u_combined = o_kind.startswith("combined:"), u_kind.startswith("combined:")
    if not o_combined and u_combined:
        subs = subschemas(u, u_kind)
        if len(subs) == 1:
            sub = ctx.sub()
            compare(sub, o, subs[0])
            if sub.compatible():
                ctx.differences += sub.differences
                return
        elif u_kind in ("combined:anyOf", "combined:oneOf"):
            for branch in subs:
                sub = ctx.sub()
                compare(sub, o, branch)
                if sub.compatible():
                    ctx.differences += sub.differences
                    ctx.add("SUM_TYPE_EXTENDED")
                    return
    elif o_combined and not u_combined:
        subs = subschemas(o, o_kind)
        if len(subs) == 1:
            sub = ctx.sub()
            compare(sub, subs[0], u)
            if sub.compatible():
                ctx.differences += sub.differences
                return
    if (o_kind.split(":")[0]) != (u_kind.split(":")[0]):
        if o_kind != "false" and u_kind != "empty":
            ctx.add("TYPE_CHANGED")
        return
    key = (o.identity(), u.identity(), o_kind)
    if key in ctx.in_progress:
        return
    ctx.in_progress.add(key)
    try:
        compare_same_kind(ctx, o_kind, o, u_kind, u)
    finally:
        ctx.in_progress.discard(key)


def compare_same_kind(ctx: Context, o_kind: str, o: Node, u_kind: str, u: Node) -> None:
    """Compare two schemas of one kind, keyword by keyword."""
    # The keyword module builds on this one's Node and compare: import it when used.
    from steward.schema.rules.json_schema_keywords import (
        compare_array,
        compare_combined,
        compare_enum,
        compare_number,
        compare_object,
        compare_string,
    )

    os, us = o.schema, u.schema
    if o_kind == "ref":
        assert isinstance(os, Mapping)
        assert isinstance(us, Mapping)
        if os["$ref"] != us["$ref"]:
            ctx.add("TYPE_CHANGED")
    elif o_kind == "string":
        compare_string(ctx, o, u)
    elif o_kind == "number":
        compare_number(ctx, o, u)
    elif o_kind == "enum":
        compare_enum(ctx, o, u)
    elif o_kind == "const":
        # ConstSchemaDiff: any other value is a changed enum (a const is not an enum).
        assert isinstance(os, Mapping)
        assert isinstance(us, Mapping)
        if json.dumps(os["const"], sort_keys=True) != json.dumps(us["const"], sort_keys=True):
            ctx.add("ENUM_ARRAY_CHANGED", "const")
    elif o_kind.startswith("combined:"):
        compare_combined(ctx, o_kind, o, u_kind, u)
    elif o_kind == "not":
        assert isinstance(os, Mapping)
        assert isinstance(us, Mapping)
        # not A accepts less than not B exactly when B accepts less than A.
        sub = ctx.sub()
        with sub.at("not"):
            compare(sub, u.child(us["not"], "not"), o.child(os["not"], "not"))
        ctx.add("NOT_TYPE_NARROWED" if sub.compatible() else "NOT_TYPE_EXTENDED", "not")
    elif o_kind == "object":
        compare_object(ctx, o, u)
    elif o_kind == "array":
        compare_array(ctx, o, u)


def subschemas(node: Node, kind: str) -> list[Node]:
    """The distinct subschemas of an allOf/anyOf/oneOf (Confluent collapses duplicates)."""
    criterion = kind.split(":", 1)[1]
    s = node.schema
    assert isinstance(s, Mapping)
    branches = s.get(criterion)
    if not isinstance(branches, list):
        raise InvalidInput(f"{node.where}/{criterion}: must be a list of schemas")
    seen: dict[str, Node] = {}
    for i, branch in enumerate(branches):
        child = branch if isinstance(branch, Node) else node.child(branch, f"{criterion}/{i}")
        text = json.dumps([child.as_kind, plain(child.schema)], sort_keys=True, default=str)
        seen.setdefault(text, child)
    return list(seen.values())


def plain(value: Any) -> Any:
    """A JSON value with any Node inside replaced by its schema (for comparing by text)."""
    if isinstance(value, Node):
        return [value.as_kind, plain(value.schema)]
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value
