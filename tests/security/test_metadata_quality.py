"""Check results show their values only to callers who may read the checked columns clear."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient

from steward.app import Steward
from steward.store.schema import quality_results
from tests.security.conftest import SALARY_MAX, SSNS, bearer

SHOWN = {"check", "column", "kind", "severity", "status", "failures", "observed", "message"}


def _quality(http: TestClient, token: str) -> dict[str, dict[str, object]]:
    answer = http.get("/api/v1/datasets/lake.crm.customers", headers=bearer(token))
    assert answer.status_code == 200, answer.text
    return {str(q["check"]): q for q in answer.json()["quality"]}


def test_admin_and_clear_analyst_see_observed_values(
    http: TestClient, tokens: dict[str, str]
) -> None:
    for role in ("admin", "analyst"):
        found = _quality(http, tokens[role])
        assert found["max(salary)"]["observed"] == SALARY_MAX, role
        assert SALARY_MAX in str(found["max(salary)"]["message"])
        assert found["row_count"]["observed"] == "6"
        assert all(set(q) >= SHOWN for q in found.values())


def test_masked_or_denied_columns_keep_their_check_values_withheld(
    http: TestClient, tokens: dict[str, str]
) -> None:
    answer = http.get("/api/v1/datasets/lake.crm.customers", headers=bearer(tokens["masked"]))
    assert SALARY_MAX not in answer.text
    found = {q["check"]: q for q in answer.json()["quality"]}
    withheld = {"max(salary)", "accepted_values(email)", "row_count", "sql"}
    for name in withheld:
        # The check's name, status, time and who ran it; a note instead of values and message.
        assert set(found[name]) == {"check", "status", "ranAt", "source", "withheld"}, name
        assert found[name]["source"] == "steward"
        assert "withheld" in str(found[name]["withheld"])
    assert found["max(salary)"]["status"] == "fail"
    # region is clear to them: its values show.
    assert found["accepted_values(region)"]["failures"] == 1
    assert found["accepted_values(region)"]["message"]


def test_engine_error_text_is_never_stored(steward: Steward, tokens: dict[str, str]) -> None:
    with steward.store.read() as conn:
        rows = conn.execute(sa.select(quality_results)).all()
    sql_check = next(r for r in rows if r.check_name == "sql")
    assert sql_check.status == "error"
    # DuckDB's own text quotes the SSN it could not cast; the stored message names the
    # error class and the check instead.
    wanted = "check sql: the engine could not run the query (ConversionException)"
    assert sql_check.message == wanted
    for row in rows:
        assert not any(ssn in f"{row.message} {row.observed}" for ssn in SSNS)


def test_steward_refusals_keep_their_words(steward: Steward, tokens: dict[str, str]) -> None:
    from steward.quality.load import parse_checks
    from steward.quality.run import run_dataset

    text = """\
version: 1
datasets:
  - name: lake.crm.nowhere
    checks:
      - row_count: {min: 1}
"""
    results = run_dataset(steward, parse_checks(text).datasets[0])
    assert results[0].status == "error"
    assert "lake.crm.nowhere" in results[0].message
    assert "engine could not run" not in results[0].message
