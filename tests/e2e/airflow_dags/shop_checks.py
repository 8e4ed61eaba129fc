"""An Airflow 3 DAG for tests/e2e/test_airflow.py whose task fails when the orders CSV is empty."""

from __future__ import annotations

import csv
import os

import pendulum
from airflow.sdk import DAG, Asset, task

ORDERS_CSV = os.environ["SHOP_ORDERS_CSV"]

with DAG(
    dag_id="shop_checks",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
):

    @task(inlets=[Asset(f"file://{ORDERS_CSV}")])
    def check_orders() -> None:
        with open(ORDERS_CSV, newline="") as handle:
            if not list(csv.DictReader(handle)):
                raise ValueError(f"{ORDERS_CSV} has no orders")

    check_orders()
