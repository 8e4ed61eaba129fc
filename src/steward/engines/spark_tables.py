"""Tables on Spark: a planned Iceberg snapshot or Parquet files as a Spark DataFrame.

Iceberg names a column by its field id, not by its name. Spark's Parquet reader can do the
same: with `spark.sql.parquet.fieldId.read.enabled`, a read schema whose `StructField`s
carry `parquet.field.id` in their metadata reads each file's column by that id. So the
DataFrame of a snapshot is its data files read with the table's current schema (from
pyiceberg's Arrow schema, which carries the ids at every level, inside structs too), under
the current names and types: a renamed column reads its old files, a promoted one (int ->
long) is widened by the reader, a column added later reads NULL from older files. Files
without field ids (added with `add_files`) are read by the names the table's name mapping
gives, then cast and renamed to the current schema.

Refused, with the reason: tables with delete files (refused when planned, for every
engine: no Iceberg runtime is at hand to apply them), a column with an initial default
(Spark's reader fills a missing column with NULL, never a default), and tables an engine
reads in its own storage (`NativeTable`), which a Spark server cannot reach.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from steward.engines.base import EngineUnsupported, NativeTable, ParquetTable, TableData

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import DataType, StructField, StructType

ARROW_FIELD_ID = b"PARQUET:field_id"
SPARK_FIELD_ID = "parquet.field.id"


def table_frames(
    session: SparkSession, tables: Mapping[str, TableData], *, names: Mapping[str, str]
) -> dict[str, DataFrame]:
    """A DataFrame per table (internal name -> frame); `names` gives the caller's names."""
    return {
        internal: table_frame(session, data, name=names.get(internal, internal))
        for internal, data in tables.items()
    }


def table_frame(session: SparkSession, data: TableData, *, name: str) -> DataFrame:
    """The rows of one table as Spark reads them; refuses what Spark cannot read right."""
    if isinstance(data, NativeTable):
        raise EngineUnsupported(
            f"{name}: a {data.backend} table ({data.schema}.{data.table}) is read in its own"
            " database, which the Spark engine cannot reach; query it on the duckdb engine"
        )
    schema = spark_schema(data.schema)
    if not data.files:
        return session.createDataFrame([], schema)
    if not data.fields:
        return session.read.schema(schema).parquet(*data.files)
    _refuse_defaults(data, name=name)
    named = {f.path for f in data.named}
    by_id = [path for path in data.files if path not in named]
    parts = [session.read.schema(schema).parquet(*by_id)] if by_id else []
    # Files whose columns go by the same names are read as one (one scan, not one each).
    groups: dict[tuple[str | None, ...], list[str]] = {}
    for named_file in data.named:
        groups.setdefault(named_file.columns, []).append(named_file.path)
    parts.extend(_named_files(session, paths, columns, schema) for columns, paths in groups.items())
    frame = parts[0]
    for part in parts[1:]:
        frame = frame.union(part)
    return frame


def physical_columns(data: TableData) -> tuple[str, ...]:
    """The columns Spark reads of a table: its current schema's."""
    if isinstance(data, NativeTable):
        # Named by its own schema and table: the internal name must not reach a caller.
        raise EngineUnsupported(
            f"{data.schema}.{data.table}: a {data.backend} table is read in its own database,"
            " which the Spark engine cannot reach; query it on the duckdb engine"
        )
    return data.columns


def spark_schema(arrow: Any) -> StructType:
    """A Spark schema for a pyarrow one, keeping each field's Iceberg field id."""
    from pyspark.sql.types import StructType

    return StructType([_field(field) for field in arrow])


def _field(field: Any) -> StructField:
    from pyspark.sql.types import StructField

    metadata: dict[str, Any] = {}
    if field.metadata and ARROW_FIELD_ID in field.metadata:
        metadata[SPARK_FIELD_ID] = int(field.metadata[ARROW_FIELD_ID])
    return StructField(field.name, _type(field.type), field.nullable, metadata)


def _type(arrow_type: Any) -> DataType:
    """The Spark type of an Arrow type, nested fields keeping their field ids."""
    import pyarrow as pa
    from pyspark.sql.pandas.types import from_arrow_type
    from pyspark.sql.types import ArrayType, BinaryType, MapType, StructType

    if pa.types.is_struct(arrow_type):
        return StructType([_field(arrow_type.field(i)) for i in range(arrow_type.num_fields)])
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return ArrayType(_type(arrow_type.value_type))
    if pa.types.is_map(arrow_type):
        return MapType(_type(arrow_type.key_type), _type(arrow_type.item_type))
    if isinstance(arrow_type, pa.ExtensionType):
        # Iceberg's uuid: 16 bytes in the file, read as binary.
        return (
            BinaryType()
            if pa.types.is_fixed_size_binary(arrow_type.storage_type)
            else (_type(arrow_type.storage_type))
        )
    if pa.types.is_fixed_size_binary(arrow_type):
        return BinaryType()
    return from_arrow_type(arrow_type)


def _refuse_defaults(data: ParquetTable, *, name: str) -> None:
    for field in data.fields:
        if field.default is not None:
            raise EngineUnsupported(
                f"{name}: column {field.name} has an initial default, which the Spark engine"
                " cannot fill into files written before the column was added; query this"
                " table on the duckdb engine"
            )


def _named_files(
    session: SparkSession, paths: list[str], columns: tuple[str | None, ...], schema: Any
) -> DataFrame:
    """Data files without field ids, read by their names and shaped as the current schema.

    `columns` gives, per current column, its name in these files (None: absent). Spark
    takes the files' types from one footer; a file whose type differs fails the read
    (an error, never a wrong value).
    """
    from pyspark.sql import functions as F

    frame = session.read.parquet(*paths)
    selected = []
    for field, column in zip(schema.fields, columns, strict=True):
        quoted = "`" + column.replace("`", "``") + "`" if column is not None else None
        value = F.col(quoted) if quoted is not None else F.lit(None)
        selected.append(value.cast(field.dataType).alias(field.name))
    return frame.select(*selected)
