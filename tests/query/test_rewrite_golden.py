"""The rewrite, case by case: `fixtures/rewrite.sql` holds each input and its expected output.

A block starts with `-- title: ...`; then the input SQL, a line `-- expected:`, and the
rewritten SQL (engine tables shown as `__t0`, `__t1` in order of first reference), or
`-- refused: <text the error contains>`. Run with `STEWARD_REWRITE_GOLDEN=update` to
rewrite the expected outputs after a deliberate change.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import sqlglot

from steward.errors import StewardError
from tests.query.conftest import governed

FIXTURE = Path(__file__).parent / "fixtures" / "rewrite.sql"
CATALOG = {
    "lake.crm.customers": ["id", "name", "email", "ssn", "region", "salary"],
    "lake.crm.orders": ["order_id", "customer_id", "amount"],
}


def blocks() -> list[tuple[str, str, str]]:
    text = FIXTURE.read_text()
    out = []
    for chunk in re.split(r"^-- title: ", text, flags=re.M)[1:]:
        title, _, rest = chunk.partition("\n")
        given, _, expected = re.split(r"^(-- expected:|-- refused:)", rest, maxsplit=1, flags=re.M)
        marker = re.search(r"^(-- expected:|-- refused:)", rest, flags=re.M)
        assert marker is not None, title
        out.append((title.strip(), given.strip(), marker.group(1) + expected.rstrip("\n")))
    return out


def rewritten(sql: str) -> str:
    """`sql` as the production pipeline rewrites it, engine tables shown as `__t0`, ..."""
    try:
        plan = governed(sql, CATALOG)
    except StewardError as exc:
        return f"-- refused: {exc}"
    text = plan.sql
    for i, name in enumerate(plan.tables):
        text = text.replace(plan.internal[name], f"__t{i}")
    pretty = sqlglot.transpile(text, read="duckdb", write="duckdb", pretty=True)[0]
    return f"-- expected:\n{pretty}"


@pytest.mark.parametrize(("title", "given", "expected"), blocks(), ids=[b[0] for b in blocks()])
def test_rewrite_matches_the_golden_file(title: str, given: str, expected: str) -> None:
    actual = rewritten(given)
    if expected.startswith("-- refused:"):
        assert actual.startswith("-- refused:"), actual
        assert expected.removeprefix("-- refused:").strip() in actual
    else:
        assert actual == expected


def update() -> None:  # pragma: no cover - run by hand
    parts = []
    for title, given, expected in blocks():
        actual = rewritten(given)
        keep = expected if expected.startswith("-- refused:") else actual
        parts.append(f"-- title: {title}\n{given}\n{keep}\n")
    FIXTURE.write_text("\n".join(parts))


if os.environ.get("STEWARD_REWRITE_GOLDEN") == "update":  # pragma: no cover
    update()
