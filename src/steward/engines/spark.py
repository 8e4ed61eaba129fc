"""Spark as Steward's engine, over Spark Connect, holding no state in Spark.

`remote` is a Spark Connect URL (`sc://host:15002`) or `local[N]`: then Steward starts a
Spark Connect server with that master beside it (`engines.spark_server`; the full
`pyspark` and Java 17) and stops it on `close`, so both go through one client path.
Each statement carries the tables it reads as DataFrames bound by name into that one
statement (`spark.sql(text, t0=frame)`, which Spark Connect sends inside the request as
`WithRelations`): nothing is registered in the server's session, so two statements, two
Stewards or two callers cannot see each other's tables, and nothing is left to drop.

Tables are Parquet files read by Iceberg field id (`engines.spark_tables`). The session
reads SQL on files off (`spark.sql.runSQLOnFiles=false`), so a statement that got past
every check still could not name a path. Limits: time by a tag per statement, cancelled
with `interruptTag` when it is up; result size by the row limit and the bytes fetched,
stopping the stream once over; memory is the Spark deployment's (the `memory_limit` is
the driver's memory of a `local[N]` server; a remote server's is its own configuration).
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from steward.engines.base import (
    EngineUnsupported,
    Limits,
    QueryFailed,
    QueryRows,
    QueryTimeout,
    ResultTooLarge,
    TableData,
    result_bytes,
)
from steward.errors import ConfigError, InvalidInput, SourceError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from steward.config import Settings
    from steward.engines.spark_server import LocalServer

DIALECT = "spark"
SESSION_CONF = {
    # Iceberg columns are read by field id, so renamed and promoted columns read right.
    "spark.sql.parquet.fieldId.read.enabled": "true",
    # `SELECT * FROM parquet.`/path`` must not read a file whatever reached the engine.
    "spark.sql.runSQLOnFiles": "false",
    "spark.sql.ansi.enabled": "true",
    "spark.sql.session.timeZone": "UTC",
}
# Names Spark resolves on its own whatever the server holds.
SPARK_NAMES = frozenset({"spark_catalog", "default", "global_temp", "system", "builtin", "session"})
_FRAME_PREFIX = "__steward_frame_"
_TEMP_VIEW = re.compile(r"`?_pyspark_\w*?temp_view_[0-9a-f]+`?|`?_pyspark_[0-9a-f]{32}`?")
_LOCAL = re.compile(r"local(\[(\d+|\*)\])?")


class SparkEngine:
    """Statements on Spark through one Spark session, opened on first use."""

    name = "spark"
    dialect = DIALECT

    def __init__(self, remote: str, *, limits: Limits | None = None) -> None:
        if not remote.startswith("sc://") and not _LOCAL.fullmatch(remote):
            raise ConfigError(
                f"spark_remote: {remote!r} is neither a Spark Connect URL (sc://host:port)"
                " nor a local master (local[2])"
            )
        self.remote = remote
        self.limits = limits or Limits()
        self._session: SparkSession | None = None
        self._server: LocalServer | None = None
        self._lock = threading.Lock()
        self._reserved: frozenset[str] | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> SparkEngine:
        """The engine at `spark_remote`, with the limits the `query_*` settings give."""
        from steward.engines.registry import limits_from

        return cls(settings.spark_remote, limits=limits_from(settings))

    @property
    def session(self) -> SparkSession:
        """The Spark session, connected (or started) on first use."""
        with self._lock:
            if self._session is None:
                url = self.remote
                if not url.startswith("sc://"):
                    from steward.engines.spark_server import LocalServer

                    memory = _spark_size(self.limits.memory_limit)
                    self._server = LocalServer(self.remote, memory=memory)
                    url = self._server.start()
                self._session = open_session(url)
            return self._session

    def close(self) -> None:
        """End the Spark session, and stop the local server if this engine started one."""
        with self._lock:
            if self._session is not None:
                self._session.stop()
                self._session = None
            if self._server is not None:
                self._server.stop()
                self._server = None

    def allowed_functions(self) -> frozenset[str]:
        """Spark's functions a caller may call (`engines.spark_functions`)."""
        from steward.engines.spark_functions import ALLOWED_FUNCTIONS

        return ALLOWED_FUNCTIONS

    def reserved_names(self) -> frozenset[str]:
        """Spark's own names and the catalogs, databases and tables the server holds."""
        if self._reserved is None:
            found = set(SPARK_NAMES)
            found.update(r[0] for r in self._rows("SHOW CATALOGS"))
            found.update(r[0] for r in self._rows("SHOW DATABASES"))
            found.update(r[1] for r in self._rows("SHOW TABLES"))
            self._reserved = frozenset(str(n).lower() for n in found)
        return self._reserved

    def _rows(self, sql: str) -> list[Any]:
        try:
            return list(self.session.sql(sql).collect())
        except Exception as exc:  # pyspark raises several kinds for a server it cannot reach
            raise _unreachable(self.remote, exc) from exc

    def physical_columns(self, tables: Mapping[str, TableData]) -> dict[str, tuple[str, ...]]:
        """Each table's columns as Spark reads them: the current schema's."""
        from steward.engines.spark_tables import physical_columns

        return {internal: physical_columns(data) for internal, data in tables.items()}

    def run(
        self,
        tables: Mapping[str, TableData],
        sql: str,
        *,
        limit: int,
        params: Mapping[str, str] | None = None,
        names: Mapping[str, str] | None = None,
    ) -> QueryRows:
        """Rows of `sql` (at most `limit`) over `tables`, cancelled past the time limit."""
        from steward.engines.spark_tables import table_frames

        frames = table_frames(self.session, tables, names=names or {})
        return run_statement(
            self.session,
            sql,
            frames,
            params=params or {},
            names=names or {},
            limits=self.limits,
            limit=limit,
            remote=self.remote,
        )

    def open(self, tables: Mapping[str, TableData], *, limits: Limits | None = None) -> SparkChecks:
        """A session over `tables` for Steward's own statements (checks, gates)."""
        from steward.engines.spark_tables import table_frames

        frames = table_frames(self.session, tables, names={})
        return SparkChecks(self, frames, limits=limits)


