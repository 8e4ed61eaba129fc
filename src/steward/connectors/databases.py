"""The `sqlalchemy` source: tables and views of any database SQLAlchemy can inspect.

Names within the source are `schema.table` (`public.orders`, `main.orders`). Views'
SQL is traced by the SQL lineage engine (`steward.lineage.sql`, through
`connectors.view_lineage`) into `upstream`, `column_upstream` and the transformation of
each upstream column; a column it cannot trace is named in the view's
`lineage_unresolved` property and the others keep their lineage. Identities follow
the OpenLineage naming spec:

| database   | namespace                  | name                             |
|------------|----------------------------|----------------------------------|
| PostgreSQL | `postgres://{host}:{port}` | `{database}.{schema}.{table}`    |
| Trino      | `trino://{host}:{port}`    | `{catalog}.{schema}.{table}`     |
| DuckDB     | `duckdb://{absolute path}` | `{file stem}.{schema}.{table}`   |
| SQLite     | `sqlite://{absolute path}` | `{table}` (`{schema}.{table}` for an attached schema) |
| MySQL      | `mysql://{host}:{port}`    | `{schema}.{table}`               |
| other      | `{backend}://{host}:{port}`| `{database}.{schema}.{table}`    |

DuckDB's is what dbt-ol emits for dbt-duckdb; the spec says nothing of SQLite, so a
SQLite table is named like a file-based database with one schema.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from steward.catalog.models import DiscoveredTable, Identity, TableRef
from steward.connectors.reflection import ReflectedTable, reflect_schema, user_schemas
from steward.connectors.view_lineage import (
    SQLGLOT_DIALECTS,
    ViewLineage,
    ViewLineageError,
    view_lineage,
)
from steward.errors import ConfigError, InvalidInput, NotFound, SourceError, StewardError

OPTIONS = ("url", "schemas", "include", "exclude")
FILE_DATABASES = ("sqlite", "duckdb")
DEFAULT_PORTS = {"postgresql": 5432, "trino": 8080, "mysql": 3306, "mariadb": 3306}


def open_database(name: str, options: Mapping[str, Any]) -> DatabaseSource:
    """The source `[sources.NAME]` with `type = "sqlalchemy"` describes.

    Options: `url` (required, a SQLAlchemy URL), `schemas` (default: every schema but
    the system ones), `include` / `exclude` (glob patterns on `schema.table`). The
    database is reached on first use, not here.
    """
    for key in options:
        if key not in OPTIONS:
            raise ConfigError(
                f"sources.{name}.{key}: unknown option for a sqlalchemy source"
                f" (known: {', '.join(OPTIONS)})"
            )
    raw = options.get("url")
    if not isinstance(raw, str) or not raw:
        raise ConfigError(
            f'sources.{name}.url: required, a SQLAlchemy URL such as "postgresql://host/db"'
        )
    try:
        url = sa.make_url(raw)
        url.get_dialect()
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError) as exc:
        raise ConfigError(f"sources.{name}.url: {exc}") from exc
    lists = {}
    for key in ("schemas", "include", "exclude"):
        value = options.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ConfigError(f"sources.{name}.{key}: expected a list of strings, got {value!r}")
        lists[key] = tuple(value)
    if url.get_backend_name() in FILE_DATABASES:
        url = _absolute_file(url)
    return DatabaseSource(
        name, url, schemas=lists["schemas"], include=lists["include"], exclude=lists["exclude"]
    )


def _absolute_file(url: sa.URL) -> sa.URL:
    if not url.database or url.database == ":memory:":
        return url
    return url.set(database=str(Path(url.database).expanduser().resolve()))


class DatabaseSource:
    """A SQLAlchemy-inspectable database as a catalog source."""

    type = "sqlalchemy"

    def __init__(
        self,
        name: str,
        url: sa.URL,
        *,
        schemas: tuple[str, ...] = (),
        include: tuple[str, ...] = (),
        exclude: tuple[str, ...] = (),
    ) -> None:
        self.name = name
        self.url = url
        self._schemas = schemas
        self._include = include
        self._exclude = exclude
        self._engine: sa.Engine | None = None
        self._tables: dict[str, ReflectedTable] | None = None

    @property
    def backend(self) -> str:
        """The database kind: `postgresql`, `duckdb`, `sqlite`, `trino`..."""
        return self.url.get_backend_name()

    @property
    def engine(self) -> sa.Engine:
        """The engine, made on first use. File databases are opened per use and never created."""
        if self._engine is None:
            options: dict[str, Any] = {}
            if self.backend in FILE_DATABASES:
                path = self.url.database
                if path and path != ":memory:" and not Path(path).is_file():
                    raise SourceError(f"source {self.name}: no database file at {path}")
                # Hold no file lock between syncs: dbt or a loader may write it meanwhile.
                options["poolclass"] = sa.NullPool
                if self.backend == "duckdb" and "read_only" not in self.url.query:
                    options["connect_args"] = {"read_only": True}
            self._engine = sa.create_engine(self.url, **options)
        return self._engine

    def close(self) -> None:
        """Release the database connections."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def _reflect(self) -> dict[str, ReflectedTable]:
        found: dict[str, ReflectedTable] = {}
        shown = self.url.render_as_string(hide_password=True)
        try:
            with self.engine.connect() as conn:
                visible = user_schemas(conn)
                for schema in self._schemas or visible:
                    if schema not in visible:
                        # Trino hides from `information_schema` the schemas a user may not
                        # read: reflecting one would sync nothing, and say nothing.
                        raise SourceError(
                            f"source {self.name}: {shown} has no schema {schema!r}"
                            " that this user may read"
                        )
                    for table in reflect_schema(conn, schema):
                        name = f"{table.schema}.{table.name}"
                        if self._wanted(name):
                            found[name] = table
        except StewardError:
            raise
        except Exception as exc:  # drivers raise their own kinds; all mean "cannot read it"
            raise SourceError(f"source {self.name}: cannot read {shown}: {reason(exc)}") from exc
        return found

    def _wanted(self, name: str) -> bool:
        if self._include and not any(fnmatch.fnmatchcase(name, p) for p in self._include):
            return False
        return not any(fnmatch.fnmatchcase(name, pattern) for pattern in self._exclude)

    def _table(self, name: str) -> ReflectedTable:
        if self._tables is None:
            self._tables = self._reflect()
        found = self._tables.get(name)
        if found is None:
            raise NotFound(f"source {self.name}: no table or view {name!r}")
        return found

    def list_tables(self) -> list[TableRef]:
        """Every table and view, reflected a schema at a time; fingerprint = hash of its shape."""
        self._tables = self._reflect()
        return [
            TableRef(name=name, fingerprint=fingerprint(table))
            for name, table in sorted(self._tables.items())
        ]

    def load_table(self, ref: TableRef) -> DiscoveredTable:
        """Columns, comments, identity and, for a view, its definition and lineage."""
        table = self._table(ref.name)
        properties: dict[str, str] = {}
        if table.primary_key:
            properties["primary-key"] = ", ".join(table.primary_key)
        if table.error:
            properties["reflection_error"] = table.error
        traced = ViewLineage(upstream=())
        if table.kind == "view":
            if not table.definition:
                properties["lineage_error"] = "the database returned no view definition"
            else:
                try:
                    traced = view_lineage(
                        table.definition,
                        dialect=SQLGLOT_DIALECTS.get(self.backend),
                        default_schema=table.schema,
                        tables=self._column_types(),
                        database=self._catalog_name(),
                        columns=tuple(column.name for column in table.columns),
                    )
                except ViewLineageError as exc:
                    properties["lineage_error"] = str(exc)
                if traced.unresolved:
                    properties["lineage_unresolved"] = "; ".join(
                        f"{column}: {reason}" for column, reason in traced.unresolved
                    )
        return DiscoveredTable(
            name=ref.name,
            kind="view" if table.kind == "view" else "table",
            identity=self.identity(table.schema, table.name),
            columns=table.columns,
            description=table.comment,
            upstream=traced.upstream,
            column_upstream=traced.column_upstream,
            column_transformations=traced.column_transformations,
            dataset_upstream=traced.dataset_upstream,
            definition=table.definition,
            properties=properties,
            fingerprint=fingerprint(table),
        )

    def _column_types(self) -> dict[str, dict[str, dict[str, str]]]:
        # Types do not matter to lineage, and a database's type names need not parse.
        found: dict[str, dict[str, dict[str, str]]] = {}
        for table in (self._tables or {}).values():
            if not table.columns:  # sqlglot refuses a table without columns
                continue
            found.setdefault(table.schema, {})[table.name] = {
                column.name: "unknown" for column in table.columns
            }
        return found

    def _catalog_name(self) -> str | None:
        """The name a three-part table name gives this database in its own SQL."""
        if self.backend == "postgresql":
            return self.url.database
        if self.backend == "duckdb":
            path = self.url.database or ":memory:"
            return "memory" if path == ":memory:" else Path(path).stem
        if self.backend == "trino":
            return (self.url.database or "").split("/")[0] or None
        return None

    def identity(self, schema: str, table: str) -> Identity:
        """How OpenLineage producers name `schema.table` of this database (naming spec)."""
        url, backend = self.url, self.backend
        authority = f"{url.host or 'localhost'}:{url.port or DEFAULT_PORTS.get(backend, '')}"
        if backend == "postgresql":
            return Identity(f"postgres://{authority}", f"{url.database}.{schema}.{table}")
        if backend == "trino":
            catalog = (url.database or "").split("/")[0]
            return Identity(f"trino://{authority}", f"{catalog}.{schema}.{table}")
        if backend == "duckdb":
            path = url.database or ":memory:"
            database = "memory" if path == ":memory:" else Path(path).stem
            return Identity(f"duckdb://{path}", f"{database}.{schema}.{table}")
        if backend == "sqlite":
            name = table if schema == "main" else f"{schema}.{table}"
            return Identity(f"sqlite://{url.database or ':memory:'}", name)
        if backend in ("mysql", "mariadb"):
            return Identity(f"mysql://{authority}", f"{schema}.{table}")
        prefix = f"{url.database}." if url.database else ""
        return Identity(f"{backend}://{authority}", f"{prefix}{schema}.{table}")

    def sample(self, name: str, columns: Sequence[str], limit: int) -> list[dict[str, Any]]:
        """Up to `limit` rows of `columns`: `SELECT cols FROM schema.table LIMIT n`, quoted."""
        if limit < 0:
            raise InvalidInput(f"limit: expected a number of rows >= 0, got {limit}")
        table = self._table(name)
        known = {column.name for column in table.columns}
        for column in columns:
            if column not in known:
                raise InvalidInput(f"columns: {name} has no column {column!r}")
        if limit == 0 or not columns:
            return []
        selectable = sa.table(table.name, *(sa.column(c) for c in columns), schema=table.schema)
        query = sa.select(*selectable.c).limit(limit)
        try:
            with self.engine.connect() as conn:
                return [dict(row._mapping) for row in conn.execute(query)]
        except Exception as exc:
            raise SourceError(f"source {self.name}: cannot read {name!r}: {reason(exc)}") from exc


def reason(exc: Exception) -> str:
    """What the database said, without the SQL SQLAlchemy appends (Steward wrote it, not the user).

    Trino's errors carry a name and a message (`CATALOG_NOT_FOUND: Catalog 'x' not found`);
    other drivers' first line says what went wrong.
    """
    cause = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
    name, message = getattr(cause, "error_name", None), getattr(cause, "message", None)
    if isinstance(name, str) and isinstance(message, str):
        return f"{name}: {message}"
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0]


def fingerprint(table: ReflectedTable) -> str:
    """A hash of what the catalog keeps of a table: columns, comments, key, view SQL."""
    shape = [
        table.kind,
        table.comment,
        table.definition,
        table.error,
        list(table.primary_key),
        [[c.name, c.type, c.nullable, c.description] for c in table.columns],
    ]
    return hashlib.sha256(json.dumps(shape).encode()).hexdigest()
