"""Running a dataset's checks on an engine and judging the numbers that come back.

Quality runs as the platform, not through the access policy: the configured engine
reads a catalog table's files directly (`lake.shop.orders` -> its Iceberg snapshot's
Parquet files), and a PostgreSQL source's tables are read by PostgreSQL itself. Either
way the checks see `CheckTables`: the tables set up once on an `engines.Engine`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from steward.engines.base import QueryFailed
from steward.errors import ChecksCouldNotRun, StewardError
from steward.quality.compile import (
    GROUP_DISTINCT,
    GROUP_ROWS,
    GROUP_SAMPLES,
    Plan,
    TableOf,
    compile_checks,
    sample_query,
    user_query,
)
from steward.quality.models import BETWEEN, Check, CheckResult, Dataset, Status, parse_age

if TYPE_CHECKING:
    from steward.app import Steward
    from steward.engines.base import Session, TableData


log = logging.getLogger("steward.quality")


class CheckQueryFailed(ChecksCouldNotRun):
    """A query of a check failed on the engine.

    The engine's own text can quote the data (a value that failed a cast, a row of a
    constraint), and check results are shown to people the policy may keep from that
    data; so the message names the engine's error class only. The text goes to
    Steward's log, for the operator.
    """

    def __init__(self, error_class: str, engine_text: str) -> None:
        super().__init__(f"the engine could not run the query ({error_class})")
        self.error_class = error_class
        log.warning("a quality check query failed: %s: %s", error_class, engine_text)


class CheckTables:
    """The tables of one quality run, set up once on an engine: what the checks query.

    Each dataset is set up under an internal name (`t0`, `t1` ...) that `table` spells;
    `execute` runs Steward's own statements (checks), counting them (tests count scans)
    and turning the engine's errors into `CheckQueryFailed` with the datasets' names put
    back into the operator's log.
    """

    def __init__(self, session: Session, names: Mapping[str, str]) -> None:
        self.statements: list[str] = []
        self.dialect = session.dialect
        self._session = session
        self._names = dict(names)

    def table(self, dataset: str) -> exp.Table:
        """The internal table `dataset` is set up under; KeyError when it is not."""
        return exp.table_(self._names[dataset], quoted=True)

    def execute(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Columns and rows of `sql`; engine errors become `CheckQueryFailed`."""
        self.statements.append(sql)
        try:
            rows = self._session.execute(sql)
        except QueryFailed as exc:
            raise CheckQueryFailed(exc.error_class, self._rename(exc.detail)) from None
        return rows.columns, rows.rows

    def columns(self, dataset: str) -> list[tuple[str, str]]:
        """(name, type) of each column of `dataset`, as the engine types it."""
        try:
            return self._session.schema(self._names[dataset])
        except QueryFailed as exc:
            raise CheckQueryFailed(exc.error_class, self._rename(exc.detail)) from None

    def _rename(self, message: str) -> str:
        for name, internal in self._names.items():
            message = message.replace(f'"{internal}"', name)
        return message

    def close(self) -> None:
        """Release the engine's session."""
        self._session.close()


def open_check_tables(
    steward: Steward, datasets: Sequence[str], *, overrides: Mapping[str, TableData] | None = None
) -> CheckTables:
    """`datasets` set up on the engine that reads them (`Steward.engine_for`).

    `overrides` gives some tables' data directly (a branch's snapshot, for a gate); the
    others are planned as the catalog says.
    """
    given = overrides or {}
    names = {name: f"t{i}" for i, name in enumerate(dict.fromkeys(datasets))}
    data = {
        internal: given[name] if name in given else steward.tables.plan(name)
        for name, internal in names.items()
    }
    session = steward.engine_for(data).open(data)
    return CheckTables(session, names)


def tables_needed(dataset: Dataset) -> list[str]:
    """The dataset and every catalog table its relationships and `sql` checks read."""
    import sqlglot

    names = [dataset.name]
    for check in dataset.checks:
        if check.kind == "relationships":
            names.append(str(check.args["to"]))
        if check.kind == "sql":
            for table in sqlglot.parse_one(str(check.args["sql"]), read="duckdb").find_all(
                exp.Table
            ):
                full = ".".join(p.name for p in table.parts)
                if full.count(".") == 2:
                    names.append(full)
    return list(dict.fromkeys(names))


def open_checks(steward: Steward, dataset: Dataset) -> CheckTables:
    """`dataset`'s tables (and those its checks read) set up on the engine that reads them.

    A database source's tables run on that database (PostgreSQL), the rest on the
    configured engine; a table that cannot be read makes the checks unable to run.
    """
    try:
        return open_check_tables(steward, tables_needed(dataset))
    except StewardError as exc:
        raise ChecksCouldNotRun(f"{dataset.name}: {exc.message}") from None


