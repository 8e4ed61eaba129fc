"""SQL lineage, case by case: `fixtures/lineage.sql` holds each statement and its lineage.

A block starts with `-- title: ...`, then header lines `-- dialect: NAME`, optionally
`-- schema: {json}` and `-- defaults: CATALOG.SCHEMA` (either may be empty), the SQL,
a line `-- expected:` and the lineage as `render` prints it:

    KIND inputs -> outputs
      out[column] <- table[column]: TYPE SUBTYPE[, ...]       one line per upstream
      rows <- table[column]: INDIRECT SUBTYPE                 the dataset-level inputs
      reads table: columns
      unresolved out[column]: reason
    script inputs -> outputs                                  for several statements,
      out[column] <- table[column]: TYPE SUBTYPE              through the tables it wrote

Run with `STEWARD_LINEAGE_GOLDEN=update` to rewrite the expected parts from the engine
(then read the diff: the file is the specification).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from steward.lineage.sql import ScriptLineage, analyze

FIXTURE = Path(__file__).parent / "fixtures" / "lineage.sql"


def blocks() -> list[tuple[str, dict[str, str], str, str]]:
    text = FIXTURE.read_text()
    found = []
    for chunk in re.split(r"^-- title: ", text, flags=re.M)[1:]:
        title, rest = chunk.split("\n", 1)
        given, expected = rest.split("-- expected:\n", 1)
        headers = dict(re.findall(r"^-- (dialect|schema|defaults): ?(.*)$", given, flags=re.M))
        sql = "\n".join(line for line in given.splitlines() if not line.startswith("-- "))
        found.append((title.strip(), headers, sql.strip(), expected.strip()))
    return found


def lineage_of(headers: dict[str, str], sql: str) -> ScriptLineage:
    catalog, _, schema = headers.get("defaults", "").rpartition(".")
    return analyze(
        sql,
        dialect=headers.get("dialect") or None,
        schema=json.loads(headers["schema"]) if headers.get("schema") else None,
        default_catalog=catalog or None,
        default_schema=schema or None,
    )


def render(result: ScriptLineage) -> str:
    lines = []
    for statement in result.statements:
        ins = ", ".join(statement.inputs) or "-"
        outs = ", ".join(statement.outputs) or "-"
        lines.append(f"{statement.kind} {ins} -> {outs}")
        for column in statement.columns:
            target = f"{column.table or ''}[{column.column}]"
            if not column.upstreams:
                lines.append(f"  {target} <- nothing")
            for up in column.upstreams:
                lines.append(f"  {target} <- {up.table}[{up.column}]: {_how(up.transformations)}")
        for up in statement.dataset:
            lines.append(f"  rows <- {up.table}[{up.column}]: {_how(up.transformations)}")
        for table, columns in statement.reads.items():
            lines.append(f"  reads {table}: {', '.join(columns)}")
        for gap in statement.unresolved:
            lines.append(f"  unresolved {gap.table or ''}[{gap.column or ''}]: {gap.reason}")
    if len(result.statements) > 1:
        ins, outs = ", ".join(result.inputs) or "-", ", ".join(result.outputs) or "-"
        lines.append(f"script {ins} -> {outs}")
        for column in result.columns:
            for up in column.upstreams:
                how = _how(up.transformations)
                lines.append(f"  {column.table}[{column.column}] <- {up.table}[{up.column}]: {how}")
    return "\n".join(lines)


def _how(transformations: tuple[object, ...]) -> str:
    return ", ".join(
        f"{t.type} {t.subtype}" + (" masking" if t.masking else "")  # type: ignore[attr-defined]
        for t in transformations
    )


CASES = blocks()


@pytest.mark.parametrize(
    ("headers", "sql", "expected"),
    [pytest.param(h, s, e, id=t) for t, h, s, e in CASES],
)
def test_lineage_matches_the_golden_file(headers: dict[str, str], sql: str, expected: str) -> None:
    assert render(lineage_of(headers, sql)) == expected


def test_every_block_has_a_distinct_title() -> None:
    titles = [title for title, *_ in CASES]
    assert len(titles) == len(set(titles))
    assert len(titles) > 30


def update() -> None:  # pragma: no cover - run by hand
    parts = []
    for title, headers, sql, _ in CASES:
        head = "".join(f"-- {key}: {value}\n" for key, value in headers.items())
        parts.append(
            f"-- title: {title}\n{head}{sql}\n-- expected:\n{render(lineage_of(headers, sql))}\n"
        )
    FIXTURE.write_text("\n".join(parts))


if os.environ.get("STEWARD_LINEAGE_GOLDEN") == "update":  # pragma: no cover
    update()
