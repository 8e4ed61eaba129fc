"""Table- and column-level accuracy of Steward's SQL lineage against two peers, on one corpus.

The corpus (`corpus.jsonl`, SQL from DataHub's parser tests with their expected
lineage; README beside it) is scored for Steward (`steward.lineage.sql.analyze`),
sqlglot's plain `lineage` driven by a small loop, and sqllineage 1.5.9 (when it
is installed), overall, per dialect and per statement kind, from one run.

Scoring (the corpus README's rules): names lower-cased and unquoted; a predicted
table lacking only the case's default database/schema is qualified with them;
table level = exact set equality of inputs and of outputs; column level = exact
equality of {output column -> set of (table, column)} over the cases where some
expected output column has an upstream, `*` upstreams ignored; excluded cases skipped.
The aim is DataHub's own parser on the same corpus: 100% table, 98.6% column.

    python bench/sql_lineage.py [--corpus PATH] [--show-misses steward]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import warnings
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

CORPUS = Path("/work/shared/corpora/sql-lineage/corpus.jsonl")
AIM = {"table": 100.0, "column": 98.6}

# corpus dialect names that sqlglot spells differently
SQLGLOT_DIALECT = {"mssql": "tsql"}
SQLLINEAGE_DIALECT = {
    "postgres": "postgres",
    "snowflake": "snowflake",
    "bigquery": "bigquery",
    "mysql": "mysql",
    "redshift": "redshift",
    "sqlite": "sqlite",
    "oracle": "oracle",
    "teradata": "teradata",
    "hive": "hive",
    "mssql": "tsql",
    "tsql": "tsql",
    "clickhouse": "clickhouse",
    "databricks": "databricks",
}

Prediction = tuple[set[str], set[str], dict[str, set[tuple[str, str]]]]


def _name(text: str) -> str:
    for quote in '"`[]':
        text = text.replace(quote, "")
    return text.lower()


def _qualified(table: str, case: dict[str, Any]) -> str:
    """A predicted table lacking only the case's default db/schema, qualified with them."""
    table = _name(table)
    parts = table.split(".")
    db, schema = case.get("default_db"), case.get("default_schema")
    if len(parts) == 1 and schema:
        parts = [_name(schema), *parts]
    if len(parts) == 2 and db and (schema is None or parts[0] == _name(schema)):
        parts = [_name(db), *parts]
    return ".".join(parts)


def _expected(case: dict[str, Any]) -> Prediction:
    expected = case["expected"]
    columns: dict[str, set[tuple[str, str]]] = {}
    for item in expected.get("column_lineage") or []:
        ups = {(_name(t), _name(c)) for t, c in item["upstreams"] if c != "*"}
        columns.setdefault(_name(item["downstream_column"]), set()).update(ups)
    return set(map(_name, expected["in_tables"])), set(map(_name, expected["out_tables"])), columns


def _normalised(case: dict[str, Any], prediction: Prediction) -> Prediction:
    ins, outs, columns = prediction
    cols = {
        _name(out): {(_qualified(t, case), _name(c)) for t, c in ups if c != "*"}
        for out, ups in columns.items()
    }
    return {_qualified(t, case) for t in ins}, {_qualified(t, case) for t in outs}, cols


# -- the three parsers ---------------------------------------------------------------------
def steward(case: dict[str, Any]) -> Prediction:
    from steward.lineage.sql import analyze

    result = analyze(
        case["sql"],
        dialect=SQLGLOT_DIALECT.get(case["dialect"], case["dialect"]),
        schema=case.get("schema"),
        default_catalog=case.get("default_db"),
        default_schema=case.get("default_schema"),
    )
    columns: dict[str, set[tuple[str, str]]] = {}
    for statement in result.statements:
        for column in statement.columns:
            ups = {(up.table, up.column) for up in column.upstreams if up.of_column}
            columns.setdefault(column.column, set()).update(ups)
    return set(result.inputs), set(result.outputs), columns


