"""A small Trino coordinator for tests: Trino's client REST protocol over an in-memory DuckDB.

No Trino server installs from PyPI, so the `trino` client and its SQLAlchemy dialect are
tested against this double of the documented protocol
(https://trino.io/docs/current/develop/client-protocol.html), as the client in
`trino/client.py` reads it:

- `POST /v1/statement` with the SQL as body and the `X-Trino-User`, `X-Trino-Catalog`,
  `X-Trino-Schema` headers answers `QUEUED` with an `id`, an `infoUri` and a `nextUri`;
- `GET nextUri` runs the query and answers `columns` (`name`, `type`, `typeSignature`),
  `data` a page at a time, `stats.state` and a `nextUri` while pages remain, or an
  `error` object (`message`, `errorCode`, `errorName`, `errorType`, `failureInfo`);
- `DELETE nextUri` cancels.

One DuckDB database plays one Trino catalog (`iceberg` by default). Trino SQL is translated
to DuckDB's with sqlglot; `information_schema` (`schemata`, `tables`, `columns`, `views`),
`system.metadata.table_comments` and `system.jdbc.catalogs` are DuckDB views that answer
with Trino's column names and type spellings (`varchar`, `decimal(10,2)`, `timestamp(6)`);
a view's definition is its query only, as Trino gives it. `EXECUTE IMMEDIATE '...' USING
...` binds its parameters into the statement. Schemas named in `denied_schemas` behave as
Trino's file-based access control makes them for the user: absent from `information_schema`,
and `Access Denied` for a query that reads their tables. It is a test double, not a Trino:
it answers queries, not DDL or DML, and knows the types listed in `TRINO_TYPES`.
"""

from __future__ import annotations

import datetime
import decimal
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import duckdb
import sqlglot
from sqlglot import TokenType, exp

VERSION = "476"  # what `SELECT version()` answers

# DuckDB's spelling of a type -> Trino's. Iceberg timestamps are microseconds: timestamp(6).
TRINO_TYPES = {
    "BOOLEAN": "boolean",
    "TINYINT": "tinyint",
    "SMALLINT": "smallint",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "FLOAT": "real",
    "DOUBLE": "double",
    "VARCHAR": "varchar",
    "BLOB": "varbinary",
    "DATE": "date",
    "TIME": "time(6)",
    "TIMESTAMP": "timestamp(6)",
    "TIMESTAMP WITH TIME ZONE": "timestamp(6) with time zone",
    "UUID": "uuid",
    "JSON": "json",
}

# The metadata Trino serves, as views over DuckDB's catalog functions. `{catalog}` is the
# catalog's name; `denied` holds the schemas no user may see.
METADATA_VIEWS = {
    "schemata": """
        SELECT '{catalog}' AS catalog_name, schema_name
        FROM (SELECT schema_name FROM duckdb_schemas()
              WHERE database_name = '{catalog}' AND schema_name <> 'main'
              UNION ALL SELECT 'information_schema')
        WHERE schema_name NOT IN (SELECT schema_name FROM trino.denied)""",
    "tables": """
        SELECT '{catalog}' AS table_catalog, schema_name AS table_schema,
               table_name, table_type
        FROM (SELECT schema_name, table_name, 'BASE TABLE' AS table_type FROM duckdb_tables()
              WHERE database_name = '{catalog}'
              UNION ALL SELECT schema_name, view_name, 'VIEW' FROM duckdb_views()
              WHERE database_name = '{catalog}' AND NOT internal)
        WHERE schema_name NOT IN (SELECT schema_name FROM trino.denied)""",
    "columns": """
        SELECT '{catalog}' AS table_catalog, schema_name AS table_schema, table_name,
               column_name, column_index AS ordinal_position, column_default,
               CASE WHEN is_nullable THEN 'YES' ELSE 'NO' END AS is_nullable,
               trino_type(data_type) AS data_type, comment, NULL::VARCHAR AS extra_info
        FROM duckdb_columns()
        WHERE database_name = '{catalog}'
          AND schema_name NOT IN (SELECT schema_name FROM trino.denied)""",
    "views": """
        SELECT '{catalog}' AS table_catalog, v.schema_name AS table_schema,
               v.view_name AS table_name, 'admin' AS view_owner, v.comment AS view_comment,
               q.definition AS view_definition
        FROM duckdb_views() AS v JOIN trino.view_sql AS q
          ON q.schema_name = v.schema_name AND q.view_name = v.view_name
        WHERE v.database_name = '{catalog}'
          AND v.schema_name NOT IN (SELECT schema_name FROM trino.denied)""",
    "table_comments": """
        SELECT '{catalog}' AS catalog_name, schema_name, table_name, comment
        FROM (SELECT schema_name, table_name, comment FROM duckdb_tables()
              WHERE database_name = '{catalog}'
              UNION ALL SELECT schema_name, view_name, comment FROM duckdb_views()
              WHERE database_name = '{catalog}' AND NOT internal)
        WHERE schema_name NOT IN (SELECT schema_name FROM trino.denied)""",
    "catalogs": "SELECT table_cat FROM (VALUES ('{catalog}'), ('system')) AS c(table_cat)",
}
INFORMATION_SCHEMA = ("schemata", "tables", "columns", "views")


