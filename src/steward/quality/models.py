"""The shapes of quality checks and their results.

A checks file declares, per dataset, checks by their dbt names (`not_null`, `unique`,
`accepted_values`, `relationships`) and Steward's own (`row_count`, `freshness`,
`regex`, `min`, `max`, `mean`, `sum`, `missing_percent`, `duplicate_count`, `schema`,
`sql`). Each check counts failures; `warn_if` / `error_if` (dbt's thresholds, default
`!=0`) turn the count into a status.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

Severity = Literal["error", "warn"]
Status = Literal["pass", "warn", "fail", "error"]

# kind -> (level, required arguments, optional arguments). `column` checks sit under
# `columns[].checks`; `dataset` checks under a dataset's `checks`; `either` fits both.
KINDS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "not_null": ("column", (), ()),
    "unique": ("column", (), ()),
    "accepted_values": ("column", ("values",), ("quote",)),
    "relationships": ("column", ("to", "field"), ()),
    "regex": ("column", ("pattern",), ()),
    "min": ("column", (), ("min", "max")),
    "max": ("column", (), ("min", "max")),
    "mean": ("column", (), ("min", "max")),
    "sum": ("column", (), ("min", "max")),
    "missing_percent": ("column", (), ("min", "max")),
    "row_count": ("dataset", (), ("min", "max")),
    "freshness": ("either", ("max_age",), ("column",)),
    "duplicate_count": ("either", (), ("columns",)),
    "schema": ("dataset", (), ("columns", "required", "forbidden")),
    "sql": ("dataset", ("sql",), ()),
}
# Checks whose observed value must lie between `min` and `max` (at least one given).
BETWEEN = frozenset({"min", "max", "mean", "sum", "missing_percent", "row_count"})
COMMON = ("severity", "where", "warn_if", "error_if", "name", "config")

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "!=": operator.ne,
    "==": operator.eq,
    "=": operator.eq,
    ">": operator.gt,
    "<": operator.lt,
}
_THRESHOLD = re.compile(r"^\s*(>=|<=|!=|==|=|>|<)\s*(-?\d+(?:\.\d+)?)\s*$")
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_AGE_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass(frozen=True)
class Threshold:
    """A dbt threshold such as `>0` or `>=10`, applied to a failure count."""

    op: str
    value: float

    @classmethod
    def parse(cls, text: str) -> Threshold:
        """`>0`, `>=10`, `!=0` ...; raises ValueError with what is accepted."""
        found = _THRESHOLD.match(str(text))
        if found is None:
            raise ValueError(f"{text!r} is not a threshold such as '>0', '>=10' or '!=0'")
        return cls(found.group(1), float(found.group(2)))

    def matches(self, count: float) -> bool:
        """Whether `count` trips this threshold."""
        return _OPS[self.op](count, self.value)

    def __str__(self) -> str:
        value = int(self.value) if self.value == int(self.value) else self.value
        return f"{self.op}{value}"


def parse_age(text: object) -> timedelta:
    """`24h`, `30m`, `7d`, `90s`, `2w` as a timedelta; raises ValueError otherwise."""
    found = _AGE.match(str(text))
    if found is None:
        raise ValueError(f"{text!r} is not an age such as '24h', '30m', '7d'")
    return timedelta(**{_AGE_UNITS[found.group(2)]: float(found.group(1))})


DEFAULT_THRESHOLD = Threshold("!=", 0.0)


@dataclass(frozen=True)
class Check:
    """One declared check of one dataset (and column, for column checks)."""

    name: str
    kind: str
    dataset: str
    column: str | None
    args: Mapping[str, Any]
    severity: Severity = "error"
    where: str | None = None
    warn_if: Threshold = DEFAULT_THRESHOLD
    error_if: Threshold = DEFAULT_THRESHOLD
    line: int = 0
    file: str = ""

    @property
    def threshold(self) -> str:
        """What the check holds the data to, for people (`!=0`, `between 1 and 10`)."""
        if self.kind in BETWEEN or (self.kind == "duplicate_count" and "max" in self.args):
            low, high = self.args.get("min"), self.args.get("max")
            if low is not None and high is not None:
                return f"between {low} and {high}"
            return f">= {low}" if low is not None else f"<= {high}"
        if self.kind == "freshness":
            return f"age <= {self.args['max_age']}"
        if self.severity == "warn":
            return f"warn_if {self.warn_if}"
        return f"error_if {self.error_if}"


@dataclass(frozen=True)
class Dataset:
    """A dataset's checks, in file order."""

    name: str
    checks: tuple[Check, ...]


@dataclass(frozen=True)
class ChecksFile:
    """A parsed checks file."""

    path: str
    datasets: tuple[Dataset, ...]

    def dataset(self, name: str) -> Dataset | None:
        """The dataset called `name`, if the file declares it."""
        return next((d for d in self.datasets if d.name == name), None)


@dataclass(frozen=True)
class CheckResult:
    """What running one check found.

    `failures` counts failing rows (or 1 when a measured value is out of bounds);
    `observed` is the measured value; `samples` holds a few failing rows, only on failure;
    `how` says how it ran (`aggregate scan`, `anti-join`, `sql`, `metadata`).
    """

    name: str
    dataset: str
    column: str | None
    kind: str
    severity: Severity
    status: Status
    failures: int | None
    observed: Any
    threshold: str
    message: str
    how: str
    samples: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """A JSON-friendly dict of this result."""
        return {
            "name": self.name,
            "dataset": self.dataset,
            "column": self.column,
            "kind": self.kind,
            "severity": self.severity,
            "status": self.status,
            "failures": self.failures,
            "observed": _plain(self.observed),
            "threshold": self.threshold,
            "message": self.message,
            "how": self.how,
            "samples": [{k: _plain(v) for k, v in row.items()} for row in self.samples],
        }


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)
