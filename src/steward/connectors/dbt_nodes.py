"""What each dbt node (model, source, seed, snapshot, exposure) tells the catalog.

Names within the source are the relations dbt builds, `{schema}.{alias}` (a source's
`{schema}.{identifier}`), with the database in front only for nodes outside the
project's main database. Identities follow the OpenLineage naming spec as `dbt-ol`
applies it: the warehouse namespace and `{database}.{schema}.{alias}`. Every node also
carries the symlink `dbt://{project_name}` + its dbt unique_id.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from steward.catalog.models import Column, DiscoveredTable, Identity, Owner, TableKind, Test
from steward.connectors.dbt_artifacts import Artifacts

log = logging.getLogger(__name__)

BUILT: tuple[TableKind, ...] = ("model", "seed", "snapshot")  # resource types dbt builds


def discover(artifacts: Artifacts, namespace: str) -> dict[str, DiscoveredTable]:
    """Every table and exposure of the project, by name within the source, fingerprinted."""
    return _Project(artifacts, namespace).tables()


def dbt_namespace(project_name: str) -> str:
    """The namespace of the symlink identity every dbt node carries: `dbt://{project}`."""
    return f"dbt://{project_name}"


class _Project:
    """One manifest's nodes, with what they share: names, tests, group owners."""

    def __init__(self, artifacts: Artifacts, namespace: str) -> None:
        self.artifacts = artifacts
        self.namespace = namespace
        self.manifest_nodes: Mapping[str, Any] = artifacts.manifest.get("nodes") or {}
        self.sources: Mapping[str, Any] = artifacts.manifest.get("sources") or {}
        self.relations = {
            uid: node
            for uid, node in sorted(self.manifest_nodes.items())
            if node.get("resource_type") in BUILT and _materialized(node) != "ephemeral"
        }
        self.relations.update(sorted(self.sources.items()))
        databases = Counter(str(node.get("database") or "") for node in self.relations.values())
        self.main_database = databases.most_common(1)[0][0] if databases else ""
        self.names: dict[str, str] = {}
        taken: dict[str, str] = {}
        for uid, node in self.relations.items():
            name = self._name(node)
            if name in taken:
                log.warning("dbt: %s and %s are both %s; keeping the first", taken[name], uid, name)
                continue
            taken[name] = uid
            self.names[uid] = name
        self.tests = self._tests()
        self.group_owners = self._group_owners()

    def tables(self) -> dict[str, DiscoveredTable]:
        found: dict[str, DiscoveredTable] = {}
        for uid, name in self.names.items():
            found[name] = _fingerprinted(self._table(uid, name, self.relations[uid]))
        exposures: Mapping[str, Any] = self.artifacts.manifest.get("exposures") or {}
        for uid, exposure in sorted(exposures.items()):
            table = _fingerprinted(self._exposure(uid, exposure))
            found.setdefault(table.name, table)
        return found

    def _name(self, node: Mapping[str, Any]) -> str:
        database = str(node.get("database") or "")
        parts = [str(node.get("schema") or ""), _relation(node)]
        if database and database != self.main_database:
            parts.insert(0, database)
        return ".".join(part for part in parts if part)

    def _table(self, uid: str, name: str, node: Mapping[str, Any]) -> DiscoveredTable:
        kind: TableKind = (
            "source" if node.get("resource_type") == "source" else node["resource_type"]
        )
        catalog = self.artifacts.catalog_nodes.get(uid, {})
        # dbt-ol names a source by its `name`, the naming spec by the relation: when they
        # differ, the dbt-ol name is a symlink so its events still meet this table.
        symlinks = [Identity(dbt_namespace(self.artifacts.project_name), uid)]
        if kind == "source" and node.get("name") and node.get("name") != _relation(node):
            symlinks.append(Identity(self.namespace, _dataset_name(node, str(node["name"]))))
        code = node.get("compiled_code")
        return DiscoveredTable(
            name=name,
            kind=kind,
            identity=Identity(self.namespace, _dataset_name(node, _relation(node))),
            columns=_columns(node, catalog),
            description=_text(node.get("description")),
            owners=self._owners(node),
            tags=_strings(node.get("tags")),
            tests=self.tests.get(uid, ()),
            upstream=self._upstream(_depends_on(node)),
            symlinks=tuple(symlinks),
            definition=code if isinstance(code, str) and code.strip() else None,
            properties=_properties(
                dbt_unique_id=uid,
                dbt_resource_type=node.get("resource_type"),
                materialized=_materialized(node),
                relation_name=node.get("relation_name"),
                original_file_path=node.get("original_file_path"),
                package=node.get("package_name"),
                access=node.get("access"),
                group=_group(node),
                source_name=node.get("source_name"),
                source_description=node.get("source_description"),
                loader=node.get("loader"),
            ),
        )

    def _exposure(self, uid: str, exposure: Mapping[str, Any]) -> DiscoveredTable:
        owner = _object(exposure.get("owner"))
        owners = [Owner(str(who), "user", "business") for who in [_contact(owner)] if who]
        return DiscoveredTable(
            name=f"exposures.{exposure.get('name') or uid}",
            kind="exposure",
            identity=Identity(dbt_namespace(self.artifacts.project_name), uid),
            description=_text(exposure.get("description")),
            owners=_unique([*owners, *_meta_owners(exposure)]),
            tags=_strings(exposure.get("tags")),
            upstream=self._upstream(_depends_on(exposure)),
            properties=_properties(
                dbt_unique_id=uid,
                dbt_resource_type="exposure",
                url=exposure.get("url"),
                type=exposure.get("type"),
                label=exposure.get("label"),
                maturity=exposure.get("maturity"),
                original_file_path=exposure.get("original_file_path"),
            ),
        )

    def _owners(self, node: Mapping[str, Any]) -> tuple[Owner, ...]:
        owners = list(_meta_owners(node))
        group_owner = self.group_owners.get(_group(node) or "")
        if group_owner is not None:
            owners.append(group_owner)
        return _unique(owners)

    def _upstream(self, dependencies: Iterable[str]) -> tuple[str, ...]:
        """Names of what these dbt nodes are; through ephemeral models to what they read."""
        found: list[str] = []
        seen: set[str] = set()
        pending = list(dependencies)
        while pending:
            uid = pending.pop(0)
            if uid in seen:
                continue
            seen.add(uid)
            if uid in self.names:
                found.append(self.names[uid])
            elif _materialized(self.manifest_nodes.get(uid, {})) == "ephemeral":
                pending.extend(_depends_on(self.manifest_nodes[uid]))
        return tuple(dict.fromkeys(found))

    def _tests(self) -> dict[str, tuple[Test, ...]]:
        """The tests of each node, by the node's unique_id."""
        found: dict[str, list[Test]] = {}
        for uid, node in sorted(self.manifest_nodes.items()):
            if node.get("resource_type") != "test":
                continue
            metadata = _object(node.get("test_metadata"))
            kwargs = _object(metadata.get("kwargs"))
            kind = str(metadata.get("name") or node.get("name") or uid)
            if metadata.get("namespace"):
                kind = f"{metadata['namespace']}.{kind}"
            column = node.get("column_name") or kwargs.get("column_name")
            test = Test(
                name=kind,
                column=str(column) if column else None,
                unique_id=uid,
                status=self.artifacts.test_statuses.get(uid),
            )
            for attached in self._tested(node, kwargs):
                found.setdefault(attached, []).append(test)
        return {uid: tuple(tests) for uid, tests in found.items()}

    def _tested(self, test: Mapping[str, Any], kwargs: Mapping[str, Any]) -> list[str]:
        """The node a test is on: `attached_node`, else the dependency its `model` names."""
        attached = test.get("attached_node")
        if isinstance(attached, str) and attached:
            return [attached]
        dependencies = list(_depends_on(test))
        if len(dependencies) <= 1:
            return dependencies
        # A source's test has no attached_node; its `model` argument says which it tests.
        model = "".join(str(kwargs.get("model") or "").split()).replace('"', "'")
        for uid in dependencies:
            node = self.sources.get(uid) or self.manifest_nodes.get(uid) or {}
            calls = (
                f"source('{node.get('source_name')}','{node.get('name')}')",
                f"ref('{node.get('name')}')",
            )
            if any(call in model for call in calls):
                return [uid]
        return dependencies

    def _group_owners(self) -> dict[str, Owner]:
        """A dbt group's owner, by group name: the team answerable for the group's models."""
        found: dict[str, Owner] = {}
        groups: Mapping[str, Any] = self.artifacts.manifest.get("groups") or {}
        for group in groups.values():
            owner = _object(group.get("owner"))
            who = _contact(owner) or group.get("name")
            if group.get("name") and who:
                found[str(group["name"])] = Owner(str(who), "group", "business")
        return found