def run_checks(
    engine: CheckTables, dataset: Dataset, *, now: datetime | None = None
) -> list[CheckResult]:
    """Run every check of `dataset` on `engine`: one scan, one anti-join, then samples."""
    return evaluate(engine, dataset, now=now)[0]


Numbers = dict[str, list[Any]]  # check name -> what its queries returned, in `judge`'s order


@dataclass
class Measured:
    """What a dataset's queries returned: numbers, errors and samples, per check name.

    `samples` holds failing rows the queries brought back (DuckDB); `orphan_keys` the
    keys of a `relationships` check's orphans, whose rows are looked up on failure.
    """

    numbers: Numbers = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    samples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    orphan_keys: dict[str, list[Any]] = field(default_factory=dict)


def evaluate(
    engine: CheckTables, dataset: Dataset, *, now: datetime | None = None
) -> tuple[list[CheckResult], Numbers]:
    """The results of `dataset`'s checks, and the numbers they were judged on."""
    measured = measure(engine, dataset, table_of=engine.table)
    results = conclude(engine, dataset, measured, now=now or datetime.now(UTC))
    return results, measured.numbers


def measure(engine: CheckTables, dataset: Dataset, *, table_of: TableOf) -> Measured:
    """The numbers of the scan, the grouped queries, the anti-join and each `sql` check.

    `table_of` spells each dataset for the engine: a gate points the checked dataset at
    its appended files alone. `schema` checks have no numbers: they read metadata.
    """
    try:
        plan = compile_checks(dataset, table_of=table_of, dialect=engine.dialect)
    except KeyError as exc:
        raise ChecksCouldNotRun(
            f"{dataset.name}: table {exc.args[0]} is not readable here"
        ) from None
    values: dict[str, Any] = {}
    out = Measured()
    if plan.scan is not None:
        _collect(engine, plan.scan, values, out.errors, list(plan.scan_outputs), dataset, table_of)
    for check, query in plan.groups:
        try:
            columns, rows = engine.execute(query.sql(engine.dialect))
        except ChecksCouldNotRun as exc:
            out.errors[check.name] = error_message(exc, check.name)
            continue
        found = dict(zip(columns, rows[0], strict=True))
        out.numbers[check.name] = [found[GROUP_ROWS], found[GROUP_DISTINCT]]
        if check.name in plan.samples:
            out.samples[check.name] = list(found[GROUP_SAMPLES] or [])
    if plan.anti_join is not None:
        _collect(
            engine, plan.anti_join, values, out.errors, list(plan.anti_outputs), dataset, table_of
        )
    for check, query in plan.sql_checks:
        try:
            _, rows = engine.execute(query.sql(engine.dialect))
            values[check.name] = rows[0][0]
        except (ChecksCouldNotRun, KeyError) as exc:
            out.errors[check.name] = error_message(exc, check.name)
    for check in dataset.checks:
        name = check.name
        if check.kind == "schema" or name in out.errors or name in out.numbers:
            continue
        out.numbers[name] = _numbers(check, plan, values)
        alias = plan.samples.get(name)
        if alias is not None and check.kind == "relationships":
            out.orphan_keys[name] = list(values.get(alias) or [])
        elif alias is not None:
            out.samples[name] = list(values.get(alias) or [])
    return out


def conclude(
    engine: CheckTables,
    dataset: Dataset,
    measured: Measured,
    *,
    now: datetime,
    how: Mapping[str, str] | None = None,
    numbers: Numbers | None = None,
    table_of: TableOf | None = None,
) -> list[CheckResult]:
    """Judge each check on its numbers, read `schema` checks, sample what failed.

    `numbers` overrides the measured numbers (a gate's combined ones), `how` how a check
    is said to have run; `table_of` is where failing rows are looked up when the queries
    did not bring them back (the engine's tables unless given).
    """
    results: list[CheckResult] = []
    said = how or {}
    judged = numbers if numbers is not None else measured.numbers
    where = table_of or engine.table
    for check in dataset.checks:
        way = said.get(check.name) or _how(check)
        if check.name in measured.errors:
            results.append(_result(check, "error", None, None, measured.errors[check.name], way))
            continue
        if check.kind == "schema":
            try:
                results.append(_schema(check, engine.columns(check.dataset)))
            except ChecksCouldNotRun as exc:
                message = error_message(exc, check.name)
                results.append(_result(check, "error", None, None, message, "metadata"))
            continue
        result = replace(judge(check, judged[check.name], now=now), how=way)
        if result.status in ("fail", "warn"):
            if check.name in measured.samples:
                result.samples.extend(_plain_rows(measured.samples[check.name]))
            else:
                keys = measured.orphan_keys.get(check.name)
                result.samples.extend(_samples(engine, check, where, keys))
        results.append(result)
    return results


