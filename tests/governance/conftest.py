"""A synced lake with `lake.crm.customers` (email tagged PII), a policy for an ETL role,
and a helper that ingests the ETL job's run the way a producer reports it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pytest
from pyiceberg.schema import Schema
from pyiceberg.types import LongType, NestedField, StringType

from steward.app import Steward
from steward.catalog.edits import ColumnEdit, DatasetEdit, edit_dataset
from steward.catalog.sync import sync
from steward.catalog.views import resolve_dataset
from steward.config import PrincipalMapping, Settings
from steward.connectors.iceberg import lake_catalog
from steward.identity.models import Principal
from steward.lineage.ingest import ingest, parse_events
from steward.lineage.nodes import dataset_names
from tests.openlineage_events import FACET, PRODUCER

ADMIN = Principal(user="admin", is_admin=True)
ETL = Principal(user="svc-etl", groups=frozenset({"etl"}), scopes=frozenset({"lineage:write"}))

# The ETL role may read customers only with email masked and EU rows only.
POLICY = """\
roles:
  etl: {groups: [etl]}
  analyst: {groups: [analysts]}
grants:
  - roles: [etl, analyst]
    select: ["lake.crm.*"]
masks:
  - columns: ["tag:pii.email"]
    mask: email
row_filters:
  - table: lake.crm.customers
    roles: [etl]
    where: "region = 'EU'"
"""

CUSTOMERS = Schema(
    NestedField(1, "id", LongType(), required=True),
    NestedField(2, "email", StringType()),
    NestedField(3, "region", StringType()),
)

TRAINING = ("ml", "training_set")
IDENTITY = {"type": "DIRECT", "subtype": "IDENTITY", "description": "", "masking": False}
MASKED = {"type": "DIRECT", "subtype": "TRANSFORMATION", "description": "mask", "masking": True}
FILTER = {"type": "INDIRECT", "subtype": "FILTER", "description": "", "masking": False}


@pytest.fixture
def settings(tmp_path: Any) -> Settings:
    """SQLite only: the evaluation reads the store through the same SQL on either backend."""
    return Settings(home=tmp_path / "home")


@pytest.fixture
def lake(steward: Steward) -> Steward:
    """`lake.crm.customers` synced, its email tagged pii.email."""
    catalog = lake_catalog(steward.settings.home)
    catalog.create_namespace("crm")
    customers = catalog.create_table("crm.customers", CUSTOMERS)
    customers.append(
        pa.table(
            {
                "id": pa.array(range(2), pa.int64()),
                "email": ["a@example.com", "b@example.com"],
                "region": ["EU", "US"],
            },
            schema=CUSTOMERS.as_arrow(),
        )
    )
    source = steward.source("lake")
    try:
        sync(steward.store, source)
    finally:
        source.close()
    edit = DatasetEdit(columns={"email": ColumnEdit(addTags=["pii.email"])})
    edit_dataset(steward.store, "lake.crm.customers", edit, ADMIN)
    return steward


def customers_identity(steward: Steward) -> tuple[str, str]:
    """The OpenLineage namespace and name of `lake.crm.customers`."""
    with steward.store.read() as conn:
        dataset_id = resolve_dataset(conn, "lake.crm.customers")
        names = dataset_names(conn, [dataset_id])[dataset_id]
    return names["namespace"], names["name"]


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


RunEtl = Callable[..., str]


@pytest.fixture
def run_etl(lake: Steward) -> RunEtl:
    """Ingest one run of `etl/build_training` reading customers into ml/training_set.

    `email` is the transformation of customers.email into the training table's email;
    `filtered` adds region as an INDIRECT/FILTER input of the whole output.
    """
    namespace, name = customers_identity(lake)

    def run(
        *,
        email: dict[str, Any] = IDENTITY,
        filtered: bool = True,
        actor: Principal | None = ETL,
        job: str = "build_training",
        job_namespace: str = "etl",
    ) -> str:
        run_id = str(uuid.uuid4())
        lineage: dict[str, Any] = {
            **FACET,
            "fields": {
                "email": {
                    "inputFields": [
                        {
                            "namespace": namespace,
                            "name": name,
                            "field": "email",
                            "transformations": [email],
                        }
                    ]
                },
                "customer_id": {
                    "inputFields": [
                        {
                            "namespace": namespace,
                            "name": name,
                            "field": "id",
                            "transformations": [IDENTITY],
                        }
                    ]
                },
            },
        }
        if filtered:
            lineage["dataset"] = [
                {
                    "namespace": namespace,
                    "name": name,
                    "field": "region",
                    "transformations": [FILTER],
                }
            ]
        event = {
            "eventType": "COMPLETE",
            "eventTime": now_iso(),
            "producer": PRODUCER,
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
            "run": {"runId": run_id, "facets": {}},
            "job": {"namespace": job_namespace, "name": job, "facets": {}},
            "inputs": [{"namespace": namespace, "name": name, "facets": {}}],
            "outputs": [
                {
                    "namespace": TRAINING[0],
                    "name": TRAINING[1],
                    "facets": {
                        "schema": {
                            **FACET,
                            "fields": [
                                {"name": "customer_id", "type": "BIGINT"},
                                {"name": "email", "type": "VARCHAR"},
                            ],
                        },
                        "columnLineage": lineage,
                    },
                }
            ],
        }
        ingest(lake.store, parse_events([event], batch=False), actor=actor)
        return run_id

    return run


ETL_MAPPING = [PrincipalMapping(namespace="etl", user="svc-etl", groups=["etl"])]