def sqlglot_plain(case: dict[str, Any]) -> Prediction:
    """sqlglot's public API alone (none of Steward's code), as an engineer would drive it:
    the statement's target (`this`, its column list renaming by position) and query
    (`expression`); `qualify` with the case's schema and default db/catalog (validated,
    else not, else without the schema); input tables from the scopes' `exp.Table`
    sources (no CTEs, no table functions); per output column `sqlglot.lineage.lineage`
    over that qualified scope, its leaf tables' columns as the upstreams."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.lineage import lineage
    from sqlglot.optimizer.qualify import qualify
    from sqlglot.optimizer.scope import build_scope

    def name(table: exp.Table) -> str:
        return ".".join(part.name for part in table.parts)

    dialect = SQLGLOT_DIALECT.get(case["dialect"], case["dialect"])
    statement = sqlglot.parse(case["sql"], dialect=dialect)[0]  # `...; -- end` is two
    outs: set[str] = set()
    renamed: list[str] = []  # INSERT INTO t (a, b) / CREATE VIEW v (a, b): by position
    query = statement
    if statement is not None and not isinstance(statement, exp.Query):  # DML/DDL
        target = statement.this
        if isinstance(target, exp.Schema):
            renamed = [column.name for column in target.expressions]
            target = target.this
        if isinstance(target, exp.Table):
            outs.add(name(target))
        query = statement.expression
    if isinstance(query, exp.Subquery):  # CREATE TABLE t AS (SELECT ...)
        query = query.unnest()
    if isinstance(query, exp.Query) and statement.args.get("with_"):  # WITH c AS (...) INSERT
        query = query.copy()
        query.set("with_", statement.args["with_"].copy())
    if not isinstance(query, exp.Query):
        return set(), outs, {}
    schema: dict[str, Any] = {}  # `db.t` keys nested as sqlglot's MappingSchema wants them
    for key, columns in (case.get("schema") or {}).items():
        *parents, table = key.split(".")
        if len(parents) < 3:
            nested = schema
            for part in parents:
                nested = nested.setdefault(part, {})
            nested[table] = columns
    options = {
        "dialect": dialect,
        "db": case.get("default_schema"),
        "catalog": case.get("default_db"),
    }
    qualified = None  # with the schema, else without; validated, else not
    for kwargs in (
        {"schema": schema},
        {"schema": schema, "validate_qualify_columns": False},
        {},
        {"validate_qualify_columns": False},
    ):
        with contextlib.suppress(Exception):
            qualified = qualify(query.copy(), identify=False, **kwargs, **options)
            break
    if qualified is None:
        return set(), outs, {}
    schema = kwargs.get("schema", {})
    root = build_scope(qualified)
    ins: set[str] = set()
    for scope in root.traverse() if root else []:
        for alias, source in scope.sources.items():
            # a stored table, not a CTE nor a table function (`generate_series(...)`)
            stored = isinstance(source, exp.Table) and isinstance(source.this, exp.Identifier)
            if stored and alias not in scope.cte_sources:
                ins.add(name(source))
    columns: dict[str, set[tuple[str, str]]] = {}
    for position, select in enumerate(qualified.selects):
        column = select.alias_or_name
        try:
            # the query is qualified already: its scope, and the name as it is there
            named = exp.column(column, quoted=True)
            node = lineage(named, qualified, schema, dialect=dialect, scope=build_scope(qualified))
        except Exception:  # a column sqlglot cannot follow is a miss, not a crash
            continue
        columns[renamed[position] if position < len(renamed) else column] = {
            (name(leaf.expression), leaf.name.split(".")[-1])
            for leaf in node.walk()
            if isinstance(leaf.expression, exp.Table)
            and isinstance(leaf.expression.this, exp.Identifier)
        }
    return ins, outs, columns


def sqllineage_peer(case: dict[str, Any]) -> Prediction:
    from sqllineage.runner import LineageRunner

    dialect = SQLLINEAGE_DIALECT.get(case["dialect"], "non-validating")
    runner = LineageRunner(case["sql"], dialect=dialect, silent_mode=True)
    ins = {str(t) for t in runner.source_tables}
    outs = {str(t) for t in runner.target_tables}
    columns: dict[str, set[tuple[str, str]]] = {}
    for path in runner.get_column_lineage(exclude_subquery_columns=True):
        source, target = path[0], path[-1]
        table = str(source.parent) if source.parent is not None else ""
        columns.setdefault(target.raw_name, set()).add((table, source.raw_name))
    return ins, outs, columns


def _strip_default(table: str) -> str:
    return table.removeprefix("<default>.")


def _sqllineage_installed() -> bool:
    try:
        import sqllineage  # noqa: F401
    except ImportError:
        return False
    return True


# -- scoring -------------------------------------------------------------------------------
def score(
    cases: list[dict[str, Any]], parser: Callable[[dict[str, Any]], Prediction]
) -> tuple[dict[str, list[int]], list[str]]:
    """{group: [table hits, table cases, column hits, column cases]} and the missed tests."""
    groups: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    misses = []
    for case in cases:
        want_in, want_out, want_cols = _expected(case)
        try:
            ins, outs, cols = parser(case)
            ins, outs = {_strip_default(t) for t in ins}, {_strip_default(t) for t in outs}
            cols = {k: {(_strip_default(t), c) for t, c in v} for k, v in cols.items()}
            got_in, got_out, got_cols = _normalised(case, (ins, outs, cols))
        except Exception:  # a parser that fails on a case scores a miss
            got_in, got_out, got_cols = set(), set(), {}
        table_hit = got_in == want_in and got_out == want_out
        column_case = any(want_cols.values())  # some output column has an upstream
        column_hit = column_case and got_cols == want_cols
        keys = ("all", f"dialect {case['dialect']}", f"kind {case['expected']['query_type']}")
        for key in keys:
            groups[key][0] += table_hit
            groups[key][1] += 1
            groups[key][2] += column_hit
            groups[key][3] += column_case
        if not table_hit or (column_case and not column_hit):
            misses.append(
                f"{case['test']} ({case['dialect']}): "
                + ("" if table_hit else f"tables {sorted(got_in)}->{sorted(got_out)} ")
                + (
                    ""
                    if not column_case or column_hit
                    else f"columns want {_sorted(want_cols)} got {_sorted(got_cols)}"
                )
            )
    return groups, misses


def _sorted(columns: dict[str, set[tuple[str, str]]]) -> dict[str, list[tuple[str, str]]]:
    return {key: sorted(value) for key, value in sorted(columns.items())}


def _percent(hits: int, total: int) -> str:
    return f"{100.0 * hits / total:5.1f}%" if total else "    -"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--show-misses", choices=["steward", "sqlglot", "sqllineage"])
    args = parser.parse_args()
    cases = [json.loads(line) for line in args.corpus.read_text().splitlines() if line.strip()]
    scored = [case for case in cases if not case.get("excluded")]
    peers: dict[str, Callable[[dict[str, Any]], Prediction] | None] = {
        "steward": steward,
        "sqlglot": sqlglot_plain,
        "sqllineage": sqllineage_peer if _sqllineage_installed() else None,
    }
    results: dict[str, dict[str, list[int]]] = {}
    for name, run in peers.items():
        if run is None:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results[name], misses = score(scored, run)
        if args.show_misses == name:
            print("\n".join(f"miss: {line}" for line in misses))
    print(f"{len(scored)} scored cases of {len(cases)}; aim (DataHub's parser): ", end="")
    print(f"table {AIM['table']}%, column {AIM['column']}%")
    header = f"{'group':28} {'cases':>5} {'cols':>5}" + "".join(
        f" {name + ' tbl':>15} {name + ' col':>15}" for name in peers
    )
    print(header)
    keys = sorted(results["steward"], key=lambda k: (k != "all", k))
    for key in keys:
        counts = results["steward"][key]
        row = f"{key:28} {counts[1]:5d} {counts[3]:5d}"
        for name in peers:
            if name not in results:
                row += f" {'not installed':>15} {'not installed':>15}"
                continue
            hits = results[name][key]
            row += f" {_percent(hits[0], hits[1]):>15} {_percent(hits[2], hits[3]):>15}"
        print(row)
    total = results["steward"]["all"]
    table, column = 100.0 * total[0] / total[1], 100.0 * total[2] / total[3]
    print(
        f"steward / aim: table {table / AIM['table']:.3f}, column {column / AIM['column']:.3f}"
        " (above 1 beats DataHub's parser)"
    )


if __name__ == "__main__":
    main()
