"""Interop: dbt test results imported as they ran, Great Expectations suites translated to checks.

`import_dbt_results` reads the `manifest.json` and `run_results.json` of a `dbt build` or
`dbt test` into one `ImportedResult` per data test that ran. `translate_ge_suite` turns a
Great Expectations expectation suite (GE 0.x `expectation_type` or 1.x `type` shape) into
dataset entries of `checks.yaml`, and lists the expectations it cannot translate, and why.
See docs/quality-alerts-interop.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from steward.errors import InvalidInput

DbtStatus = Literal["pass", "fail", "warn", "error", "skipped"]
DBT_STATUSES: frozenset[str] = frozenset({"pass", "fail", "warn", "error", "skipped"})
# The tested relation, as dbt writes it in a generic test's `model` argument.
_REF = re.compile(r"""\bref\(\s*['"]([^'"]+)['"]\s*(?:,\s*['"]([^'"]+)['"]\s*)?\)""")
_SOURCE = re.compile(r"""\bsource\(\s*['"]([^'"]+)['"]\s*,\s*['"]([^'"]+)['"]\s*\)""")


@dataclass(frozen=True)
class ImportedResult:
    """One dbt data test as it ran.

    `dataset` is the tested relation as `database.schema.identifier` (the OpenLineage
    dataset name of the warehouse table), `node` its dbt unique_id; `kind` is the generic
    test's name (`not_null`, `unique`, `accepted_values` ...) or `singular`.
    """

    test_id: str
    test_name: str
    kind: str
    status: DbtStatus
    dataset: str | None
    node: str | None
    column: str | None
    severity: str
    failures: int | None
    message: str
    execution_time: float
    arguments: dict[str, Any] = field(default_factory=dict)


def import_dbt_results(
    manifest: dict[str, Any], run_results: dict[str, Any]
) -> list[ImportedResult]:
    """The data tests of one dbt invocation, with their statuses and failure counts.

    Results that are not data tests (models, seeds, unit tests ...) are left out.

    Raises:
        InvalidInput: an artifact that is not what dbt writes; the message names the file
            and the part of it that is wrong.
    """
    nodes = _mapping(manifest, "nodes", "manifest.json")
    sources = manifest.get("sources", {})
    if not isinstance(sources, Mapping):
        raise InvalidInput("manifest.json: sources must be an object")
    results = run_results.get("results") if isinstance(run_results, Mapping) else None
    if not isinstance(results, list):
        raise InvalidInput("run_results.json: results must be a list")
    imported: list[ImportedResult] = []
    for index, result in enumerate(results):
        where = f"run_results.json: results[{index}]"
        if not isinstance(result, Mapping):
            raise InvalidInput(f"{where} must be an object")
        unique_id = result.get("unique_id")
        if not isinstance(unique_id, str) or not unique_id:
            raise InvalidInput(f"{where}.unique_id must be a non-empty string")
        if not unique_id.startswith("test."):
            continue
        node = nodes.get(unique_id)
        if not isinstance(node, Mapping):
            raise InvalidInput(
                f"{where}: test {unique_id} is not in manifest.json nodes "
                "(were the two files written by different dbt runs?)"
            )
        imported.append(_imported(unique_id, result, node, nodes, sources, where=where))
    return imported


def _imported(
    unique_id: str,
    result: Mapping[str, Any],
    node: Mapping[str, Any],
    nodes: Mapping[str, Any],
    sources: Mapping[str, Any],
    *,
    where: str,
) -> ImportedResult:
    status = result.get("status")
    if status not in DBT_STATUSES:
        raise InvalidInput(
            f"{where}.status: {status!r} is not a dbt test status "
            f"({', '.join(sorted(DBT_STATUSES))})"
        )
    failures = result.get("failures")
    if failures is not None and (not isinstance(failures, int) or isinstance(failures, bool)):
        raise InvalidInput(f"{where}.failures must be an integer or null, not {failures!r}")
    seconds = result.get("execution_time", 0.0)
    if not isinstance(seconds, int | float) or isinstance(seconds, bool):
        raise InvalidInput(f"{where}.execution_time must be a number, not {seconds!r}")
    message = result.get("message")
    metadata = node.get("test_metadata") or {}
    if not isinstance(metadata, Mapping):
        raise InvalidInput(f"manifest.json: nodes.{unique_id}.test_metadata must be an object")
    kwargs = metadata.get("kwargs") or {}
    config = node.get("config") or {}
    column = node.get("column_name") or kwargs.get("column_name")
    tested = _tested_node(node, kwargs, nodes, sources)
    return ImportedResult(
        test_id=unique_id,
        test_name=str(node.get("name") or unique_id),
        kind=str(metadata.get("name") or "singular"),
        status=status,
        dataset=_relation(tested, nodes, sources) if tested else None,
        node=tested,
        column=str(column) if column else None,
        severity=str(config.get("severity") or "error").lower(),
        failures=failures,
        message=message if isinstance(message, str) else "",
        execution_time=float(seconds),
        arguments={k: v for k, v in kwargs.items() if k not in ("model", "column_name")},
    )


def _tested_node(
    node: Mapping[str, Any],
    kwargs: Mapping[str, Any],
    nodes: Mapping[str, Any],
    sources: Mapping[str, Any],
) -> str | None:
    """The unique_id of the model, seed, snapshot or source a test tests."""
    attached = node.get("attached_node")
    if isinstance(attached, str) and attached:
        return attached
    depends = node.get("depends_on") or {}
    upstream = [n for n in depends.get("nodes") or [] if isinstance(n, str)]
    if len(upstream) > 1:
        # A relationships test depends on both ends; its `model` argument names the tested one.
        named = _named_in_model_argument(str(kwargs.get("model") or ""), upstream, sources)
        if named:
            return named
    return upstream[0] if upstream else None


def _named_in_model_argument(
    model: str, upstream: list[str], sources: Mapping[str, Any]
) -> str | None:
    found = _SOURCE.search(model)
    if found:
        for candidate in upstream:
            source = sources.get(candidate) or {}
            if (source.get("source_name"), source.get("name")) == found.groups():
                return candidate
    found = _REF.search(model)
    if found:
        name = found.group(2) or found.group(1)
        for candidate in upstream:
            if not candidate.startswith("source.") and candidate.split(".")[-1] == name:
                return candidate
    return None


def _relation(unique_id: str, nodes: Mapping[str, Any], sources: Mapping[str, Any]) -> str | None:
    tested = nodes.get(unique_id) or sources.get(unique_id)
    if not isinstance(tested, Mapping):
        return None
    identifier = tested.get("identifier") or tested.get("alias") or tested.get("name")
    parts = [tested.get("database"), tested.get("schema"), identifier]
    return ".".join(str(p) for p in parts if p)


def _mapping(document: Any, key: str, file: str) -> Mapping[str, Any]:
    if not isinstance(document, Mapping):
        raise InvalidInput(f"{file} must be a JSON object")
    value = document.get(key)
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{file}: {key} must be an object")
    return value


# --- Great Expectations -------------------------------------------------------------------

# Expectation -> (check name, how its kwargs map onto the check's `min`/`max`).
_AGGREGATES = {
    "expect_column_mean_to_be_between": "mean",
    "expect_column_min_to_be_between": "min",
    "expect_column_max_to_be_between": "max",
    "expect_column_sum_to_be_between": "sum",
}
# What GE evaluates only in Python, or Steward has no check for.
_WHY_UNSUPPORTED = {
    "expect_column_values_to_be_null": "Steward has no check that every value is null",
    "expect_column_values_to_not_match_regex": "Steward's regex check requires a match; "
    "write a `sql` check for the negation",
    "expect_column_values_to_be_of_type": "column types are checked by `schema` with the "
    "engine's type names, which GE's Python type names do not give",
    "expect_column_median_to_be_between": "Steward has no median check",
    "expect_column_stdev_to_be_between": "Steward has no standard deviation check",
    "expect_column_quantile_values_to_be_between": "Steward has no quantile check",
    "expect_column_kl_divergence_to_be_less_than": "distribution checks are not supported",
    "expect_column_value_lengths_to_be_between": "Steward has no length check; write a "
    "`regex` or `sql` check",
}


@dataclass
class _Dataset:
    name: str
    checks: list[Any] = field(default_factory=list)
    columns: dict[str, list[Any]] = field(default_factory=dict)
    required: list[str] = field(default_factory=list)

    def column(self, name: str, check: Any) -> None:
        self.columns.setdefault(name, []).append(check)

    def entry(self) -> dict[str, Any]:
        checks = list(self.checks)
        if self.required:
            checks.insert(0, {"schema": {"required": self.required}})
        entry: dict[str, Any] = {"name": self.name}
        if checks:
            entry["checks"] = checks
        if self.columns:
            entry["columns"] = [{"name": n, "checks": c} for n, c in self.columns.items()]
        return entry


def translate_ge_suite(
    suite: dict[str, Any], *, dataset: str | None = None
) -> tuple[list[dict[str, Any]], list[str]]:
    """A GE expectation suite as `checks.yaml` dataset entries, and what could not be translated.

    Accepts the GE 0.x shape (`expectation_suite_name`, `expectations[].expectation_type`)
    and the 1.x shape (`name`, `expectations[].type`, optional `severity`).

    Args:
        suite: the suite's JSON, parsed.
        dataset: the dataset the checks are for; the suite's name when None.

    Returns:
        The `datasets:` list of a checks.yaml (one entry), and one line per expectation not
        translated: its index, type, column and why.

    Raises:
        InvalidInput: a suite that is not a GE suite; the message names the part.
    """
    if not isinstance(suite, Mapping):
        raise InvalidInput("expectation suite must be a JSON object")
    expectations = suite.get("expectations")
    if not isinstance(expectations, list):
        raise InvalidInput("expectation suite: expectations must be a list")
    name = dataset or suite.get("expectation_suite_name") or suite.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidInput(
            "expectation suite: no name (expectation_suite_name or name); pass the dataset"
        )
    target = _Dataset(name)
    unsupported: list[str] = []
    for index, expectation in enumerate(expectations):
        where = f"expectations[{index}]"
        if not isinstance(expectation, Mapping):
            raise InvalidInput(f"expectation suite: {where} must be an object")
        kind = expectation.get("expectation_type") or expectation.get("type")
        if not isinstance(kind, str) or not kind:
            raise InvalidInput(f"expectation suite: {where} has no expectation_type or type")
        kwargs = expectation.get("kwargs") or {}
        if not isinstance(kwargs, Mapping):
            raise InvalidInput(f"expectation suite: {where}.kwargs must be an object")
        why = _translate(kind, kwargs, _severity(expectation), target, where=where)
        if why:
            column = f" (column {kwargs['column']})" if "column" in kwargs else ""
            unsupported.append(f"{where} {kind}{column}: {why}")
    return [target.entry()], unsupported


def _translate(
    kind: str, kwargs: Mapping[str, Any], severity: str | None, target: _Dataset, *, where: str
) -> str | None:
    """Add the checks for one expectation to `target`; why not, if it cannot be translated."""
    if kind in _WHY_UNSUPPORTED:
        return _WHY_UNSUPPORTED[kind]
    if any(isinstance(v, Mapping) and "$PARAMETER" in v for v in kwargs.values()):
        return "uses a suite parameter ($PARAMETER), which has no value outside a GE run"
    if kwargs.get("row_condition"):
        return "conditional expectations (row_condition) are not translated; use `where`"
    mostly = kwargs.get("mostly")
    if mostly is not None and not isinstance(mostly, int | float):
        raise InvalidInput(f"expectation suite: {where}.kwargs.mostly must be a number")
    partial = mostly is not None and mostly < 1
    if kind == "expect_column_values_to_not_be_null":
        column = _column(kwargs, where)
        if mostly is not None and mostly < 1:
            percent = round((1 - float(mostly)) * 100, 6)
            target.column(column, _check("missing_percent", {"max": percent}, severity))
        else:
            target.column(column, _check("not_null", {}, severity))
        return None
    if partial:
        return f"mostly={mostly} (a share of rows) has no equivalent for this check"
    if kind == "expect_column_values_to_be_unique":
        target.column(_column(kwargs, where), _check("unique", {}, severity))
    elif kind == "expect_column_values_to_be_in_set":
        values = kwargs.get("value_set")
        if not isinstance(values, list):
            raise InvalidInput(f"expectation suite: {where}.kwargs.value_set must be a list")
        target.column(
            _column(kwargs, where), _check("accepted_values", {"values": values}, severity)
        )
    elif kind == "expect_column_values_to_match_regex":
        pattern = kwargs.get("regex")
        if not isinstance(pattern, str):
            raise InvalidInput(f"expectation suite: {where}.kwargs.regex must be a string")
        target.column(_column(kwargs, where), _check("regex", {"pattern": pattern}, severity))
    elif kind == "expect_column_values_to_be_between":
        # Every value in [a, b] is the column's min >= a and its max <= b (nulls aside in both).
        if kwargs.get("strict_min") or kwargs.get("strict_max"):
            return "strict bounds are not translated; Steward's bounds are inclusive"
        low, high = _bounds(kwargs, where)
        column = _column(kwargs, where)
        if low is None and high is None:
            return "neither min_value nor max_value is set"
        if low is not None:
            target.column(column, _check("min", {"min": low}, severity))
        if high is not None:
            target.column(column, _check("max", {"max": high}, severity))
    elif kind in _AGGREGATES or kind in (
        "expect_table_row_count_to_be_between",
        "expect_table_row_count_to_equal",
    ):
        return _translate_between(kind, kwargs, severity, target, where=where)
    elif kind == "expect_column_to_exist":
        target.required.append(_column(kwargs, where))
    elif kind == "expect_table_columns_to_match_set":
        columns = _column_list(kwargs, "column_set", where)
        target.checks.append(_check("schema", {"required": columns}, severity))
        # GE's default is an exact match (no other columns either), which a `schema`
        # check only states column by column (`forbidden`), not as "nothing else".
        if kwargs.get("exact_match", True) is not False:
            return "translated as required columns; an exact match (no others) is not checked"
    elif kind == "expect_compound_columns_to_be_unique":
        columns = _column_list(kwargs, "column_list", where)
        target.checks.append(_check("duplicate_count", {"columns": columns}, severity))
    else:
        return "not a check Steward runs"
    return None


def _translate_between(
    kind: str, kwargs: Mapping[str, Any], severity: str | None, target: _Dataset, *, where: str
) -> str | None:
    if kwargs.get("strict_min") or kwargs.get("strict_max"):
        return "strict bounds are not translated; Steward's bounds are inclusive"
    if kind == "expect_table_row_count_to_equal":
        value = kwargs.get("value")
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidInput(f"expectation suite: {where}.kwargs.value must be an integer")
        target.checks.append(_check("row_count", {"min": value, "max": value}, severity))
        return None
    low, high = _bounds(kwargs, where)
    if low is None and high is None:
        return "neither min_value nor max_value is set"
    bounds = {k: v for k, v in (("min", low), ("max", high)) if v is not None}
    if kind == "expect_table_row_count_to_be_between":
        target.checks.append(_check("row_count", bounds, severity))
    else:
        target.column(_column(kwargs, where), _check(_AGGREGATES[kind], bounds, severity))
    return None


def _check(name: str, arguments: dict[str, Any], severity: str | None) -> Any:
    if severity:
        arguments = {**arguments, "severity": severity}
    return {name: arguments} if arguments else name


def _severity(expectation: Mapping[str, Any]) -> str | None:
    """`warn` for GE 1.x's `warning`/`info` severities; None (the default, error) otherwise."""
    severity = expectation.get("severity") or (expectation.get("meta") or {}).get("severity")
    if isinstance(severity, str) and severity.lower() in ("warning", "warn", "info"):
        return "warn"
    return None


def _column(kwargs: Mapping[str, Any], where: str) -> str:
    column = kwargs.get("column")
    if not isinstance(column, str) or not column:
        raise InvalidInput(f"expectation suite: {where}.kwargs.column must be a column name")
    return column


def _column_list(kwargs: Mapping[str, Any], key: str, where: str) -> list[str]:
    columns = kwargs.get(key)
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise InvalidInput(f"expectation suite: {where}.kwargs.{key} must be a list of names")
    return list(columns)


def _bounds(kwargs: Mapping[str, Any], where: str) -> tuple[Any, Any]:
    bounds = []
    for key in ("min_value", "max_value"):
        value = kwargs.get(key)
        # Numbers, or ISO dates and times as strings (GE compares those as they are).
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | float | str)
        ):
            raise InvalidInput(f"expectation suite: {where}.kwargs.{key} must be a value")
        bounds.append(value)
    return bounds[0], bounds[1]
