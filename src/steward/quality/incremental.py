"""The gate of a branch that only appends: check what it added, not the whole table.

When every snapshot between `main` and the branch is an append (same schema, no file
removed), the branch is main's rows plus its appended data files. Each check then runs
on the appended files alone and its numbers are combined with main's stored numbers
(`quality_states`, kept by the gate that moved main there):

- counts, sums, minima and maxima add up: `not_null`, `accepted_values`, `regex`,
  `missing_percent`, `min`, `max`, `sum`, `mean` (a sum and a count) and a `row_count`
  with `where`;
- `unique` and `duplicate_count` count the appended rows' duplicates among themselves,
  plus the distinct appended keys main already has (a semi-join of the appended rows
  against main's: DuckDB builds on the small side and prunes main's row groups);
- `relationships` looks up the appended rows' keys in the referenced table, when that
  table is the one main's numbers were measured against (same snapshot);
- `row_count` reads the branch snapshot's summary (`total-records`), `freshness` the
  appended files' column upper bounds, where the files have them.

Everything else runs in full on the branch snapshot, and says why: a `sql` check, a
check main has no numbers for (the first gate, a changed check), a `relationships`
check whose referenced table changed or is the table itself, and every check when the
branch overwrote, deleted or changed the schema. Both ways give the same numbers, so
the verdict is the same; the test suite holds the two side by side.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlglot import exp

from steward.engines.base import ParquetTable
from steward.engines.iceberg_files import plan_iceberg
from steward.engines.tables import as_iceberg
from steward.errors import ChecksCouldNotRun, InvalidInput
from steward.quality.compile import (
    SAMPLE_ROWS,
    TableOf,
    first_values,
    sample_query,
    samples_in_aggregates,
    where_of,
)
from steward.quality.models import Check, CheckResult, Dataset
from steward.quality.run import (
    CheckTables,
    Measured,
    Numbers,
    conclude,
    error_message,
    evaluate,
    measure,
    open_check_tables,
    tables_needed,
)
from steward.store.schema import quality_states

if TYPE_CHECKING:
    from steward.app import Steward
    from steward.engines.base import TableData
    from steward.store import Store

# Under these names the gate's engine also sees main's rows and the appended rows alone.
MAIN = "main"
APPENDED = "appended"

_ADDITIVE = frozenset(
    {"not_null", "accepted_values", "regex", "missing_percent", "sum", "mean", "row_count"}
)
_DISTINCT = frozenset({"unique", "duplicate_count"})


@dataclass(frozen=True)
class Increment:
    """What a branch adds to main: the data files its append snapshots added, nothing removed."""

    main_snapshot: int
    branch_snapshot: int
    main: ParquetTable
    appended: ParquetTable
    appended_records: int
    total_records: int | None
    upper_bounds: tuple[Mapping[int, bytes] | None, ...]  # per appended file, by field id
    field_types: Mapping[str, tuple[int, Any]]  # column -> (field id, Iceberg type)


@dataclass
class Gate:
    """A gate's results, how each check ran, and the numbers kept for the branch snapshot."""

    results: list[CheckResult]
    incremental: list[str] = field(default_factory=list)
    metadata: list[str] = field(default_factory=list)  # `schema` checks: read, not counted
    full: dict[str, str] = field(default_factory=dict)  # check name -> why it ran in full
    appended_files: int = 0
    appended_records: int = 0
    numbers: Numbers = field(default_factory=dict)  # the branch snapshot's, per check
    references: dict[str, int | None] = field(default_factory=dict)  # snapshots read

    @property
    def summary(self) -> str:
        """One line for people: which checks ran how."""
        parts = []
        if self.incremental:
            parts.append(
                f"{len(self.incremental)} checks incremental on {self.appended_files}"
                f" appended files ({self.appended_records:,} rows)"
            )
        if self.metadata:
            parts.append(f"{len(self.metadata)} from metadata")
        reasons: dict[str, int] = {}
        for why in self.full.values():
            reasons[why] = reasons.get(why, 0) + 1
        for why, count in reasons.items():
            parts.append(f"{count} in full ({why})")
        return "; ".join(parts) or "no checks"


