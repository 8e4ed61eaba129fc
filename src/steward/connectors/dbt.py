"""The dbt source: a dbt target directory's models, sources, seeds, snapshots and exposures.

```toml
[sources.shop]
type = "dbt"
target = "/srv/shop/target"               # relative paths resolve against STEWARD_HOME
namespace = "duckdb:///srv/shop/shop.duckdb"  # optional: derived from profiles.yml if absent
```

See docs/sources-dbt.md for what is read from which artifact.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from steward.catalog.models import DiscoveredTable, TableRef
from steward.connectors.dbt_artifacts import (
    CATALOG,
    MANIFEST,
    RUN_RESULTS,
    derive_namespace,
    read_artifacts,
)
from steward.connectors.dbt_column_lineage import ColumnLineage
from steward.connectors.dbt_nodes import discover
from steward.errors import ConfigError, NotFound, SamplingUnsupported

PATH_OPTIONS = ("target", "catalog", "run_results", "profiles_dir")
OPTIONS = (*PATH_OPTIONS, "namespace")


class DbtSource:
    """The tables a dbt project builds or reads, as its artifacts describe them.

    The artifacts are parsed on the first `list_tables()` and again only when one of
    them changes on disk.
    """

    type = "dbt"

    def __init__(
        self,
        name: str,
        *,
        target: Path,
        namespace: str | None = None,
        catalog: Path | None = None,
        run_results: Path | None = None,
        profiles_dir: Path | None = None,
    ) -> None:
        self.name = name
        self.target = target
        self.manifest_path = target / MANIFEST
        self.catalog_path = catalog or target / CATALOG
        self.run_results_path = run_results or target / RUN_RESULTS
        self.profiles_dir = profiles_dir
        self.configured_namespace = namespace
        self.namespace_from: str | None = None  # "option", "profiles.yml" or "adapter type"
        self._namespace = namespace or ""
        self._stamp: tuple[tuple[int, int] | None, ...] | None = None
        self._tables: dict[str, DiscoveredTable] = {}
        self._column_lineage: ColumnLineage | None = None
        self._loaded: dict[str, DiscoveredTable] = {}

    def list_tables(self) -> Iterable[TableRef]:
        """Every model, source, seed, snapshot and exposure, with its fingerprint."""
        return [TableRef(t.name, t.fingerprint) for t in self._discovered().values()]

    def load_table(self, ref: TableRef) -> DiscoveredTable:
        """Everything the artifacts say of one listed table, with its models' column lineage.

        Column lineage is traced here, not in `list_tables()`, so listing stays cheap; it
        follows from the compiled SQL and the columns, which the fingerprint covers.
        """
        tables = self._discovered()
        if ref.name not in self._loaded:
            try:
                table = tables[ref.name]
            except KeyError:
                raise NotFound(f"source {self.name}: no dbt node is named {ref.name}") from None
            if self._column_lineage is None:
                self._column_lineage = ColumnLineage(self._artifacts, tables)
            traced = self._column_lineage.trace(table)
            self._loaded[ref.name] = dataclasses.replace(
                table,
                column_upstream=traced.column_upstream,
                column_transformations=traced.transformations,
                dataset_upstream=traced.dataset,
            )
        return self._loaded[ref.name]

    def close(self) -> None:
        """Nothing to release: the artifacts are read whole."""

    def sample(self, name: str, columns: Sequence[str], limit: int) -> list[dict[str, Any]]:
        """dbt artifacts describe tables but hold none of their rows."""
        raise SamplingUnsupported(
            f"source {self.name}: dbt artifacts hold no rows; sample {name} through the "
            "source that reads the warehouse"
        )

    @property
    def namespace(self) -> str:
        """The warehouse's OpenLineage namespace: the option, else derived (`namespace_from`)."""
        self._discovered()
        return self._namespace

    def _discovered(self) -> dict[str, DiscoveredTable]:
        stamp = tuple(
            _stamp(path) for path in (self.manifest_path, self.catalog_path, self.run_results_path)
        )
        if stamp != self._stamp:
            artifacts = read_artifacts(self.manifest_path, self.catalog_path, self.run_results_path)
            if self.configured_namespace:
                self._namespace, self.namespace_from = self.configured_namespace, "option"
            else:
                self._namespace, self.namespace_from = derive_namespace(
                    artifacts, target=self.target, profiles_dir=self.profiles_dir
                )
            self._tables = discover(artifacts, self._namespace)
            self._artifacts = artifacts
            self._column_lineage, self._loaded = None, {}
            self._stamp = stamp
        return self._tables


def open_dbt(name: str, options: Mapping[str, Any], *, home: Path) -> DbtSource:
    """The dbt source `[sources.NAME]` describes; relative paths resolve against `home`.

    Options: `target` (the dbt target directory, required), `namespace` (the warehouse's
    OpenLineage namespace), `catalog` and `run_results` (those artifacts, when not in
    `target`), `profiles_dir` (where profiles.yml is, to derive the namespace).
    """
    for key in options:
        if key not in OPTIONS:
            raise ConfigError(
                f"sources.{name}.{key}: not a dbt source option (use {', '.join(OPTIONS)})"
            )
    if "target" not in options:
        raise ConfigError(f"sources.{name}.target: required (the dbt target directory)")
    paths = {key: _path(name, key, options[key], home) for key in PATH_OPTIONS if key in options}
    namespace = options.get("namespace")
    if namespace is not None and (not isinstance(namespace, str) or not namespace.strip()):
        raise ConfigError(f"sources.{name}.namespace: expected a non-empty string")
    return DbtSource(
        name,
        target=paths["target"],
        namespace=namespace.strip() if namespace else None,
        catalog=paths.get("catalog"),
        run_results=paths.get("run_results"),
        profiles_dir=paths.get("profiles_dir"),
    )


def _path(name: str, key: str, value: object, home: Path) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"sources.{name}.{key}: expected a path, found {value!r}")
    path = Path(value).expanduser()
    return path if path.is_absolute() else home / path


def _stamp(path: Path) -> tuple[int, int] | None:
    """What tells a changed artifact from an unchanged one without reading it."""
    try:
        found = path.stat()
    except OSError:
        return None
    return (found.st_mtime_ns, found.st_size)