def _columns(node: Mapping[str, Any], catalog: Mapping[str, Any]) -> tuple[Column, ...]:
    """The warehouse's columns in its order (catalog.json), then those only documented."""
    documented = {
        str(name).lower(): column
        for name, column in (node.get("columns") or {}).items()
        if isinstance(column, dict)
    }
    in_warehouse = [c for c in (catalog.get("columns") or {}).values() if isinstance(c, dict)]
    in_warehouse.sort(key=lambda column: _index(column.get("index")))
    columns: list[Column] = []
    for found in in_warehouse:
        name = str(found.get("name") or "")
        doc = documented.pop(name.lower(), {})
        columns.append(_column(name, str(found.get("type") or doc.get("data_type") or ""), doc))
    for doc in documented.values():
        columns.append(_column(str(doc.get("name") or ""), str(doc.get("data_type") or ""), doc))
    return tuple(column for column in columns if column.name)


def _column(name: str, type_: str, doc: Mapping[str, Any]) -> Column:
    constraints = doc.get("constraints")
    constraints = constraints if isinstance(constraints, list) else []
    not_null = any(isinstance(c, dict) and c.get("type") == "not_null" for c in constraints)
    return Column(
        name=name,
        type=type_,
        description=_text(doc.get("description")),
        nullable=not not_null,
        tags=_strings(doc.get("tags")),
    )


