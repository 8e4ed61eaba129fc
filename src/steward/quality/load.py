"""Reading a checks file; every mistake is reported as `file:line: message`.

The file reads like a dbt schema file:

    version: 1
    datasets:
      - name: lake.shop.orders
        checks:
          - row_count: {min: 1}
        columns:
          - name: order_id
            checks: [not_null, unique]

A check is its kind alone (`not_null`) or a one-key mapping from kind to arguments;
`severity`, `where`, `warn_if`, `error_if` and `name` sit among the arguments or, as in
dbt, under `config:`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import sqlglot
import yaml

from steward.errors import InvalidInput
from steward.quality.models import (
    BETWEEN,
    COMMON,
    DEFAULT_THRESHOLD,
    KINDS,
    Check,
    ChecksFile,
    Dataset,
    Severity,
    Threshold,
    parse_age,
)
from steward.yaml_lines import NotYaml, compose, line_of


class ChecksFileError(InvalidInput):
    """A checks file that cannot be used; `problems` holds one `file:line: message` each."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("invalid checks file:\n  " + "\n  ".join(problems))
        self.problems = list(problems)


def read_checks(path: str | Path) -> ChecksFile:
    """Parse and check the checks file at `path`; raises `ChecksFileError`."""
    target = Path(path)
    if not target.is_file():
        raise InvalidInput(f"checks: {target} is not a file")
    return parse_checks(target.read_text(encoding="utf-8"), name=str(target))


def parse_checks(text: str, *, name: str = "checks.yaml") -> ChecksFile:
    """Parse checks YAML text (`name` is used in messages); raises `ChecksFileError`."""
    try:
        node, data = compose(text, name=name)
    except NotYaml as exc:
        raise ChecksFileError([exc.message]) from None
    reader = _Reader(name, node)
    datasets = reader.file(data)
    if reader.problems:
        raise ChecksFileError(reader.problems)
    return ChecksFile(path=name, datasets=tuple(datasets))


