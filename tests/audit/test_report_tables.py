"""The audit report as tables for Superset: the dashboard's SQL aggregates, the PostgreSQL
views of migration 0015, and the Parquet export, which must all tell the same story."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from steward.app import Steward
from steward.audit import dashboard
from steward.audit.dashboard import DashboardFilter
from steward.audit.log import AuditFilter, record
from steward.audit.models import Resource
from steward.audit.report_export import export_report
from steward.audit.rollup import refresh
from steward.config import Settings
from steward.identity.models import Principal
from tests.audit.conftest import ANA, BOB, append, tamper

CUSTOMERS = "lake.crm.customers"
ORDERS = "lake.crm.orders"
PII = {(CUSTOMERS, "email")}
EARLIER = datetime(2026, 11, 1, 9, 30)


def _queries(steward: Steward) -> None:
    """Ana: 2 masked reads of emails, 1 filtered read of orders; Bob: 1 allowed read of
    customers' ids and 1 denied query of orders, on an earlier day; one sign-in."""
    plan: list[tuple[Principal, str, str, tuple[str, ...], str]] = [
        (ANA, "query", CUSTOMERS, ("id", "email"), "masked"),
        (ANA, "query", CUSTOMERS, ("email",), "masked"),
        (ANA, "query", ORDERS, ("amount",), "filtered"),
        (BOB, "query", CUSTOMERS, ("id",), "allowed"),
        (BOB, "query", ORDERS, (), "denied"),
        (BOB, "web.sign_in", "", (), "allowed"),
    ]
    for actor, action, dataset, columns, decision in plan:
        with steward.store.write() as conn:
            record(
                conn,
                actor=actor,
                action=action,
                resource=Resource(dataset or None, columns),
                decision=decision,
                policy="row_filters[0]" if decision == "filtered" else None,
                details={"reason": "nothing grants select"} if decision == "denied" else {},
            )
    tamper(steward, "UPDATE audit_records SET recorded_at = :t WHERE actor_user = 'bob'", t=EARLIER)


def test_the_dashboard_counts_per_day_pii_denials_and_top_datasets(steward: Steward) -> None:
    _queries(steward)
    assert refresh(steward.store) == 6
    everyone = DashboardFilter()
    with steward.store.read() as conn:
        daily = dashboard.queries_per_day(conn, everyone)
        totals = dashboard.totals(conn, everyone)
        pii = dashboard.pii_reads(conn, everyone, PII)
        denials = dashboard.denials(conn, everyone)
        top = dashboard.top_datasets(conn, everyone)
        only_orders = dashboard.totals(conn, DashboardFilter(dataset=ORDERS))
        bob_days = dashboard.queries_per_day(conn, DashboardFilter(user="bob"))
        window = dashboard.totals(conn, DashboardFilter(since=date(2026, 11, 2)))
        rows = list(dashboard.record_rows(conn, AuditFilter(user="bob")))
    today = datetime.now(UTC).date().isoformat()  # records are stamped in UTC
    assert [(d.day, d.user, d.queries, d.denied) for d in daily] == [
        ("2026-11-01", "bob", 2, 1),
        (today, "ana", 3, 0),
    ]
    assert totals == dashboard.Totals(queries=5, users=2, allowed=1, masked=2, filtered=1, denied=1)
    assert [(p.user, p.dataset, p.column, p.queries, p.masked) for p in pii] == [
        ("ana", CUSTOMERS, "email", 2, 2)
    ]
    assert [(d.user, d.dataset, d.reason) for d in denials] == [
        ("bob", ORDERS, "nothing grants select")
    ]
    assert [(t.dataset, t.queries, t.users, t.denied) for t in top] == [
        (CUSTOMERS, 3, 2, 0),
        (ORDERS, 2, 2, 1),
    ]
    assert (only_orders.queries, only_orders.filtered, only_orders.denied) == (2, 1, 1)
    assert [d.day for d in bob_days] == ["2026-11-01"]
    assert window.queries == 3
    # The export rows: every action, oldest first, columns joined.
    assert [(r[3], r[4], r[5], r[6]) for r in rows] == [
        ("query", CUSTOMERS, "id", "allowed"),
        ("query", ORDERS, "", "denied"),
        ("web.sign_in", None, "", "allowed"),
    ]


def _parquet(path: Path) -> list[dict[str, object]]:
    import pyarrow.parquet as pq

    rows: list[dict[str, object]] = pq.read_table(path).to_pylist()
    return rows