def _plain_rows(rows: list[Any]) -> list[dict[str, Any]]:
    return [dict(row) if isinstance(row, Mapping) else {"value": row} for row in rows]


def _collect(
    engine: CheckTables,
    query: exp.Select,
    values: dict[str, Any],
    errors: dict[str, str],
    names: list[str],
    dataset: Dataset,
    table_of: TableOf,
) -> None:
    """Run one combined query; when it fails, run its checks one by one to find the bad one."""
    try:
        columns, rows = engine.execute(query.sql(engine.dialect))
        values.update(dict(zip(columns, rows[0], strict=True)))
        return
    except ChecksCouldNotRun as exc:
        if len(names) == 1:
            errors[names[0]] = error_message(exc, names[0])
            return
    by_name = {c.name: c for c in dataset.checks}
    for name in names:
        alone = compile_checks(
            Dataset(dataset.name, (by_name[name],)), table_of=table_of, dialect=engine.dialect
        )
        single = alone.scan if alone.scan is not None else alone.anti_join
        assert single is not None
        try:
            columns, rows = engine.execute(single.sql(engine.dialect))
        except ChecksCouldNotRun as exc:
            errors[name] = error_message(exc, name)
            continue
        # Run alone, a check's outputs keep their aliases only if it was first; map them.
        found = dict(zip(columns, rows[0], strict=True))
        values.update({_renumbered(a, index_of(dataset, name)): v for a, v in found.items()})


def index_of(dataset: Dataset, name: str) -> int:
    """The position of check `name` in `dataset` (output aliases are numbered by it)."""
    return next(i for i, c in enumerate(dataset.checks) if c.name == name)


def _renumbered(alias: str, index: int) -> str:
    """`m0_1` -> `m{index}_1`, `s0` -> `s{index}`, `r0_keys` -> `r{index}_keys`."""
    head, rest = alias[0], alias[1:]
    digits = len(rest) - len(rest.lstrip("0123456789"))
    return f"{head}{index}{rest[digits:]}"


def _numbers(check: Check, plan: Plan, values: dict[str, Any]) -> list[Any]:
    if check.name in plan.scan_outputs:
        return [values[a] for a in plan.scan_outputs[check.name]]
    if check.name in plan.anti_outputs:
        return [values[plan.anti_outputs[check.name]]]
    return [values[check.name]]


def judge(check: Check, numbers: list[Any], *, now: datetime) -> CheckResult:
    """A check's result from the numbers its queries returned."""
    kind, how = check.kind, _how(check)
    if kind in ("unique", "duplicate_count"):
        failures = int(numbers[0] or 0) - int(numbers[1] or 0)
        return _counted(check, failures, failures, f"{failures} duplicate rows", how)
    if kind in BETWEEN:
        observed: Any = numbers[0]
        if kind == "mean":
            observed = None if not numbers[1] else numbers[0] / numbers[1]
        if kind == "missing_percent":
            total = int(numbers[1] or 0)
            observed = 0.0 if total == 0 else round(100.0 * int(numbers[0] or 0) / total, 4)
        low, high = _bound(check, observed, "min"), _bound(check, observed, "max")
        try:
            outside = observed is None or (
                (low is not None and observed < low) or (high is not None and observed > high)
            )
        except TypeError:
            message = (
                f"{kind} is {observed} (a {type(observed).__name__}), which cannot be held to"
                f" {check.threshold}"
            )
            return _result(check, "error", None, observed, message, how)
        message = f"{kind} is {observed}" + (f", wanted {check.threshold}" if outside else "")
        return _counted(check, int(outside), observed, message, how)
    if kind == "freshness":
        newest = _utc(numbers[0])
        limit = parse_age(check.args["max_age"])
        if newest is None:
            return _counted(check, 1, None, "no timestamps at all", how)
        age = now - newest
        stale = age > limit
        message = f"newest is {newest.isoformat()} ({_age(age.total_seconds())} old)"
        return _counted(check, int(stale), newest.isoformat(), message, how)
    failures = int(numbers[0] or 0)
    return _counted(check, failures, failures, f"{failures} failing rows", how)


def _bound(check: Check, observed: Any, which: str) -> Any:
    """`min` / `max` of a between check; an ISO date or time when the value is one."""
    bound = check.args.get(which)
    if isinstance(bound, (datetime, date)) and isinstance(observed, datetime):
        bound = _utc(bound) if observed.tzinfo else _naive(bound)
    elif isinstance(bound, str) and isinstance(observed, (datetime, date)):
        try:
            parsed = datetime.fromisoformat(bound)
        except ValueError:
            return bound
        if isinstance(observed, datetime):
            return _utc(parsed) if observed.tzinfo else _naive(parsed)
        return parsed.date()
    return bound


