"""The configured engine, resolved by name: `engine = "duckdb" | "spark"` in the settings.

Engines are found lazily by module path, so that choosing DuckDB never imports pyspark
and an engine whose package is missing fails with a message saying what to install.
Each engine class has `from_settings(settings)`, which reads its own settings (the
query limits; Spark's `spark_remote`).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol, cast

from steward.engines.base import EngineUnsupported, Limits, NativeTable, TableData
from steward.errors import ConfigError

if TYPE_CHECKING:
    from steward.config import Settings
    from steward.engines.base import Engine

# Engine name -> "module:class"; the class has `from_settings(settings) -> Engine`. The
# `engine` setting chooses among the first two; PostgreSQL reads its own sources' tables.
ENGINES = {
    "duckdb": "steward.engines.duckdb:DuckDBEngine",
    "spark": "steward.engines.spark:SparkEngine",
    "postgresql": "steward.engines.postgres:PostgresEngine",
}
# Engine name -> its sqlglot dialect, and the module holding its `ALLOWED_FUNCTIONS`:
# known without starting the engine (`policy validate --engine spark`).
DIALECTS = {"duckdb": "duckdb", "spark": "spark", "postgresql": "postgres"}
FUNCTIONS = {
    "duckdb": "steward.engines.duckdb_functions",
    "spark": "steward.engines.spark_functions",
    "postgresql": "steward.engines.postgres_functions",
}
# Databases that read their own tables (`NativeTable.backend` -> engine name).
NATIVE_BACKENDS = frozenset({"postgresql"})
# The distribution to install for an engine whose module cannot be imported.
PACKAGES = {"spark": "data-steward[spark] (pyspark[connect])"}


class EngineClass(Protocol):
    """An engine class: made from the settings."""

    def from_settings(self, settings: Settings) -> Engine: ...  # pragma: no cover


def open_engine(settings: Settings) -> Engine:
    """The engine `settings.engine` names, made from the settings."""
    return engine_class(settings.engine).from_settings(settings)


def engine_class(name: str) -> EngineClass:
    """The class of engine `name`; `ConfigError` naming what is missing if it cannot load."""
    _known(name)
    module_name, _, class_name = ENGINES[name].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        package = PACKAGES.get(name, exc.name or module_name)
        raise ConfigError(
            f"engine: {name} needs {package}, which is not installed ({exc}); install it"
            ' or set engine = "duckdb"'
        ) from None
    return cast("EngineClass", getattr(module, class_name))


def engine_dialect(name: str) -> str:
    """The sqlglot dialect of engine `name`."""
    _known(name)
    return DIALECTS[name]


def allowed_functions(name: str) -> frozenset[str]:
    """The functions engine `name` lets a caller call, without starting the engine."""
    _known(name)
    module = importlib.import_module(FUNCTIONS[name])
    return cast("frozenset[str]", module.ALLOWED_FUNCTIONS)


def _known(name: str) -> None:
    if name not in ENGINES:
        raise ConfigError(f"engine: unknown engine {name!r}; known: {', '.join(sorted(ENGINES))}")


def native_backend(tables: Mapping[str, TableData]) -> str | None:
    """The database whose own engine must read `tables`, or None for the configured engine.

    A PostgreSQL source's tables are read by PostgreSQL itself (`NATIVE_BACKENDS`); tables
    of any other kind (Iceberg files, DuckDB database files) by the configured engine.
    """
    native = [
        data
        for data in tables.values()
        if isinstance(data, NativeTable) and data.backend in NATIVE_BACKENDS
    ]
    if not native:
        return None
    backends = {data.backend for data in native}
    if len(backends) > 1 or len(native) < len(tables):
        raise EngineUnsupported(
            "sql: the tables live in different systems; one statement reads one of them"
        )
    return backends.pop()


def limits_from(settings: Settings) -> Limits:
    """The limits every governed statement runs under, from the `query_*` settings."""
    return Limits(
        timeout_seconds=settings.query_timeout_seconds,
        memory_limit=settings.query_memory_limit,
        threads=settings.query_threads,
        max_result_bytes=settings.query_max_result_bytes,
    )
