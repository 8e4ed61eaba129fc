"""CSV exports are safe to open in a spreadsheet: no cell starts a formula (OWASP)."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from steward.app import Steward
from steward.audit.log import record
from steward.audit.models import Resource
from steward.audit.reports import Report, csv_cell
from steward.identity.models import Principal
from tests.cli_run import steward_cli
from tests.security.conftest import bearer

FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\ry"]


def test_cells_starting_a_formula_get_a_quote_and_nothing_else_changes() -> None:
    report = Report("t", ("=title", "n"), [(text, -5) for text in FORMULAS] + [("plain", 1)])
    rows = list(csv.reader(io.StringIO(report.to_csv(), newline="")))
    assert rows[0] == ["'=title", "n"]
    assert [r[0] for r in rows[1:]] == [f"'{text}" for text in FORMULAS] + ["plain"]
    # Numbers stay numbers; only text a spreadsheet would run is changed.
    assert {r[1] for r in rows[1:]} == {"-5", "1"}
    assert csv_cell(-5) == -5


def test_a_carriage_return_inside_a_cell_cannot_start_a_row() -> None:
    report = Report("t", ("reason",), [('fine\r=HYPERLINK("http://evil.example")',)])
    rows = list(csv.reader(io.StringIO(report.to_csv(), newline="")))
    assert rows == [["reason"], ['fine\r=HYPERLINK("http://evil.example")']]


def _audit_hostile_names(steward: Steward) -> None:
    """Records as an OIDC subject or a Trino user may name them: any text at all."""
    with steward.store.write() as conn:
        for user, dataset, reason in zip(FORMULAS, FORMULAS[1:], FORMULAS[2:], strict=False):
            record(
                conn,
                actor=Principal(user=user),
                action="query",
                resource=Resource(dataset),
                decision="denied",
                details={"reason": reason},
            )


def test_audit_report_csv_from_the_api_neutralises_hostile_cells(
    steward: Steward, http: TestClient, tokens: dict[str, str]
) -> None:
    _audit_hostile_names(steward)
    answer = http.get(
        "/api/v1/audit/reports/denied", params={"format": "csv"}, headers=bearer(tokens["admin"])
    )
    assert answer.status_code == 200, answer.text
    rows = list(csv.DictReader(io.StringIO(answer.text, newline="")))
    users = {r["user"] for r in rows}
    assert {f"'{user}" for user in FORMULAS[:4]} <= users
    cells = [cell for row in rows for cell in row.values() if cell]
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)


@pytest.mark.slow
def test_audit_log_csv_from_the_cli_neutralises_hostile_cells(steward: Steward) -> None:
    _audit_hostile_names(steward)
    steward.close()
    done = steward_cli(steward.settings.home, "audit", "log", "--format", "csv")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert {f"'{user}" for user in FORMULAS[:4]} <= {r["user"] for r in rows}
    assert {f"'{name}" for name in FORMULAS[1:5]} <= {r["dataset"] for r in rows}
    cells = [cell for row in rows for cell in row.values() if cell]
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)