def _naive(value: datetime | date) -> datetime:
    utc = _utc(value)
    assert utc is not None
    return utc.replace(tzinfo=None)


def _counted(check: Check, failures: int, observed: Any, message: str, how: str) -> CheckResult:
    status: Status = "pass"
    if check.severity == "error" and check.error_if.matches(failures):
        status = "fail"
    elif check.warn_if.matches(failures):
        status = "warn"
    return _result(check, status, failures, observed, message, how)


def _result(
    check: Check, status: Status, failures: int | None, observed: Any, message: str, how: str
) -> CheckResult:
    return CheckResult(
        name=check.name,
        dataset=check.dataset,
        column=check.column,
        kind=check.kind,
        severity=check.severity,
        status=status,
        failures=failures,
        observed=observed,
        threshold=check.threshold,
        message=message,
        how=how,
    )


def _schema(check: Check, columns: list[tuple[str, str]]) -> CheckResult:
    """Required columns present with their types, forbidden columns absent."""
    found = {name.lower(): type_ for name, type_ in columns}
    problems: list[str] = []
    wanted = dict(check.args.get("columns") or {})
    for name in check.args.get("required") or []:
        wanted.setdefault(name, None)
    for name, type_ in wanted.items():
        actual = found.get(str(name).lower())
        if actual is None:
            problems.append(f"{name} is missing")
        elif type_ is not None and _type(str(type_)) != _type(actual):
            problems.append(f"{name} is {actual}, not {type_}")
    for name in check.args.get("forbidden") or []:
        if str(name).lower() in found:
            problems.append(f"{name} is forbidden")
    message = "; ".join(problems) or f"{len(columns)} columns as declared"
    return _counted(check, len(problems), len(problems), message, "metadata")


def _type(text: str) -> str:
    try:
        built = exp.DataType.build(text, dialect="duckdb")
    except Exception:
        try:
            built = exp.DataType.build(text, dialect="postgres")
        except Exception:
            return text.lower()
    if built.this == exp.DataType.Type.TEXT:  # text and varchar are one type to a user
        return "VARCHAR"
    return built.sql("duckdb")


def _samples(
    engine: CheckTables, check: Check, table_of: TableOf, keys: list[Any] | None = None
) -> list[dict[str, Any]]:
    try:
        query = sample_query(check, table_of=table_of, dialect=engine.dialect, keys=keys)
        if query is None:
            return []
        columns, rows = engine.execute(query.sql(engine.dialect))
    except (ChecksCouldNotRun, KeyError):
        return []
    return [dict(zip(columns, row, strict=True)) for row in rows]


def _how(check: Check) -> str:
    return {
        "relationships": "anti-join",
        "sql": "sql",
        "schema": "metadata",
    }.get(check.kind, "aggregate scan")


def _utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


def _age(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


def error_message(exc: Exception, check: str) -> str:
    """What a check's result says of why it could not run.

    Steward's own refusals keep their words; an engine's failure is named by its error
    class and the check, never by the engine's text (see `CheckQueryFailed`).
    """
    if isinstance(exc, CheckQueryFailed):
        return f"check {check}: {exc.message}"
    if isinstance(exc, StewardError):
        return exc.message
    return f"table {exc.args[0]} is not readable here"


__all__ = [
    "CheckTables",
    "conclude",
    "error_message",
    "evaluate",
    "judge",
    "measure",
    "open_check_tables",
    "open_checks",
    "run_checks",
    "run_dataset",
    "user_query",
]


def _all_errored(dataset: Dataset, exc: StewardError) -> list[CheckResult]:
    return [
        _result(c, "error", None, None, error_message(exc, c.name), _how(c)) for c in dataset.checks
    ]


def run_dataset(steward: Steward, dataset: Dataset) -> list[CheckResult]:
    """Run `dataset`'s checks on its engine; a dataset that cannot be read errors every check.

    An Iceberg table is checked at its current snapshot, whose numbers are kept so that
    the next gate of a branch appending to it runs incrementally.
    """
    from steward.quality.incremental import run_current

    try:
        done = run_current(steward, dataset)
    except StewardError as exc:
        return _all_errored(dataset, exc)
    if done is not None:
        return done
    try:
        engine = open_checks(steward, dataset)
    except ChecksCouldNotRun as exc:
        return _all_errored(dataset, exc)
    try:
        return run_checks(engine, dataset)
    except ChecksCouldNotRun as exc:
        return _all_errored(dataset, exc)
    finally:
        engine.close()
