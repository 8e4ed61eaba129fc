"""A synced lake with a customers table (emails, SSNs, regions, salaries) and the example policy."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from pyiceberg.schema import Schema
from pyiceberg.types import DoubleType, LongType, NestedField, StringType

from steward.app import Steward
from steward.catalog.edits import ColumnEdit, DatasetEdit, edit_dataset
from steward.catalog.sync import sync
from steward.connectors.iceberg import lake_catalog
from steward.identity.models import Principal

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "policies.yaml"

# The issue's example policy, exactly as written there.
ISSUE_POLICY = """\
roles:
  analyst: {groups: [analysts]}
  eu-analyst: {groups: [analysts-eu]}
  platform-admin: {groups: [platform]}
grants:
  - roles: [analyst, eu-analyst]
    select: ["lake.crm.*"]
  - roles: [platform-admin]
    select: ["*"]
masks:
  - columns: ["tag:pii.email"]          # or "lake.crm.customers.email"
    mask: email                          # a****@domain.com
    except: [platform-admin]
  - columns: ["lake.crm.customers.ssn"]
    mask: redact
    except: [platform-admin]
row_filters:
  - table: lake.crm.customers
    roles: [eu-analyst]
    where: "region = 'EU'"
deny:
  - roles: [analyst, eu-analyst]
    columns: ["lake.crm.customers.salary"]
"""

CUSTOMERS = Schema(
    NestedField(1, "id", LongType(), required=True),
    NestedField(2, "email", StringType()),
    NestedField(3, "ssn", StringType()),
    NestedField(4, "region", StringType()),
    NestedField(5, "salary", DoubleType()),
    NestedField(6, "phone", StringType()),
)

COLUMNS = [
    ("id", frozenset[str]()),
    ("email", frozenset({"pii.email"})),
    ("ssn", frozenset[str]()),
    ("region", frozenset[str]()),
    ("salary", frozenset[str]()),
    ("phone", frozenset({"pii.phone"})),
]


@pytest.fixture
def lake(steward: Steward) -> Steward:
    """`lake.crm.customers` and `lake.crm.orders` synced, email and phone tagged PII."""
    catalog = lake_catalog(steward.settings.home)
    catalog.create_namespace("crm")
    customers = catalog.create_table("crm.customers", CUSTOMERS)
    customers.append(
        pa.table(
            {
                "id": pa.array(range(4), pa.int64()),
                "email": [f"person{i}@example.com" for i in range(4)],
                "ssn": [f"123-45-{i:04d}" for i in range(4)],
                "region": ["EU", "US", "EU", "US"],
                "salary": [1000.0 * i for i in range(4)],
                "phone": [f"+1 415 555 {1000 + i}" for i in range(4)],
            },
            schema=CUSTOMERS.as_arrow(),
        )
    )
    catalog.create_table("crm.orders", Schema(NestedField(1, "order_id", LongType())))
    source = steward.source("lake")
    try:
        sync(steward.store, source)
    finally:
        source.close()
    admin = Principal(user="admin", is_admin=True)
    edit = DatasetEdit(
        columns={
            "email": ColumnEdit(addTags=["pii.email"]),
            "phone": ColumnEdit(addTags=["pii.phone"]),
        }
    )
    edit_dataset(steward.store, "lake.crm.customers", edit, admin)
    return steward
