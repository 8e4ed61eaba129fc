"""The same defective table on a real PostgreSQL source: the same exact counts."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from steward.app import Steward
from steward.config import Settings
from steward.quality.load import parse_checks
from steward.quality.run import open_checks, run_checks
from tests.postgres import find_server
from tests.quality.conftest import EXPECTED, OLD, ORDERS, checks_text


@pytest.fixture
def shop_url() -> Iterator[str]:
    url, server, _ = find_server()
    if url is None:
        pytest.skip("no PostgreSQL server")
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"steward_quality_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    shop = sa.make_url(url).set(database=name).render_as_string(False)
    engine = sa.create_engine(shop)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE customers (id bigint, name text)"))
        conn.execute(sa.text("INSERT INTO customers VALUES (1, 'A'), (2, 'B'), (3, 'C')"))
        conn.execute(
            sa.text(
                "CREATE TABLE orders (order_id bigint, customer_id bigint, status text,"
                " amount double precision, email text, qty text, updated_at timestamp)"
            )
        )
        conn.execute(
            sa.text("INSERT INTO orders VALUES (:o, :c, :s, :a, :e, :q, :u)"),
            [
                {"o": r[0], "c": r[1], "s": r[2], "a": r[3], "e": r[4], "q": r[5], "u": OLD}
                for r in ORDERS
            ],
        )
    engine.dispose()
    yield shop
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
    if server is not None:
        server.stop()


def test_postgres_source_reports_the_same_counts(tmp_path: Path, shop_url: str) -> None:
    settings = Settings(
        home=tmp_path / "home", sources={"pg": {"type": "sqlalchemy", "url": shop_url}}
    )
    steward = Steward(settings)
    steward.upgrade()
    try:
        text = checks_text("pg.public.orders", "pg.public.customers")
        dataset = parse_checks(text).datasets[0]
        engine = open_checks(steward, dataset)
        try:
            results = run_checks(engine, dataset)
        finally:
            engine.close()
    finally:
        steward.close()
    expected = {n.format(customers="pg.public.customers"): v for n, v in EXPECTED.items()}
    assert {r.name: (r.status, r.failures) for r in results} == expected
    scans = [s for s in engine.statements if "information_schema" not in s]
    # One scan, one grouped query per uniqueness key, one anti-join, then the sql check.
    assert "LEFT JOIN" not in scans[0]
    assert ["GROUP BY" in s for s in scans[1:3]] == [True, True]
    assert "LEFT JOIN" in scans[3]
