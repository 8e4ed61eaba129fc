"""An Airflow 3 DAG for tests/e2e/test_airflow.py: load orders from a CSV, then sum them per day.

`load_orders` declares its lineage as Assets (inlets/outlets); `daily_revenue` is SQL the
OpenLineage provider parses. Where the files and tables are comes from the environment.
"""

from __future__ import annotations

import csv
import os

import pendulum
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.providers.postgres.hooks.postgres import PostgresHook
from airflow.sdk import DAG, Asset, task

ORDERS_CSV = os.environ["SHOP_ORDERS_CSV"]
SCHEMA = os.environ["SHOP_SCHEMA"]
# postgres://host:port/database: the Asset URI of the shop database, as the postgres provider
# spells it (`.../schema/table`).
DATABASE = os.environ["SHOP_DATABASE_URI"]

with DAG(
    dag_id="shop_revenue",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
):

    @task(inlets=[Asset(f"file://{ORDERS_CSV}")], outlets=[Asset(f"{DATABASE}/{SCHEMA}/orders")])
    def load_orders() -> None:
        with open(ORDERS_CSV, newline="") as handle:
            rows = [(row["id"], row["order_date"], row["amount"]) for row in csv.DictReader(handle)]
        PostgresHook(postgres_conn_id="shop").insert_rows(
            f"{SCHEMA}.orders", rows, target_fields=["id", "order_date", "amount"]
        )

    daily_revenue = SQLExecuteQueryOperator(
        task_id="daily_revenue",
        conn_id="shop",
        sql=f"""
            INSERT INTO {SCHEMA}.daily_revenue (day, revenue)
            SELECT order_date, sum(amount) FROM {SCHEMA}.orders GROUP BY order_date
        """,
    )

    load_orders() >> daily_revenue