def _meta_owners(node: Mapping[str, Any]) -> tuple[Owner, ...]:
    """`meta.owner` (node, config, or a source's source_meta): one user or a list of them."""
    owners: list[Owner] = []
    config = _object(node.get("config"))
    for meta in (node.get("meta"), config.get("meta"), node.get("source_meta")):
        stated = meta.get("owner") if isinstance(meta, dict) else None
        for who in [stated] if isinstance(stated, str) else stated or []:
            if isinstance(who, str) and who.strip():
                owners.append(Owner(who.strip(), "user", "technical"))
    return _unique(owners)


def _fingerprinted(table: DiscoveredTable) -> DiscoveredTable:
    """`table` with the hash of everything it says, so an unchanged node re-syncs cheaply."""
    text = json.dumps(dataclasses.asdict(table), sort_keys=True, default=str)
    return dataclasses.replace(table, fingerprint=hashlib.sha256(text.encode()).hexdigest())


def _dataset_name(node: Mapping[str, Any], table: str) -> str:
    """`{database}.{schema}.{table}`, leaving out empty parts as dbt-ol does."""
    parts = (node.get("database"), node.get("schema"), table)
    return ".".join(str(part) for part in parts if part)


def _relation(node: Mapping[str, Any]) -> str:
    """The table dbt builds or reads: a source's identifier, else the alias, else the name."""
    if node.get("resource_type") == "source":
        return str(node.get("identifier") or node.get("name") or "")
    return str(node.get("alias") or node.get("name") or "")


def _materialized(node: Mapping[str, Any]) -> str | None:
    config = _object(node.get("config"))
    value = config.get("materialized")
    return str(value) if value else None


def _group(node: Mapping[str, Any]) -> str | None:
    config = _object(node.get("config"))
    value = node.get("group") or config.get("group")
    return str(value) if value else None


def _depends_on(node: Mapping[str, Any]) -> tuple[str, ...]:
    depends = _object(node.get("depends_on"))
    nodes = depends.get("nodes")
    return tuple(str(uid) for uid in nodes) if isinstance(nodes, list) else ()


def _contact(owner: Mapping[str, Any]) -> str | None:
    """An owner's email, else name (dbt groups and exposures state both)."""
    value = owner.get("email") or owner.get("name")
    if isinstance(value, list):  # dbt allows a list of emails
        value = value[0] if value else None
    return str(value) if value else None


def _object(value: object) -> Mapping[str, Any]:
    """`value` if it is a JSON object, else an empty one: artifacts vary across dbt versions."""
    return value if isinstance(value, dict) else {}


def _index(value: object) -> int:
    return value if isinstance(value, int) else 1_000_000


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _strings(values: object) -> tuple[str, ...]:
    if not isinstance(values, list):
        return ()
    return tuple(dict.fromkeys(str(value) for value in values if value))


def _unique(owners: Iterable[Owner]) -> tuple[Owner, ...]:
    return tuple(dict.fromkeys(owners))


def _properties(**values: object) -> dict[str, str]:
    return {key: str(value) for key, value in values.items() if value not in (None, "")}