def find_increment(
    table: Any,
    *,
    name: str,
    main_snapshot: int | None,
    branch_snapshot: int,
    branch: tuple[ParquetTable, list[Any]],
) -> Increment | str:
    """What the branch appended to main, or why it is not an append-only branch.

    `branch` is the branch snapshot's planned files and scan tasks (`plan_iceberg_tasks`).
    Raises InvalidInput when main's current snapshot is not in the branch's history:
    moving main there would drop main's newer commits.
    """

    chain: list[Any] = []
    snapshot = table.snapshot_by_id(branch_snapshot)
    while snapshot is not None and snapshot.snapshot_id != main_snapshot:
        chain.append(snapshot)
        parent = snapshot.parent_snapshot_id
        snapshot = table.snapshot_by_id(parent) if parent is not None else None
    if main_snapshot is not None and snapshot is None:
        raise InvalidInput(
            f"branch: {name}'s branch does not start from main's current snapshot"
            f" {main_snapshot} (main moved on since it was made); publishing it would drop"
            " main's newer data: write the branch again from main"
        )
    if main_snapshot is None:
        return "main has no snapshot yet"
    if not chain:
        return "the branch adds nothing"
    main = table.snapshot_by_id(main_snapshot)
    for step in reversed(chain):
        operation = getattr(step.summary.operation, "value", str(step.summary.operation))
        if operation != "append":
            return f"the branch's snapshot {step.snapshot_id} is an {operation}, not an append"
        if step.schema_id != main.schema_id:
            return "the branch changed the schema"
    main_data = plan_iceberg(table, name=name, snapshot_id=main_snapshot)
    branch_data, branch_tasks = branch
    kept = set(main_data.files)
    if not kept <= set(branch_data.files):
        return "the branch removed data files"
    new = [(path, task) for path, task in zip(branch_data.files, branch_tasks, strict=True)]
    new = [(path, task) for path, task in new if path not in kept]
    added = {path for path, _ in new}
    appended = replace(
        branch_data,
        files=tuple(path for path, _ in new),
        named=tuple(f for f in branch_data.named if f.path in added),
    )
    schema = table.schema()
    total = chain[0].summary.get("total-records") if chain[0].summary else None
    return Increment(
        main_snapshot=main_snapshot,
        branch_snapshot=branch_snapshot,
        main=main_data,
        appended=appended,
        appended_records=sum(int(task.file.record_count) for _, task in new),
        total_records=int(total) if total is not None else None,
        upper_bounds=tuple(task.file.upper_bounds for _, task in new),
        field_types={f.name: (f.field_id, f.field_type) for f in schema.fields},
    )