class SparkChecks:
    """Tables read once as DataFrames, for several statements (a quality run, a gate)."""

    dialect = DIALECT

    def __init__(
        self, engine: SparkEngine, frames: Mapping[str, DataFrame], *, limits: Limits | None
    ) -> None:
        self._engine = engine
        self._frames = dict(frames)
        self._limits = limits

    def execute(self, sql: str) -> QueryRows:
        """Every row of `sql`; `QueryFailed` (with Spark's error) when it fails.

        Binding errors too: these statements are Steward's own, so an unknown column is a
        check that cannot run (its column is missing), not a caller's mistake.
        """
        try:
            return run_statement(
                self._engine.session,
                sql,
                self._frames,
                params={},
                names={},
                limits=self._limits,
                limit=None,
                remote=self._engine.remote,
            )
        except (QueryFailed, QueryTimeout, ResultTooLarge, EngineUnsupported):
            raise
        except InvalidInput as exc:
            raise QueryFailed(
                "the engine could not run the query (AnalysisException)",
                error_class="AnalysisException",
                detail=str(exc).removeprefix("sql: "),
            ) from None

    def schema(self, internal: str) -> list[tuple[str, str]]:
        """(name, Spark type) of each column of table `internal`."""
        return [(f.name, f.dataType.simpleString()) for f in self._frames[internal].schema.fields]

    def close(self) -> None:
        """Drop the frames; the Spark session stays with the engine."""
        self._frames.clear()