class TrinoError(Exception):
    """A query failure, answered as Trino's `error` object."""

    def __init__(self, name: str, code: int, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.code = code
        self.message = message

    def as_json(self) -> dict[str, Any]:
        """The `error` object of Trino's QueryResults."""
        return {
            "message": self.message,
            "errorCode": self.code,
            "errorName": self.name,
            "errorType": "USER_ERROR",
            "errorLocation": {"lineNumber": 1, "columnNumber": 1},
            "failureInfo": {
                "type": "io.trino.spi.TrinoException",
                "message": self.message,
                "suppressed": [],
                "stack": [],
            },
        }


@dataclass
class Statement:
    """One statement as the coordinator received it."""

    user: str
    catalog: str | None
    schema: str | None
    sql: str


@dataclass
class _Query:
    columns: list[dict[str, Any]] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    error: TrinoError | None = None
    ran: bool = False


class FakeTrino:
    """A Trino coordinator on 127.0.0.1 (a free port) serving one catalog from DuckDB."""

    def __init__(
        self,
        catalog: str = "iceberg",
        *,
        denied_schemas: frozenset[str] = frozenset(),
        page_size: int = 3,
    ) -> None:
        self.catalog = catalog
        self.page_size = page_size
        self.statements: list[Statement] = []
        self._queries: dict[str, tuple[Statement, _Query]] = {}
        self._lock = threading.Lock()
        self._db = duckdb.connect()
        self._db.create_function("trino_type", trino_type, ["VARCHAR"], "VARCHAR")
        self._db.execute(f"ATTACH ':memory:' AS \"{catalog}\"")
        self._db.execute("CREATE SCHEMA trino")
        self._db.execute("CREATE TABLE trino.denied (schema_name VARCHAR)")
        for schema in denied_schemas:
            self._db.execute("INSERT INTO trino.denied VALUES (?)", [schema])
        self._db.execute(
            "CREATE TABLE trino.view_sql (schema_name VARCHAR, view_name VARCHAR,"
            " definition VARCHAR)"
        )
        for name, query in METADATA_VIEWS.items():
            self._db.execute(f"CREATE VIEW trino.{name} AS {query.format(catalog=catalog)}")
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        """The port the coordinator listens on."""
        return int(self._server.server_address[1])

    def __enter__(self) -> FakeTrino:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._db.close()

    def create(self, sql: str) -> None:
        """Run Trino DDL or DML on the catalog, as its administrator (no access control).

        A `CREATE VIEW` keeps its query, rendered by sqlglot in Trino's dialect, as the
        definition `information_schema.views` gives.
        """
        tree = sqlglot.parse_one(sql, read="trino")
        with self._lock:
            self._db.execute(tree.sql(dialect="duckdb"))
            if isinstance(tree, exp.Create) and tree.kind == "VIEW":
                target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
                self._db.execute(
                    "INSERT INTO trino.view_sql VALUES (?, ?, ?)",
                    [target.db, target.name, tree.expression.sql(dialect="trino")],
                )

    # The protocol: submit, then page through the results.

    def submit(self, statement: Statement) -> str:
        """Queue a statement; its id."""
        query_id = (
            datetime.datetime.now(datetime.UTC).strftime("%Y%m%d_%H%M%S_") + (uuid.uuid4().hex[:11])
        )
        with self._lock:
            self.statements.append(statement)
            self._queries[query_id] = (statement, _Query())
        return query_id

    def page(self, query_id: str, token: int) -> dict[str, Any] | None:
        """The QueryResults JSON of page `token` of a query (running it on the first), or None."""
        with self._lock:
            found = self._queries.get(query_id)
            if found is None:
                return None
            statement, query = found
            if not query.ran:
                query.ran = True
                try:
                    query.columns, query.rows = self._run(statement)
                except TrinoError as error:
                    query.error = error
        answer = self._results(query_id, "FINISHED")
        if query.error is not None:
            answer["stats"]["state"] = "FAILED"
            answer["error"] = query.error.as_json()
            return answer
        start = token * self.page_size
        answer["columns"] = query.columns
        if query.rows[start:]:
            answer["data"] = query.rows[start : start + self.page_size]
        if start + self.page_size < len(query.rows):
            answer["stats"]["state"] = "RUNNING"
            answer["nextUri"] = self._uri(f"/v1/statement/executing/{query_id}/y/{token + 1}")
        return answer

    def cancel(self, query_id: str) -> bool:
        """Forget a query; whether it was known.

        Like Trino, the fake keeps finished and failed queries until then: a client that
        closes its cursor after an error still cancels the URI it was last given.
        """
        with self._lock:
            return self._queries.pop(query_id, None) is not None

    def queued(self, query_id: str) -> dict[str, Any]:
        """The answer to the POST: queued, with the URI to poll."""
        answer = self._results(query_id, "QUEUED")
        answer["nextUri"] = self._uri(f"/v1/statement/queued/{query_id}/x/0")
        return answer

    def _results(self, query_id: str, state: str) -> dict[str, Any]:
        return {
            "id": query_id,
            "infoUri": self._uri(f"/ui/query.html?{query_id}"),
            "stats": {
                "state": state,
                "queued": state == "QUEUED",
                "scheduled": state != "QUEUED",
                "nodes": 1,
                "elapsedTimeMillis": 0,
                "processedRows": 0,
            },
            "warnings": [],
        }

    def _uri(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    # Running one statement: bind, translate, resolve names, run on DuckDB.

    def _run(self, statement: Statement) -> tuple[list[dict[str, Any]], list[list[Any]]]:
        sql = bind_parameters(statement.sql)
        try:
            tree = sqlglot.parse_one(sql, read="trino")
        except sqlglot.errors.ParseError as exc:
            raise TrinoError("SYNTAX_ERROR", 1, f"line 1:1: {exc}") from exc
        if not isinstance(tree, exp.Query):
            raise TrinoError("NOT_SUPPORTED", 13, "this coordinator answers queries only")
        for function in list(tree.find_all(exp.CurrentVersion)):
            function.replace(exp.Literal.string(VERSION))
        partitions = self._partitions_table(tree, statement)
        if partitions is not None:
            return partitions
        ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
        for table in list(tree.find_all(exp.Table)):
            if not table.db and table.name in ctes:
                continue
            table.replace(self._resolve(table, statement))
        try:
            relation = self._db.sql(tree.sql(dialect="duckdb"))
        except duckdb.Error as exc:
            raise TrinoError("GENERIC_USER_ERROR", 0, str(exc).splitlines()[0]) from exc
        columns = [
            column(name, trino_type(str(kind)))
            for name, kind in zip(relation.columns, relation.types, strict=True)
        ]
        return columns, [[to_json(value) for value in row] for row in relation.fetchall()]

    def _resolve(self, table: exp.Table, statement: Statement) -> exp.Table:
        """The DuckDB table behind a Trino name, or the error Trino answers for it."""
        catalog = table.catalog or statement.catalog
        schema = table.db or statement.schema
        alias = table.args.get("alias")
        if catalog == "system" and (schema, table.name) in (
            ("metadata", "table_comments"),
            ("jdbc", "catalogs"),
        ):
            return exp.table_(table.name, db="trino", alias=alias)
        if catalog is None:
            raise TrinoError("MISSING_CATALOG_NAME", 56, "Catalog must be specified")
        if catalog != self.catalog:
            raise TrinoError("CATALOG_NOT_FOUND", 44, f"Catalog '{catalog}' not found")
        if schema is None:
            raise TrinoError(
                "MISSING_SCHEMA_NAME", 57, "Schema must be specified when session schema is not set"
            )
        full = f"{catalog}.{schema}.{table.name}"
        if schema == "information_schema" and table.name in INFORMATION_SCHEMA:
            return exp.table_(table.name, db="trino", alias=alias)
        if self._denied(schema):
            raise TrinoError(
                "PERMISSION_DENIED", 4, f"Access Denied: Cannot select from table {full}"
            )
        if self._kind(schema, table.name) is None:
            raise TrinoError("TABLE_NOT_FOUND", 46, f"Table '{full}' does not exist")
        return exp.table_(table.name, db=schema, catalog=catalog, alias=alias, quoted=True)

    def _partitions_table(
        self, tree: exp.Query, statement: Statement
    ) -> tuple[list[dict[str, Any]], list[list[Any]]] | None:
        """`SELECT * FROM "t$partitions"`: Iceberg's for an unpartitioned table, or the error.

        Trino answers `$partitions` only for a table; for a view, or a name it does not
        know, `TABLE_NOT_FOUND` names the whole `t$partitions`.
        """
        for table in tree.find_all(exp.Table):
            if not table.name.endswith("$partitions"):
                continue
            base = table.name.removesuffix("$partitions")
            schema = table.db or statement.schema or ""
            catalog = table.catalog or statement.catalog
            full = f"{catalog}.{schema}.{table.name}"
            if (
                catalog != self.catalog
                or self._denied(schema)
                or self._kind(schema, base) != "BASE TABLE"
            ):
                raise TrinoError("TABLE_NOT_FOUND", 46, f"Table '{full}' does not exist")
            counted = self._db.execute(f'SELECT count(*) FROM "{catalog}"."{schema}"."{base}"')
            row = [counted.fetchall()[0][0], 1, 0, None]
            names = ("record_count", "file_count", "total_size", "data")
            kinds = ("bigint", "bigint", "bigint", "row(id row(min bigint, max bigint))")
            return [column(n, k) for n, k in zip(names, kinds, strict=True)], [row]
        return None

    def _denied(self, schema: str) -> bool:
        found = self._db.execute("SELECT 1 FROM trino.denied WHERE schema_name = ?", [schema])
        return bool(found.fetchall())

    def _kind(self, schema: str, name: str) -> str | None:
        """`BASE TABLE`, `VIEW`, or None for a name the catalog does not have."""
        found = self._db.execute(
            "SELECT table_type FROM trino.tables WHERE table_schema = ? AND table_name = ?",
            [schema, name],
        ).fetchall()
        return str(found[0][0]) if found else None


def bind_parameters(sql: str) -> str:
    """`EXECUTE IMMEDIATE 'stmt' USING a, b` as `stmt` with its `?` bound; other SQL as is."""
    tokens = sqlglot.tokenize(sql, read="trino")
    if len(tokens) < 2 or tokens[0].token_type != TokenType.EXECUTE:
        return sql
    rest = sql[tokens[0].end + 1 :]
    inner = sqlglot.tokenize(rest, read="trino")
    if not inner or inner[0].text.upper() != "IMMEDIATE" or len(inner) < 2:
        raise TrinoError("SYNTAX_ERROR", 1, "line 1:1: expected EXECUTE IMMEDIATE 'statement'")
    body = inner[1].text
    values: list[exp.Expression] = []
    if len(inner) > 2:
        if inner[2].token_type != TokenType.USING:
            raise TrinoError("SYNTAX_ERROR", 1, "line 1:1: expected USING after the statement")
        select = sqlglot.parse_one("SELECT " + rest[inner[3].start :], read="trino")
        values = list(select.expressions)
    if not values:
        return body
    tree = sqlglot.parse_one(body, read="trino")
    placeholders = list(tree.find_all(exp.Placeholder, bfs=False))  # in the order written
    if len(placeholders) != len(values):
        raise TrinoError(
            "INVALID_PARAMETER_USAGE",
            80,
            f"Incorrect number of parameters: expected {len(placeholders)} but found {len(values)}",
        )
    for placeholder, value in zip(placeholders, values, strict=True):
        placeholder.replace(value)
    return tree.sql(dialect="trino")


def trino_type(duckdb_type: str) -> str:
    """Trino's spelling of a DuckDB type: `DECIMAL(10,2)` -> `decimal(10,2)`, `X[]` -> array."""
    if duckdb_type.endswith("[]"):
        return f"array({trino_type(duckdb_type[:-2])})"
    decimal_type = re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", duckdb_type)
    if decimal_type:
        return f"decimal({decimal_type[1]},{decimal_type[2]})"
    if duckdb_type not in TRINO_TYPES:
        raise TrinoError("NOT_SUPPORTED", 13, f"the fake coordinator knows no type {duckdb_type}")
    return TRINO_TYPES[duckdb_type]


def column(name: str, trino: str) -> dict[str, Any]:
    """A result column as Trino describes it: name, type and type signature."""
    return {"name": name, "type": trino, "typeSignature": type_signature(trino)}


def type_signature(trino: str) -> dict[str, Any]:
    """`decimal(10,2)` -> rawType `decimal` with two LONG arguments; `array(T)` nests T."""
    raw, _, inside = trino.partition("(")
    arguments: list[dict[str, Any]] = []
    if raw == "array":
        arguments = [{"kind": "TYPE", "value": type_signature(inside[:-1])}]
    elif raw == "varchar":
        arguments = [{"kind": "LONG", "value": 2147483647}]
    elif inside and raw != "row":
        numbers = inside.split(")")[0].split(",")
        arguments = [{"kind": "LONG", "value": int(n)} for n in numbers]
        raw += inside.split(")", 1)[1]  # `timestamp(6) with time zone` keeps its suffix
    return {"rawType": raw.strip(), "arguments": arguments}


def to_json(value: Any) -> Any:
    """A value as Trino's JSON encodes it: decimals and temporals as strings."""
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ", timespec="microseconds")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, list):
        return [to_json(item) for item in value]
    return value


def _handler(trino: FakeTrino) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.path != "/v1/statement":
                self._send(404, None)
                return
            user = self.headers.get("X-Trino-User")
            if not user:
                self._send(400, None, text="User must be set")
                return
            length = int(self.headers.get("Content-Length", 0))
            statement = Statement(
                user=user,
                catalog=self.headers.get("X-Trino-Catalog"),
                schema=self.headers.get("X-Trino-Schema"),
                sql=self.rfile.read(length).decode(),
            )
            self._send(200, trino.queued(trino.submit(statement)))

        def do_GET(self) -> None:
            found = self._query()
            answer = trino.page(*found) if found else None
            self._send(200 if answer else 404, answer)

        def do_DELETE(self) -> None:
            found = self._query()
            self._send(204 if found and trino.cancel(found[0]) else 404, None)

        def _query(self) -> tuple[str, int] | None:
            parts = self.path.split("/")
            if len(parts) != 7 or parts[1:3] != ["v1", "statement"]:
                return None
            return parts[4], int(parts[6])

        def _send(self, status: int, body: dict[str, Any] | None, *, text: str = "") -> None:
            payload = json.dumps(body).encode() if body is not None else text.encode()
            self.send_response(status)
            self.send_header(
                "Content-Type", "application/json" if body is not None else "text/plain"
            )
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: a test's output is its assertions."""

    return Handler
