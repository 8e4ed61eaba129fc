"""Connectors: what reads other systems (Iceberg catalogs, databases, dbt artifacts) into the catalog.

`open_source` turns one `[sources.NAME]` table of `steward.toml` into a `Source`;
the type's module is imported only when a source of that type is opened, so
`steward --help` never loads pyiceberg or DuckDB.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from steward.catalog.models import Source
from steward.errors import ConfigError

EMBEDDED_LAKE = "lake"
SOURCE_TYPES = ("iceberg", "sqlalchemy", "dbt")


def source_configs(configured: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The configured sources, with the embedded `lake` added unless a source took its name."""
    found = {name: dict(config) for name, config in configured.items()}
    found.setdefault(EMBEDDED_LAKE, {"type": "iceberg", "embedded": True})
    return found


def open_source(name: str, config: Mapping[str, Any], *, home: Path) -> Source:
    """The `Source` that `config` (one `[sources.NAME]` table) describes."""
    if not name or "." in name:
        raise ConfigError(f"sources.{name}: a source name is one word without dots")
    kind = config.get("type")
    options = {key: value for key, value in config.items() if key != "type"}
    if kind == "iceberg":
        from steward.connectors.iceberg import open_iceberg

        return open_iceberg(name, options, home=home)
    if kind == "sqlalchemy":
        from steward.connectors.databases import open_database

        return open_database(name, options)
    if kind == "dbt":
        from steward.connectors.dbt import open_dbt

        return open_dbt(name, options, home=home)
    raise ConfigError(
        f"sources.{name}.type: {kind!r} is not one of {', '.join(SOURCE_TYPES)}"
    )