def check_key(check: Check) -> str:
    """The check's definition hashed: what it measures, not what it is called or held to."""
    definition = [check.kind, check.column, dict(check.args), check.where]
    text = json.dumps(definition, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def gate(
    steward: Steward,
    checks: Dataset,
    *,
    branch_data: TableData,
    increment: Increment | str,
    now: datetime | None = None,
) -> Gate:
    """Run `checks` for the branch: incrementally where main's numbers allow, else in full."""
    now = now or datetime.now(UTC)
    parents = _parents(steward, checks)
    stored = (
        _load(steward.store, checks.name, increment.main_snapshot)
        if isinstance(increment, Increment)
        else {}
    )
    full: dict[str, str] = {}
    for check in checks.checks:
        why = _why_full(check, checks.name, increment, stored, parents)
        if why is not None:
            full[check.name] = why
    overrides: dict[str, TableData] = {checks.name: branch_data}
    overrides.update({name: data for name, (data, _) in parents.items()})
    names = tables_needed(checks)
    if isinstance(increment, Increment):
        overrides.update({MAIN: increment.main, APPENDED: increment.appended})
        names += [MAIN, APPENDED]
    engine = open_check_tables(steward, names, overrides=overrides)
    try:
        results: dict[str, CheckResult] = {}
        numbers: Numbers = {}
        in_full = Dataset(checks.name, tuple(c for c in checks.checks if c.name in full))
        if in_full.checks:
            done, measured = evaluate(engine, in_full, now=now)
            for result in done:
                results[result.name] = _said(result, f"full: {full[result.name]}")
            numbers.update(measured)
        in_part = Dataset(checks.name, tuple(c for c in checks.checks if c.name not in full))
        if in_part.checks and isinstance(increment, Increment):
            done, measured = _incremental(engine, in_part, increment, stored, now=now)
            results.update({r.name: r for r in done})
            numbers.update(measured)
    finally:
        engine.close()
    outcome = Gate(
        results=[results[c.name] for c in checks.checks],
        full=full,
        numbers=numbers,
        references={name: snapshot for name, (_, snapshot) in parents.items()},
    )
    outcome.incremental = [c.name for c in in_part.checks if c.kind != "schema"]
    outcome.metadata = [c.name for c in in_part.checks if c.kind == "schema"]
    if isinstance(increment, Increment):
        outcome.appended_files = len(increment.appended.files)
        outcome.appended_records = increment.appended_records
    return outcome


def _said(result: CheckResult, how: str) -> CheckResult:
    return replace(result, how=how)


def run_current(steward: Steward, checks: Dataset) -> list[CheckResult] | None:
    """Run `checks` on an Iceberg table's current snapshot and keep its numbers.

    None when the dataset is not an Iceberg table (it has no snapshots to key them by).
    """
    current = _current(steward, checks.name)
    if current is None:
        return None
    data, snapshot = current
    parents = _parents(steward, checks)
    overrides: dict[str, TableData] = {checks.name: data}
    overrides.update({name: found for name, (found, _) in parents.items()})
    engine = open_check_tables(steward, tables_needed(checks), overrides=overrides)
    try:
        results, numbers = evaluate(engine, checks)
    finally:
        engine.close()
    references = {name: known for name, (_, known) in parents.items()}
    keep(steward.store, checks, snapshot, Gate(results, numbers=numbers, references=references))
    return results


def _why_full(
    check: Check,
    dataset: str,
    increment: Increment | str,
    stored: Mapping[str, tuple[list[Any], int | None]],
    parents: Mapping[str, tuple[TableData, int | None]],
) -> str | None:
    """Why `check` cannot run on the appended files alone; None when it can."""
    if isinstance(increment, str):
        return increment
    if check.kind == "schema":
        return None
    if check.kind == "sql":
        return "a sql check"
    if check.kind == "row_count" and check.where is None and increment.total_records is not None:
        return None
    if check.kind == "relationships":
        target = str(check.args["to"])
        if target == dataset:
            return "it references its own table"
        parent_snapshot = parents[target][1]
        if parent_snapshot is None:
            return f"{target} has no snapshots to compare"
        if check_key(check) in stored and stored[check_key(check)][1] != parent_snapshot:
            return f"{target} changed since main's numbers"
    if check_key(check) not in stored:
        return f"no numbers stored for main's snapshot {increment.main_snapshot}"
    return None


def _parents(steward: Steward, checks: Dataset) -> dict[str, tuple[TableData, int | None]]:
    """The tables `relationships` checks read, each at a known snapshot where it has one."""
    out: dict[str, tuple[TableData, int | None]] = {}
    for check in checks.checks:
        target = str(check.args.get("to") or "")
        if check.kind != "relationships" or target == checks.name or target in out:
            continue
        out[target] = _current(steward, target) or (steward.tables.plan(target), None)
    return out


def _current(steward: Steward, name: str) -> tuple[TableData, int] | None:
    """An Iceberg table's current snapshot's files and id; None for other tables."""
    from steward.errors import StewardError

    source_name, _, rest = name.partition(".")
    try:
        opened = steward.source(source_name)
    except StewardError:
        return None
    try:
        source = as_iceberg(opened)
        if source is None:
            return None
        namespace, _, short = rest.rpartition(".")
        try:
            table = source.catalog.load_table((*namespace.split("."), short))
        except Exception:
            return None
        current = table.current_snapshot()
        if current is None:
            return None
        snapshot = int(current.snapshot_id)
        return plan_iceberg(table, name=name, snapshot_id=snapshot), snapshot
    finally:
        opened.close()


def _incremental(
    engine: CheckTables,
    checks: Dataset,
    increment: Increment,
    stored: Mapping[str, tuple[list[Any], int | None]],
    *,
    now: datetime,
) -> tuple[list[CheckResult], Numbers]:
    """The checks on the appended rows, combined with main's numbers."""
    name = checks.name

    def appended(dataset: str) -> exp.Table:
        return engine.table(APPENDED if dataset == name else dataset)

    how: dict[str, str] = {}
    numbers: Numbers = {}
    scanned: list[Check] = []
    for check in checks.checks:
        if check.kind == "schema":
            continue
        if check.kind == "row_count" and check.where is None:
            numbers[check.name] = [increment.total_records]
            how[check.name] = "incremental: snapshot summary"
            continue
        newest = _newest_bound(check, increment)
        if newest is not None:
            numbers[check.name] = [_larger(stored[check_key(check)][0][0], newest)]
            how[check.name] = "incremental: appended files' column bounds + main's numbers"
            continue
        scanned.append(check)
    scan = Dataset(name, tuple(scanned))
    measured = measure(engine, scan, table_of=appended) if scanned else Measured()
    distinct = [c for c in scanned if c.kind in _DISTINCT]
    overlaps = _overlaps(engine, distinct, measured.errors)
    for check in scanned:
        if check.name in measured.errors:
            continue
        main = stored[check_key(check)][0]
        found = measured.numbers[check.name]
        overlap = overlaps[check.name][0] if check.name in overlaps else None
        numbers[check.name] = combine(check, main, found, overlap)
        how[check.name] = (
            "incremental: appended rows joined to main's"
            if check.kind in _DISTINCT
            else "incremental: anti-join of appended rows"
            if check.kind == "relationships"
            else "incremental: scan of appended rows + main's numbers"
        )
    repeated = {}  # sampled below: appended rows whose key main has, or that repeat
    for check in distinct:
        again = [_key_of(row) for row in measured.samples.get(check.name, [])]
        repeated[check.name] = overlaps.get(check.name, (0, []))[1] + again
        measured.samples[check.name] = []
    results = conclude(
        engine, checks, measured, now=now, how=how, numbers=numbers, table_of=appended
    )
    for result in results:
        if result.status in ("fail", "warn") and result.kind in _DISTINCT:
            check = next(c for c in checks.checks if c.name == result.name)
            keys = repeated[check.name]
            if not samples_in_aggregates(engine.dialect):
                keys = _repeated_keys(engine, check, appended)
            result.samples.extend(_duplicate_samples(engine, check, keys))
    return results, numbers


def combine(
    check: Check, main: Sequence[Any], new: Sequence[Any], overlap: int | None
) -> list[Any]:
    """Main's numbers and the appended rows' numbers as the whole branch's numbers."""
    kind = check.kind
    if kind in _DISTINCT:
        assert overlap is not None
        rows = int(main[0] or 0) + int(new[0] or 0)
        distinct = int(main[1] or 0) + int(new[1] or 0) - overlap
        return [rows, distinct]
    if kind in ("min", "max", "freshness"):
        pick = min if kind == "min" else max
        values = [v for v in (main[0], new[0]) if v is not None]
        return [pick(values) if values else None]
    if kind in _ADDITIVE or kind == "relationships":
        return [_add(a, b) for a, b in zip(main, new, strict=True)]
    raise ValueError(f"{check.name}: {kind} does not combine")  # pragma: no cover


def _add(a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    return a + b


def _larger(a: Any, b: Any) -> Any:
    if a is None:
        return b
    return max(a, b)


def _key_columns(check: Check) -> list[str]:
    return [str(c) for c in (check.args.get("columns") or [check.column])]


def _overlaps(
    engine: CheckTables, checks: list[Check], errors: dict[str, str]
) -> dict[str, tuple[int, list[dict[str, Any]]]]:
    """Per check, how many distinct appended keys main already has, and (DuckDB) a few.

    Other engines count them only; `_repeated_keys` looks a few up if the check fails.
    """
    out: dict[str, tuple[int, list[dict[str, Any]]]] = {}
    sampled = samples_in_aggregates(engine.dialect)
    for check in checks:
        try:
            query = _overlap(engine, check, sampled=sampled)
            _, rows = engine.execute(query.sql(engine.dialect))
        except ChecksCouldNotRun as exc:
            errors[check.name] = error_message(exc, check.name)
            continue
        count, *keys = rows[0]
        out[check.name] = (int(count), list(keys[0] or []) if keys else [])
    return out


def _keys(engine: CheckTables, internal: str, check: Check) -> exp.Select:
    """The check's key columns of `internal`'s rows that `where` keeps (non-null for unique)."""
    columns = [exp.column(c, quoted=True) for c in _key_columns(check)]
    query = exp.select(*columns).from_(engine.table(internal))
    where = where_of(check)
    if check.kind == "unique":
        query = query.where(exp.not_(columns[0].copy().is_(exp.null())))
    return query.where(where) if where is not None else query


_NEW, _OLD = "n", "m"  # the appended keys and main's, in the overlap queries


def _semi_join(engine: CheckTables, check: Check) -> exp.Select:
    """The appended keys found in main, to select from; NULLs match NULLs, as in a distinct
    count of tuples (`duplicate_count`)."""
    columns = _key_columns(check)
    on = exp.and_(
        *[
            exp.NullSafeEQ(
                this=exp.column(c, table=_NEW, quoted=True),
                expression=exp.column(c, table=_OLD, quoted=True),
            )
            if check.kind == "duplicate_count"
            else exp.EQ(
                this=exp.column(c, table=_NEW, quoted=True),
                expression=exp.column(c, table=_OLD, quoted=True),
            )
            for c in columns
        ]
    )
    return (
        exp.select()
        .from_(_keys(engine, APPENDED, check).subquery(_NEW))
        .join(_keys(engine, MAIN, check).subquery(_OLD), on=on, join_type="semi")
    )


def _overlap(engine: CheckTables, check: Check, *, sampled: bool) -> exp.Select:
    """How many distinct appended keys main has; `sampled`: and a few of them, as
    {column: value} (DuckDB's bounded aggregate over the row, `first_values`)."""
    keys = [exp.column(c, table=_NEW, quoted=True) for c in _key_columns(check)]
    row = keys[0] if len(keys) == 1 else exp.Tuple(expressions=keys)
    query = _semi_join(engine, check).select(exp.Count(this=exp.Distinct(expressions=[row])))
    return query.select(first_values(exp.column(_NEW))) if sampled else query


def _repeated_keys(engine: CheckTables, check: Check, table_of: TableOf) -> list[dict[str, Any]]:
    """A few appended keys main already has, then a few the appended rows repeat.

    For engines whose aggregates cannot bring them back with the counts: two small
    `LIMIT` queries, run only for a check that failed. `table_of` spells the dataset as
    its appended rows.
    """
    columns = [exp.column(c, table=_NEW, quoted=True) for c in _key_columns(check)]
    found_in_main = _semi_join(engine, check).select(*columns).distinct().limit(SAMPLE_ROWS)
    repeated = sample_query(check, table_of=table_of, dialect=engine.dialect)
    keys: list[dict[str, Any]] = []
    for query in (found_in_main, repeated):
        if query is None:
            continue
        try:
            names, rows = engine.execute(query.sql(engine.dialect))
        except ChecksCouldNotRun:
            continue
        keys.extend(_key_of(dict(zip(names, row, strict=True))) for row in rows)
    return keys


def _key_of(row: dict[str, Any]) -> dict[str, Any]:
    """A duplicated key's columns, without the count its grouped query gave it."""
    return {k: v for k, v in row.items() if k != "rows"}


def _duplicate_samples(
    engine: CheckTables, check: Check, keys: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """A few appended rows with the given keys (ones main has, or that repeat)."""
    columns = _key_columns(check)
    matches = [
        exp.and_(
            *[
                exp.NullSafeEQ(this=exp.column(c, quoted=True), expression=exp.convert(key.get(c)))
                for c in columns
            ]
        )
        for key in keys[:SAMPLE_ROWS]
    ]
    if not matches:
        return []
    query = exp.select("*").from_(engine.table(APPENDED)).where(exp.or_(*matches))
    try:
        names, rows = engine.execute(query.limit(SAMPLE_ROWS).sql(engine.dialect))
    except ChecksCouldNotRun:
        return []
    return [dict(zip(names, row, strict=True)) for row in rows]


def _newest_bound(check: Check, increment: Increment) -> Any:
    """The appended files' newest value of a `freshness` column, from their upper bounds.

    None when the check is not a plain freshness check, main has no number for it, or a
    file lacks the bound: then the appended rows are scanned instead.
    """
    if check.kind != "freshness" or check.where is not None:
        return None
    column = str(check.args.get("column") or check.column)
    found = increment.field_types.get(column)
    if found is None or not increment.upper_bounds:
        return None
    field_id, type_ = found
    values = []
    for bounds in increment.upper_bounds:
        raw = (bounds or {}).get(field_id)
        if raw is None:
            return None
        value = _bound(type_, raw)
        if value is None:
            return None
        values.append(value)
    return max(values)


def _bound(type_: Any, raw: bytes) -> Any:
    """An Iceberg timestamp or date bound as DuckDB returns that column's values."""
    from pyiceberg.conversions import from_bytes
    from pyiceberg.types import DateType, TimestampType, TimestamptzType

    epoch = datetime(1970, 1, 1)
    if isinstance(type_, TimestampType):
        return epoch + timedelta(microseconds=int(from_bytes(type_, raw)))
    if isinstance(type_, TimestamptzType):
        return (epoch + timedelta(microseconds=int(from_bytes(type_, raw)))).replace(tzinfo=UTC)
    if isinstance(type_, DateType):
        return date(1970, 1, 1) + timedelta(days=int(from_bytes(type_, raw)))
    return None


# -- stored numbers ---------------------------------------------------------------------------


def _encode(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, (int, float, str)):
        return value
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    if isinstance(value, datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    raise TypeError(f"cannot keep a {type(value).__name__} as a check's number")


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        ((kind, text),) = value.items()
        if kind == "decimal":
            return Decimal(text)
        if kind == "datetime":
            return datetime.fromisoformat(text)
        return date.fromisoformat(text)
    return value


def _load(store: Store, dataset: str, snapshot: int) -> dict[str, tuple[list[Any], int | None]]:
    """Check key -> (numbers, referenced table's snapshot) stored for `snapshot`."""
    with store.read() as conn:
        rows = conn.execute(
            sa.select(
                quality_states.c.check_key,
                quality_states.c.numbers,
                quality_states.c.parent_snapshot_id,
            ).where(quality_states.c.dataset == dataset, quality_states.c.snapshot_id == snapshot)
        ).all()
    return {
        row.check_key: ([_decode(v) for v in json.loads(row.numbers)], row.parent_snapshot_id)
        for row in rows
    }


def keep(store: Store, checks: Dataset, snapshot: int, outcome: Gate) -> None:
    """Keep a gate's numbers as those of main's new snapshot, and no older ones."""
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = []
    for check in checks.checks:
        if check.name not in outcome.numbers or check.kind == "sql":
            continue
        try:
            encoded = json.dumps([_encode(v) for v in outcome.numbers[check.name]])
        except TypeError:
            continue  # a number we cannot keep exactly: that check runs in full next time
        rows.append(
            {
                "dataset": checks.name,
                "snapshot_id": snapshot,
                "check_key": check_key(check),
                "numbers": encoded,
                "parent_snapshot_id": outcome.references.get(str(check.args.get("to") or "")),
                "recorded_at": now,
            }
        )
    with store.write() as conn:
        conn.execute(quality_states.delete().where(quality_states.c.dataset == checks.name))
        if rows:
            conn.execute(quality_states.insert(), rows)