class _Reader:
    def __init__(self, name: str, node: yaml.Node | None) -> None:
        self.name = name
        self.node = node
        self.problems: list[str] = []

    def line(self, loc: Sequence[str | int]) -> int:
        return line_of(self.node, loc)

    def problem(self, loc: Sequence[str | int], message: str) -> None:
        where = ".".join(f"[{p}]" if isinstance(p, int) else p for p in loc).replace(".[", "[")
        prefix = f"{where}: " if where else ""
        self.problems.append(f"{self.name}:{self.line(loc)}: {prefix}{message}")

    def file(self, data: Any) -> list[Dataset]:
        if not isinstance(data, dict):
            self.problem([], "a checks file is a mapping with `version: 1` and `datasets:`")
            return []
        for key in data:
            if key not in ("version", "datasets"):
                self.problem([key], "unknown key (expected version, datasets)")
        if data.get("version", 1) != 1:
            self.problem(["version"], f"version {data.get('version')!r} is not supported (1)")
        datasets = data.get("datasets")
        if not isinstance(datasets, list) or not datasets:
            self.problem(["datasets"], "a non-empty list of datasets is required")
            return []
        out: list[Dataset] = []
        seen: dict[str, int] = {}
        for i, entry in enumerate(datasets):
            dataset = self.dataset(entry, ["datasets", i])
            if dataset is None:
                continue
            if dataset.name in seen:
                self.problem(["datasets", i, "name"], f"dataset {dataset.name!r} is declared twice")
            seen[dataset.name] = i
            out.append(dataset)
        return out

    def dataset(self, entry: Any, loc: list[str | int]) -> Dataset | None:
        if not isinstance(entry, dict):
            self.problem(loc, "a dataset is a mapping with `name:` and `checks:` / `columns:`")
            return None
        for key in entry:
            if key not in ("name", "checks", "columns", "description"):
                self.problem([*loc, key], "unknown key (expected name, checks, columns)")
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            self.problem([*loc, "name"], "a dataset needs a `name` (such as lake.shop.orders)")
            return None
        checks: list[Check] = []
        for j, item in enumerate(self.items(entry.get("checks"), [*loc, "checks"])):
            check = self.check(item, [*loc, "checks", j], dataset=name, column=None)
            if check is not None:
                checks.append(check)
        columns = entry.get("columns") or []
        if not isinstance(columns, list):
            self.problem([*loc, "columns"], "a list of columns")
            columns = []
        for k, column in enumerate(columns):
            cloc: list[str | int] = [*loc, "columns", k]
            if not isinstance(column, dict) or not isinstance(column.get("name"), str):
                self.problem(cloc, "a column is a mapping with `name:` and `checks:`")
                continue
            for key in column:
                if key not in ("name", "checks", "tests", "description", "data_type"):
                    self.problem([*cloc, key], "unknown key (expected name, checks)")
            key = "checks" if "checks" in column else "tests"  # dbt calls them tests
            for j, item in enumerate(self.items(column.get(key), [*cloc, key])):
                check = self.check(item, [*cloc, key, j], dataset=name, column=column["name"])
                if check is not None:
                    checks.append(check)
        names: dict[str, Check] = {}
        for check in checks:
            if check.name in names:
                self.problems.append(
                    f"{self.name}:{check.line}: two checks of {name} are called {check.name!r};"
                    " give one a `name:`"
                )
            names[check.name] = check
        return Dataset(name=name, checks=tuple(checks))

    def items(self, value: Any, loc: list[str | int]) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(loc, "a list of checks")
            return []
        return value

    def check(
        self, item: Any, loc: list[str | int], *, dataset: str, column: str | None
    ) -> Check | None:
        if isinstance(item, str):
            kind, raw = item, {}  # type: ignore[var-annotated]
        elif isinstance(item, dict) and len(item) == 1:
            kind, raw = next(iter(item.items()))
            raw = {} if raw is None else raw
            loc = [*loc, kind]
        else:
            self.problem(loc, "a check is a name (not_null) or one `kind: {arguments}` mapping")
            return None
        if kind not in KINDS:
            self.problem(loc, f"unknown check {kind!r} (known: {', '.join(sorted(KINDS))})")
            return None
        if not isinstance(raw, dict):
            self.problem(loc, f"the arguments of {kind} are a mapping")
            return None
        args = dict(raw)
        config = args.pop("config", None) or {}
        if not isinstance(config, dict):
            self.problem([*loc, "config"], "a mapping of severity, where, warn_if, error_if")
            config = {}
        options = {**{k: args.pop(k) for k in COMMON if k in args}, **config}
        level, required, optional = KINDS[kind]
        if level == "column" and column is None:
            self.problem(loc, f"{kind} is a column check; put it under columns[].checks")
            return None
        if level == "dataset" and column is not None:
            self.problem(loc, f"{kind} is a dataset check; put it under the dataset's checks")
            return None
        for key in args:
            if key not in required + optional:
                allowed = ", ".join((*required, *optional, *COMMON)) or "none"
                self.problem([*loc, key], f"unknown argument of {kind} (arguments: {allowed})")
        for key in required:
            if key not in args:
                self.problem(loc, f"{kind} needs `{key}`")
                return None
        before = len(self.problems)
        self.arguments(kind, args, loc, column)
        severity = str(options.get("severity", "error")).lower()
        if severity not in ("error", "warn"):
            self.problem([*loc, "severity"], f"{severity!r} is not error or warn")
        thresholds = {}
        for key in ("warn_if", "error_if"):
            try:
                thresholds[key] = Threshold.parse(options[key]) if key in options else None
            except ValueError as exc:
                self.problem([*loc, key], str(exc))
        where = options.get("where")
        if where is not None:
            error = _expression_problem(str(where))
            if error:
                self.problem([*loc, "where"], f"bad SQL: {error}")
        if len(self.problems) > before:
            return None
        name = options.get("name") or _default_name(kind, column, args)
        return Check(
            name=str(name),
            kind=kind,
            dataset=dataset,
            column=column,
            args=args,
            severity=cast(Severity, severity),
            where=None if where is None else str(where),
            warn_if=thresholds.get("warn_if") or DEFAULT_THRESHOLD,
            error_if=thresholds.get("error_if") or DEFAULT_THRESHOLD,
            line=self.line(loc),
            file=self.name,
        )

    def arguments(
        self, kind: str, args: dict[str, Any], loc: list[str | int], column: str | None
    ) -> None:
        if kind in BETWEEN:
            if "min" not in args and "max" not in args:
                self.problem(loc, f"{kind} needs `min`, `max` or both")
            for key in ("min", "max"):
                if key not in args or _is_number(args[key]):
                    continue
                if kind in ("min", "max") and _is_time(args[key]):
                    continue  # the oldest / newest of a date or timestamp column
                wanted = "a number or an ISO date" if kind in ("min", "max") else "a number"
                self.problem([*loc, key], f"{args[key]!r} is not {wanted}")
        if kind == "accepted_values" and (
            not isinstance(args["values"], list) or not args["values"]
        ):
            self.problem([*loc, "values"], "a non-empty list of values")
        if kind == "relationships":
            for key in ("to", "field"):
                if not isinstance(args[key], str) or not args[key]:
                    self.problem([*loc, key], "a name")
        if kind == "regex":
            import re

            try:
                re.compile(str(args["pattern"]))
            except re.error as exc:
                self.problem([*loc, "pattern"], f"not a regular expression: {exc}")
        if kind == "freshness":
            try:
                parse_age(args["max_age"])
            except ValueError as exc:
                self.problem([*loc, "max_age"], str(exc))
            if column is None and not isinstance(args.get("column"), str):
                self.problem(loc, "freshness needs `column` (a timestamp column)")
        if kind == "duplicate_count":
            columns = args.get("columns", [column] if column else None)
            if not isinstance(columns, list) or not columns:
                self.problem(loc, "duplicate_count needs `columns` (a list of column names)")
        if kind == "schema":
            self.schema_arguments(args, loc)
        if kind == "sql":
            try:
                parsed = sqlglot.parse(str(args["sql"]), read="duckdb")
            except sqlglot.errors.ParseError as exc:
                message = str(exc).split("\n")[0]
                self.problem([*loc, "sql"], f"bad SQL: {message}")
                return
            if len(parsed) != 1 or not isinstance(parsed[0], sqlglot.exp.Query):
                self.problem([*loc, "sql"], "one SELECT query whose rows are the failures")

    def schema_arguments(self, args: dict[str, Any], loc: list[str | int]) -> None:
        if not any(k in args for k in ("columns", "required", "forbidden")):
            self.problem(loc, "schema needs `columns`, `required` or `forbidden`")
        columns = args.get("columns", {})
        if not isinstance(columns, dict):
            self.problem([*loc, "columns"], "a mapping of column name to type (or null)")
        else:
            for name, type_ in columns.items():
                if type_ is None:
                    continue
                try:
                    sqlglot.exp.DataType.build(str(type_), dialect="duckdb")
                except Exception:
                    self.problem([*loc, "columns", name], f"{type_!r} is not a SQL type")
        for key in ("required", "forbidden"):
            if key in args and not (
                isinstance(args[key], list) and all(isinstance(v, str) for v in args[key])
            ):
                self.problem([*loc, key], "a list of column names")


def _default_name(kind: str, column: str | None, args: dict[str, Any]) -> str:
    if kind == "duplicate_count":
        columns = args.get("columns") or [column]
        return f"duplicate_count({', '.join(str(c) for c in columns)})"
    if kind == "freshness":
        return f"freshness({args.get('column') or column})"
    if kind == "relationships":
        return f"relationships({column} -> {args['to']}.{args['field']})"
    return f"{kind}({column})" if column else kind


def _expression_problem(sql: str) -> str | None:
    try:
        parsed = sqlglot.parse(f"SELECT 1 WHERE {sql}", read="duckdb")
    except sqlglot.errors.ParseError as exc:
        return str(exc).split("\n")[0]
    if len(parsed) != 1:
        return "must be one condition"
    return None


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_time(value: object) -> bool:
    from datetime import date, datetime

    if isinstance(value, date):
        return True
    try:
        datetime.fromisoformat(str(value))
    except ValueError:
        return False
    return isinstance(value, str)
