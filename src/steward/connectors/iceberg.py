"""The `iceberg` source: tables of any pyiceberg catalog, and the embedded lake.

Names within the source are the dotted namespace plus the table (`sales.orders`,
`a.b.events` for a nested namespace). Identities follow the OpenLineage naming spec
the way the Spark integration emits them for Iceberg tables:

- the dataset identity is the table's *location* (local file system: namespace
  `file`, name the absolute path; `s3://bucket` + object key; `hdfs://host:port` +
  path ...), since engines that write the files name them so;
- a symlink of type TABLE carries the catalog's name for it: namespace the REST
  catalog's `uri` (for `type = "rest"`), Glue's `arn:aws:glue:{region}:{account}`
  with `table/{database}/{table}`, otherwise the catalog's `warehouse`; name the
  dotted table name (`sales.orders`).

The fingerprint of a table is its current metadata location: every commit (append,
schema change, property change) writes a new metadata file.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from steward.catalog.models import Column, DiscoveredTable, Identity, Owner, TableRef
from steward.errors import ConfigError, InvalidInput, NotFound, SourceError, StewardError

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table

LAKE_CATALOG_NAME = "lake"
OPTIONS = ("embedded", "properties", "namespaces", "catalog")
# Object stores whose OpenLineage names are keys without a leading slash.
_OBJECT_STORES = {
    "s3": "s3",
    "s3a": "s3",
    "s3n": "s3",
    "gs": "gs",
    "abfss": "abfss",
    "wasbs": "wasbs",
}


def lake_catalog(home: Path) -> Catalog:
    """The embedded lake: an Iceberg SQL catalog under `home/lakehouse`, created on first use.

    The catalog database is `home/lakehouse/catalog.db` (SQLite), the warehouse
    `home/lakehouse/warehouse`; the catalog's name is `lake`. The caller closes it
    (`catalog.close()`) when done.
    """
    from pyiceberg.catalog.sql import SqlCatalog

    from steward.store.private import make_private_dir, make_private_sqlite_file

    lakehouse = make_private_dir(Path(home).resolve() / "lakehouse")
    warehouse = make_private_dir(lakehouse / "warehouse")
    catalog_db = make_private_sqlite_file(lakehouse / "catalog.db")
    # Iceberg locations are not percent-decoded (pyiceberg's file IO, like Iceberg's Hadoop
    # one, takes a location's path as written), so the warehouse is `file://` and the path
    # as it is: `Path.as_uri()` would spell `it's home` as `it%27s%20home`, and the data
    # would land in a folder of that name beside the private home, readable by all.
    return SqlCatalog(
        LAKE_CATALOG_NAME,
        uri=f"sqlite:///{catalog_db}",
        warehouse=f"file://{warehouse}",
    )


def open_iceberg(name: str, options: Mapping[str, Any], *, home: Path) -> IcebergSource:
    """The source `[sources.NAME]` describes: `embedded = true`, or pyiceberg `properties`.

    Options: `embedded` (the lake under `home`), `properties` (passed as is to
    `pyiceberg.catalog.load_catalog`), `catalog` (the pyiceberg catalog's name, by
    default the source's), `namespaces` (limit discovery to these and their children).
    The catalog is reached on first use, not here.
    """
    for key in options:
        if key not in OPTIONS:
            raise ConfigError(
                f"sources.{name}.{key}: unknown option for an iceberg source"
                f" (known: {', '.join(OPTIONS)})"
            )
    embedded = options.get("embedded", False)
    if not isinstance(embedded, bool):
        raise ConfigError(f"sources.{name}.embedded: expected true or false, got {embedded!r}")
    properties = options.get("properties")
    if embedded and properties is not None:
        raise ConfigError(
            f"sources.{name}.properties: an embedded source takes no catalog properties"
        )
    if not embedded:
        if properties is None:
            raise ConfigError(
                f"sources.{name}.properties: required (the pyiceberg catalog's properties,"
                ' for example {type = "rest", uri = "http://..."}), unless embedded = true'
            )
        if not isinstance(properties, Mapping) or not all(
            isinstance(key, str) for key in properties
        ):
            raise ConfigError(
                f"sources.{name}.properties: expected a table of catalog properties,"
                f" got {properties!r}"
            )
    catalog_name = options.get("catalog", LAKE_CATALOG_NAME if embedded else name)
    if not isinstance(catalog_name, str) or not catalog_name:
        raise ConfigError(f"sources.{name}.catalog: expected a catalog name, got {catalog_name!r}")
    namespaces = options.get("namespaces")
    if namespaces is not None and (
        not isinstance(namespaces, list)
        or not all(isinstance(item, str) and item for item in namespaces)
    ):
        raise ConfigError(
            f"sources.{name}.namespaces: expected a list of namespace names, got {namespaces!r}"
        )
    return IcebergSource(
        name,
        home=home if embedded else None,
        properties={key: _property(value) for key, value in (properties or {}).items()},
        catalog_name=catalog_name,
        namespaces=tuple(namespaces or ()),
    )


def _property(value: Any) -> str:
    # pyiceberg properties are strings; TOML gives booleans and numbers as such.
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class IcebergSource:
    """An Iceberg catalog as a catalog source."""

    type = "iceberg"

    def __init__(
        self,
        name: str,
        *,
        home: Path | None,
        properties: Mapping[str, str],
        catalog_name: str,
        namespaces: tuple[str, ...] = (),
    ) -> None:
        self.name = name
        self._home = home
        self._properties = dict(properties)
        self._catalog_name = catalog_name
        self._namespaces = namespaces
        self._catalog: Catalog | None = None

    @property
    def catalog(self) -> Catalog:
        """The pyiceberg catalog, reached (or, for the embedded lake, created) on first use."""
        if self._catalog is None:
            try:
                if self._home is not None:
                    self._catalog = lake_catalog(self._home)
                else:
                    from pyiceberg.catalog import load_catalog

                    self._catalog = load_catalog(self._catalog_name, **self._properties)
            except ValueError as exc:  # pyiceberg's word for a bad type or missing property
                raise ConfigError(f"sources.{self.name}.properties: {exc}") from exc
            except Exception as exc:
                raise SourceError(
                    f"source {self.name}: cannot open the Iceberg catalog: {exc}"
                ) from exc
        return self._catalog

    def close(self) -> None:
        """Release the catalog's connections (a SQL catalog's engine)."""
        if self._catalog is not None:
            close = getattr(self._catalog, "close", None)
            if close is not None:
                close()
            self._catalog = None

    def list_tables(self) -> list[TableRef]:
        """Every table with its metadata location as fingerprint.

        A SQL catalog answers with one query on its `iceberg_tables`; other catalogs
        are listed namespace by namespace and each table loaded for its location.
        """
        try:
            from pyiceberg.catalog.sql import SqlCatalog

            catalog = self.catalog
            if isinstance(catalog, SqlCatalog):
                found = self._list_sql_catalog(catalog)
            else:
                found = list(self._list_any_catalog(catalog))
        except StewardError:
            raise
        except Exception as exc:
            raise SourceError(f"source {self.name}: cannot list tables: {exc}") from exc
        return sorted(
            (ref for ref in found if self._wanted(ref.name.rsplit(".", 1)[0])),
            key=lambda ref: ref.name,
        )

    def _list_sql_catalog(self, catalog: Any) -> list[TableRef]:
        import sqlalchemy as sa
        from pyiceberg.catalog.sql import IcebergTables

        query = sa.select(
            IcebergTables.table_namespace,
            IcebergTables.table_name,
            IcebergTables.metadata_location,
        ).where(IcebergTables.catalog_name == catalog.name)
        # Rows of v1 catalogs may be views (iceberg_type VIEW) written by other engines.
        if getattr(catalog, "_schema_version", "v0") == "v1":
            query = query.where(
                sa.or_(IcebergTables.iceberg_type == "TABLE", IcebergTables.iceberg_type.is_(None))
            )
        with catalog.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            TableRef(name=f"{namespace}.{table}", fingerprint=location)
            for namespace, table, location in rows
        ]

    def _list_any_catalog(self, catalog: Catalog) -> Iterator[TableRef]:
        pending: list[tuple[str, ...]] = [tuple(ns.split(".")) for ns in self._namespaces]
        if not pending:
            pending = list(catalog.list_namespaces())
        seen: set[tuple[str, ...]] = set()
        while pending:
            namespace = pending.pop()
            if namespace in seen:
                continue
            seen.add(namespace)
            pending.extend(catalog.list_namespaces(namespace))
            for identifier in catalog.list_tables(namespace):
                table = catalog.load_table(identifier)
                yield TableRef(name=".".join(identifier), fingerprint=table.metadata_location)

    def _wanted(self, namespace: str) -> bool:
        if not self._namespaces:
            return True
        return any(
            namespace == wanted or namespace.startswith(wanted + ".") for wanted in self._namespaces
        )

    def _load(self, name: str) -> Table:
        from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError

        if "." not in name:
            raise NotFound(f"source {self.name}: no table {name!r} (expected namespace.table)")
        namespace, table = name.rsplit(".", 1)
        try:
            return self.catalog.load_table((*namespace.split("."), table))
        except (NoSuchTableError, NoSuchNamespaceError) as exc:
            raise NotFound(f"source {self.name}: no table {name!r}") from exc
        except StewardError:
            raise
        except Exception as exc:
            raise SourceError(f"source {self.name}: cannot load table {name!r}: {exc}") from exc

    def load_table(self, ref: TableRef) -> DiscoveredTable:
        """Columns, description (`comment`), owner (`owner`), identity and symlink of one table."""
        table = self._load(ref.name)
        metadata = table.metadata
        table_properties = dict(metadata.properties)
        columns = tuple(
            Column(
                name=field.name,
                type=str(field.field_type),
                description=field.doc,
                nullable=not field.required,
                field_id=field.field_id,
                iceberg=field.model_dump_json(by_alias=True, exclude_none=True),
            )
            for field in table.schema().fields
        )
        properties = {
            "format-version": str(metadata.format_version),
            "location": table.location(),
            "metadata-location": table.metadata_location,
        }
        snapshot = table.current_snapshot()
        if snapshot is not None:
            properties["current-snapshot-id"] = str(snapshot.snapshot_id)
            summary = snapshot.summary
            records = summary.additional_properties.get("total-records") if summary else None
            if records is not None:
                properties["record-count"] = str(records)
        owner = table_properties.get("owner")
        return DiscoveredTable(
            name=ref.name,
            kind="table",
            identity=location_identity(table.location()),
            columns=columns,
            description=table_properties.get("comment"),
            owners=(Owner(name=owner),) if owner else (),
            symlinks=(self._symlink(ref.name),),
            properties=properties,
            fingerprint=table.metadata_location,
        )

    def _symlink(self, name: str) -> Identity:
        properties = self.catalog.properties
        kind = properties.get("type", "")
        if kind == "rest" and properties.get("uri"):
            return Identity(namespace=_without_credentials(properties["uri"]), name=name)
        if kind == "glue" and properties.get("glue.region") and properties.get("glue.id"):
            namespace, table = name.rsplit(".", 1)
            return Identity(
                namespace=f"arn:aws:glue:{properties['glue.region']}:{properties['glue.id']}",
                name=f"table/{namespace}/{table}",
            )
        warehouse = properties.get("warehouse") or properties.get("uri")
        if warehouse:
            return Identity(namespace=_without_credentials(warehouse).rstrip("/"), name=name)
        return Identity(namespace=f"iceberg://{self._catalog_name}", name=name)

    def sample(self, name: str, columns: Sequence[str], limit: int) -> list[dict[str, Any]]:
        """Up to `limit` rows of `columns`, read by a bounded pyiceberg scan."""
        if limit < 0:
            raise InvalidInput(f"limit: expected a number of rows >= 0, got {limit}")
        table = self._load(name)
        known = {field.name for field in table.schema().fields}
        for column in columns:
            if column not in known:
                raise InvalidInput(f"columns: {name} has no column {column!r}")
        if limit == 0 or not columns:
            return []
        try:
            rows: list[dict[str, Any]] = (
                table.scan(selected_fields=tuple(columns), limit=limit).to_arrow().to_pylist()
            )
        except Exception as exc:
            raise SourceError(f"source {self.name}: cannot read {name!r}: {exc}") from exc
        return rows[:limit]


def location_identity(location: str) -> Identity:
    """The OpenLineage identity of a table stored at `location` (naming spec, file systems).

    `file:///w/sales/orders` -> (`file`, `/w/sales/orders`); `s3a://bucket/w/t` ->
    (`s3://bucket`, `w/t`); `hdfs://nn:8020/w/t` -> (`hdfs://nn:8020`, `/w/t`).
    """
    parts = urlsplit(location)
    path = parts.path.rstrip("/") or "/"
    if parts.scheme in ("", "file"):
        if parts.netloc and parts.netloc != "localhost":  # a remote file system
            return Identity(namespace=f"file://{parts.netloc}", name=path)
        return Identity(namespace="file", name=path)
    if parts.scheme in _OBJECT_STORES:
        key = path.lstrip("/") or "/"
        return Identity(namespace=f"{_OBJECT_STORES[parts.scheme]}://{parts.netloc}", name=key)
    return Identity(namespace=f"{parts.scheme}://{parts.netloc}", name=path)


def _without_credentials(uri: str) -> str:
    parts = urlsplit(uri)
    if "@" not in parts.netloc:
        return uri
    return parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]).geturl()
