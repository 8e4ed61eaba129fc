"""`steward lineage sql`: print the table and column lineage of a SQL file as JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from steward.errors import InvalidInput

MAX_SQL_BYTES = 5_000_000


def sql_command(
    file: Annotated[
        str, typer.Argument(help="A file of one or more SQL statements, or - for stdin.")
    ] = "-",
    dialect: Annotated[
        str | None,
        typer.Option(help="sqlglot dialect: postgres, snowflake, bigquery, tsql, spark ..."),
    ] = None,
    schema: Annotated[
        Path | None,
        typer.Option(help="JSON or YAML file of {table: {column: type}} the SQL reads."),
    ] = None,
    default_catalog: Annotated[
        str | None, typer.Option(help="Catalog (database) of names that lack one.")
    ] = None,
    default_schema: Annotated[
        str | None, typer.Option(help="Schema of names that lack one.")
    ] = None,
) -> None:
    """Which tables and columns each statement reads and writes, as JSON (no server needed)."""
    from steward.lineage.sql import analyze

    text = _read_sql(file)
    tables = _read_schema(schema) if schema is not None else None
    result = analyze(
        text,
        dialect=dialect,
        schema=tables,
        default_catalog=default_catalog,
        default_schema=default_schema,
    )
    typer.echo(json.dumps(result.to_json(), indent=2))


def _read_sql(file: str) -> str:
    if file == "-":
        text = sys.stdin.read(MAX_SQL_BYTES + 1)
        where = "stdin"
    else:
        try:
            with Path(file).open(encoding="utf-8") as handle:
                text = handle.read(MAX_SQL_BYTES + 1)
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"{file}: {getattr(exc, 'strerror', None) or exc}") from None
        where = file
    if len(text) > MAX_SQL_BYTES:
        raise InvalidInput(f"{where}: more than {MAX_SQL_BYTES} bytes of SQL")
    if not text.strip():
        raise InvalidInput(f"{where}: no SQL")
    return text


def _read_schema(path: Path) -> dict[str, Any]:
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"--schema {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        loaded = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidInput(f"--schema {path}: not JSON or YAML: {first}") from None
    if not isinstance(loaded, dict):
        raise InvalidInput(f"--schema {path}: expected an object of tables to {{column: type}}")
    return loaded