def open_session(remote: str) -> SparkSession:
    """A new Spark Connect session on `remote`, set to read Iceberg files by field id."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ConfigError(
            "engine: spark needs pyspark; install it with pip install 'data-steward[spark]'"
        ) from None
    try:
        session = SparkSession.builder.remote(remote).create()
        for key, value in SESSION_CONF.items():
            session.conf.set(key, value)
    except Exception as exc:  # pyspark raises several kinds for a server it cannot reach
        raise _unreachable(remote, exc) from exc
    return session


def _spark_size(size: str) -> str:
    """`1GB` / `512MB` / `2GiB` as Spark spells memory (`1g`, `512m`)."""
    match = re.fullmatch(r"\s*(\d+)\s*([KMGT])i?B?\s*", size, re.IGNORECASE)
    if match is None:
        raise ConfigError(f"query_memory_limit: {size!r} is not a size such as 1GB or 512MB")
    return match.group(1) + match.group(2).lower()


def _unreachable(remote: str, exc: Exception) -> SourceError:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return SourceError(f"engine: Spark at {remote} cannot be used: {first[:300]}")


def run_statement(
    session: SparkSession,
    sql: str,
    frames: Mapping[str, DataFrame],
    *,
    params: Mapping[str, str],
    names: Mapping[str, str],
    limits: Limits | None,
    limit: int | None,
    remote: str,
) -> QueryRows:
    """Rows of `sql` with its tables bound to `frames`, under `limits` (None: no limits)."""
    tree = _parse(sql)
    tag = f"steward-{uuid.uuid4().hex}"
    expired = threading.Event()
    timer = None
    if limits is not None:

        def cancel() -> None:
            expired.set()
            session.interruptTag(tag)

        timer = threading.Timer(limits.timeout_seconds, cancel)
        timer.daemon = True
    session.addTag(tag)
    try:
        if timer is not None:
            timer.start()
        text, bound = bind_frames(tree, _materialize(session, tree, frames))
        frame = session.sql(text, args=dict(params) or None, **bound)
        columns = list(frame.schema.fieldNames())
        rows = _fetch(frame, limit=limit, limits=limits)
    except (InvalidInput, SourceError):
        raise
    except Exception as exc:  # pyspark's errors have no common base over Connect and local
        raise _statement_error(
            exc, expired=expired, names=names, limits=limits, remote=remote
        ) from None
    finally:
        if timer is not None:
            timer.cancel()
        session.removeTag(tag)
    if limit is None:
        return QueryRows(columns=columns, rows=rows)
    return QueryRows(columns=columns, rows=rows[:limit], truncated=len(rows) > limit)


def _parse(sql: str) -> exp.Expr:
    """`sql` as Spark reads it, with DuckDB's regex replacements written as Java's."""
    import sqlglot

    try:
        tree = sqlglot.parse_one(sql, read=DIALECT)
    except sqlglot.errors.SqlglotError as exc:
        raise InvalidInput(f"sql: cannot be parsed as Spark SQL: {exc}") from None
    for node in tree.find_all(exp.RegexpReplace):
        replacement = node.args.get("replacement")
        if isinstance(replacement, exp.Literal) and replacement.is_string:
            node.set("replacement", exp.Literal.string(java_replacement(replacement.this)))
    return tree


def java_replacement(text: str) -> str:
    """A `regexp_replace` replacement written for RE2 (`\\1`), as Java writes it (`$1`).

    Steward's SQL is written in DuckDB's dialect (policy masks, the caller's query) and
    sqlglot renders the replacement's text unchanged: Java would read `\\1` as a literal
    `1`, and `$` as a group. So `\\N` becomes `$N`, a literal `$` or backslash is escaped.
    """
    out = []
    index = 0
    while index < len(text):
        char = text[index]
        following = text[index + 1] if index + 1 < len(text) else ""
        if char == "\\" and following.isdigit():
            out.append("$" + following)
            index += 2
            continue
        if char == "\\" and following == "\\":
            out.append("\\\\")
            index += 2
            continue
        out.append("\\$" if char == "$" else "\\\\" if char == "\\" else char)
        index += 1
    return "".join(out)


def _materialize(
    session: SparkSession, tree: exp.Expr, frames: Mapping[str, DataFrame]
) -> dict[str, DataFrame]:
    """`frames`, and each `MATERIALIZED` CTE of `tree` computed first (removed from `tree`).

    Spark has no `MATERIALIZED`: its optimizer may push the caller's predicates below a
    secure view's row filter. A checkpoint is a barrier it cannot push through, so the
    strict run of a governed query (`policy.query`) reads views whose rows are computed,
    filter applied, before any of the caller's expressions runs.
    """
    found = dict(frames)
    ctes = tree.args.get("with_")
    if ctes is None:
        return found
    for cte in list(ctes.expressions):
        if not cte.args.get("materialized"):
            continue
        text, bound = bind_frames(cte.this.copy(), found)
        found[cte.alias] = session.sql(text, None, **bound).localCheckpoint(eager=True)
        cte.pop()
    if not ctes.expressions:
        tree.set("with_", None)
    return found


def bind_frames(
    tree: exp.Expr, frames: Mapping[str, DataFrame]
) -> tuple[str, dict[str, DataFrame]]:
    """`tree` as text where each reference to a table of `frames` is a `{placeholder}`.

    The text then goes through Python's formatter (`spark.sql(text, **frames)`), so
    every other brace is doubled; a reference keeps the table's name as its alias, so
    columns qualified by it still resolve.
    """
    # Unguessable, so that no string the caller wrote can name a placeholder.
    token = uuid.uuid4().hex[:12]
    keys = {internal: f"{_FRAME_PREFIX}{token}_{i}" for i, internal in enumerate(frames)}
    bound: dict[str, DataFrame] = {}
    for table in list(tree.find_all(exp.Table)):
        if table.args.get("db") is not None or table.name not in keys:
            continue
        key = keys[table.name]
        bound[key] = frames[table.name]
        alias = table.args.get("alias") or exp.TableAlias(
            this=exp.to_identifier(table.name, quoted=True)
        )
        table.replace(exp.Table(this=exp.to_identifier(key), alias=alias.copy()))
    text = tree.sql(dialect=DIALECT).replace("{", "{{").replace("}", "}}")
    text = re.sub(rf"`?\b({_FRAME_PREFIX}{token}_\d+)\b`?", r"{\1}", text)
    return text, bound


def _fetch(frame: DataFrame, *, limit: int | None, limits: Limits | None) -> list[tuple[Any, ...]]:
    """At most `limit` + 1 rows, refusing once their bytes pass the result limit."""
    limited = frame if limit is None else frame.limit(limit + 1)
    if limits is None:
        return [_plain(row) for row in limited.collect()]
    rows: list[tuple[Any, ...]] = []
    size = 0
    for row in _stream(limited):
        value = _plain(row)
        size += result_bytes([value])
        if size > limits.max_result_bytes:
            raise ResultTooLarge(
                f"sql: the result is larger than {limits.max_result_bytes} bytes;"
                " select fewer rows or columns"
            )
        rows.append(value)
    return rows


def _stream(frame: DataFrame) -> Iterator[Any]:
    yield from frame.toLocalIterator()


def _plain(row: Any) -> tuple[Any, ...]:
    """A Spark row as a tuple of plain values (structs as dicts, as DuckDB gives them)."""
    return tuple(_value(v) for v in row)


def _value(value: Any) -> Any:
    from pyspark.sql import Row

    if isinstance(value, Row):
        return {k: _value(v) for k, v in value.asDict(recursive=False).items()}
    if isinstance(value, list):
        return [_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _value(v) for k, v in value.items()}
    if isinstance(value, bytearray):
        return bytes(value)
    return value


def _statement_error(
    exc: Exception,
    *,
    expired: threading.Event,
    names: Mapping[str, str],
    limits: Limits | None,
    remote: str,
) -> Exception:
    """The Steward error for a failed statement: binding errors told, value errors withheld."""
    from pyspark.errors import AnalysisException, PySparkException

    if expired.is_set() and limits is not None:
        return QueryTimeout(
            f"sql: the query ran longer than {limits.timeout_seconds:g} s and was cancelled;"
            " add filters or a LIMIT"
        )
    condition = _condition(exc)
    if not isinstance(exc, PySparkException) or condition in _UNREACHABLE:
        return _unreachable(remote, exc)
    if isinstance(exc, AnalysisException) and condition not in _RUNTIME_ANALYSIS:
        return InvalidInput(f"sql: {_rename(str(exc), names)}")
    if condition == "UNSUPPORTED_FEATURE.SQL_ON_FILES" or "runSQLOnFiles" in str(exc):
        return EngineUnsupported("sql: the query tried to read a file")
    return QueryFailed(
        f"sql: the query failed while running ({condition or type(exc).__name__}); the"
        " engine's message is withheld because it may quote values outside your view",
        error_class=condition or type(exc).__name__,
        detail=str(exc),
    )


# Conditions that tell the server is gone, not that the statement is wrong.
_UNREACHABLE = frozenset({"CONNECT_URL_NOT_SET", "CANNOT_CONNECT", "NO_ACTIVE_SESSION"})
# Analysis errors raised while reading data (a file's footer): their text is withheld.
_RUNTIME_ANALYSIS = frozenset({"FAILED_READ_FILE", "PARQUET_COLUMN_DATA_TYPE_MISMATCH"})


def _condition(exc: Exception) -> str:
    getter = getattr(exc, "getCondition", None) or getattr(exc, "getErrorClass", None)
    condition = getter() if getter is not None else None
    return str(condition or "")


def _rename(message: str, names: Mapping[str, str]) -> str:
    """Spark's first line, internal names put back and temporary view names hidden."""
    first = message.strip().splitlines()[0] if message.strip() else message
    for internal, name in names.items():
        first = first.replace(internal, name)
    return _TEMP_VIEW.sub("a table", first)