def test_parquet_export_reads_back_as_the_report(steward: Steward, tmp_path: Path) -> None:
    _queries(steward)
    refresh(steward.store)
    daily = export_report(steward.store, "daily", tmp_path / "daily.parquet", pii_columns=PII)
    access = export_report(steward.store, "access", tmp_path / "access.parquet", pii_columns=PII)
    with steward.store.read() as conn:
        expected_daily = dashboard.queries_per_day(conn, DashboardFilter())
    read_daily = _parquet(daily.path)
    assert daily.rows == len(read_daily) == 2
    assert [(str(r["day"]), r["user"], r["queries"], r["denied"]) for r in read_daily] == [
        (d.day, d.user, d.queries, d.denied) for d in expected_daily
    ]
    assert read_daily[0]["day"] == date(2026, 11, 1)
    assert (read_daily[1]["masked"], read_daily[1]["filtered"]) == (2, 1)
    read_access = _parquet(access.path)
    assert access.rows == len(read_access)
    # One row per column read; a record reading no column is one row without one.
    seen = [(r["user"], r["action"], r["dataset"], r["column"], r["pii"]) for r in read_access]
    assert seen == [
        ("ana", "query", CUSTOMERS, "id", False),
        ("ana", "query", CUSTOMERS, "email", True),
        ("ana", "query", CUSTOMERS, "email", True),
        ("ana", "query", ORDERS, "amount", False),
        ("bob", "query", CUSTOMERS, "id", False),
        ("bob", "query", ORDERS, None, False),
        ("bob", "web.sign_in", None, None, False),
    ]
    bob_day = {r["day"] for r in read_access if r["user"] == "bob"}
    assert bob_day == {date(2026, 11, 1)}

    if steward.store.engine.dialect.name != "postgresql":
        with steward.store.read() as conn:
            views = sa.inspect(conn).get_view_names()
        assert "steward_audit_daily" not in views
        return
    # On PostgreSQL the views of migration 0015 hold the same tables.
    with steward.store.read() as conn:
        view_daily = conn.execute(
            sa.text(
                'SELECT day, "user", queries, allowed, masked, filtered, denied'
                ' FROM steward_audit_daily ORDER BY day, "user"'
            )
        ).all()
        view_access = conn.execute(
            sa.text(
                'SELECT seq, "user", action, dataset, "column", decision FROM steward_audit_access'
                ' ORDER BY seq, "column" NULLS LAST'
            )
        ).all()
    assert [tuple(r) for r in view_daily] == [
        tuple(r[k] for k in ("day", "user", "queries", "allowed", "masked", "filtered", "denied"))
        for r in read_daily
    ]
    by_record = sorted(
        (r["seq"], r["user"], r["action"], r["dataset"], r["column"], r["decision"])
        for r in read_access
        if r["column"] is not None
    )
    assert sorted(tuple(r) for r in view_access if r[4] is not None) == by_record
    assert len(view_access) == len(read_access)


@pytest.mark.slow  # the CLI in a subprocess, building its own store and lake
def test_cli_export_report_writes_parquet(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
    env["STEWARD_HOME"] = str(home)
    local = Steward(Settings(home=home))
    try:
        local.upgrade()
        _queries(local)
    finally:
        local.close()
    out = tmp_path / "daily.parquet"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "steward.cli",
            "audit",
            "export-report",
            str(out),
            "--table",
            "daily",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "daily: 2 rows" in done.stderr
    assert [r["queries"] for r in _parquet(out)] == [2, 3]
    wrong = subprocess.run(
        [sys.executable, "-m", "steward.cli", "audit", "export-report", str(out), "--table", "x"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert wrong.returncode != 0
    assert "table" in wrong.stderr


def test_refresh_adds_only_the_records_written_since(steward: Steward) -> None:
    _queries(steward)
    assert refresh(steward.store) == 6
    assert refresh(steward.store) == 6  # nothing new: nothing counted twice
    with steward.store.write() as conn:
        record(
            conn,
            actor=ANA,
            action="query",
            resource=Resource(CUSTOMERS, ("email",)),
            decision="masked",
        )
    assert refresh(steward.store) == 7
    with steward.store.read() as conn:
        ana = dashboard.totals(conn, DashboardFilter(user="ana"))
        pii = dashboard.pii_reads(conn, DashboardFilter(user="ana"), PII)
        top = dashboard.top_datasets(conn, DashboardFilter(dataset=CUSTOMERS))
    assert (ana.queries, ana.masked) == (4, 3)
    assert [(p.queries, p.masked) for p in pii] == [(3, 3)]
    assert [(t.queries, t.users) for t in top] == [(4, 2)]


def test_records_archived_by_retention_stay_counted(steward: Steward) -> None:
    from datetime import timedelta

    from steward.audit.checkpoints import Signer
    from steward.audit.log import now
    from steward.audit.retention import archive_before

    append(steward, 5)  # ana's queries of the customers, masked and allowed by turns
    home = steward.settings.home
    # No refresh beforehand: archiving rolls up what it is about to move.
    segment = archive_before(
        steward.store, Signer.load(home), home, before=now() + timedelta(seconds=1)
    )
    assert segment is not None
    with steward.store.read() as conn:
        left = conn.execute(sa.select(sa.func.count()).select_from(sa.table("audit_records")))
        assert left.scalar() == 0
        totals = dashboard.totals(conn, DashboardFilter())
    assert (totals.queries, totals.users, totals.masked) == (5, 1, 2)
