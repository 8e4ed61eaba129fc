"""Retention moves old records to signed segments that still verify; reports read the log."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from steward.app import Steward
from steward.audit.checkpoints import Signer, make_checkpoint
from steward.audit.log import now, record
from steward.audit.models import Resource
from steward.audit.reports import (
    pii_access,
    queries_per_user_per_day,
    top_datasets,
)
from steward.audit.retention import archive_before, archive_dir
from steward.audit.verify import verify
from steward.catalog.views import pii_columns
from steward.lineage.ingest import ingest, parse_events
from steward.store.schema import audit_records
from tests.audit.conftest import ANA, BOB, append, tamper


def test_archived_records_still_verify_and_edits_to_segments_are_found(
    steward: Steward, signer: Signer
) -> None:
    home = steward.settings.home
    append(steward, 10)
    make_checkpoint(steward.store, signer, home)
    segment = archive_before(steward.store, signer, home, before=now() + timedelta(seconds=1))
    assert segment is not None
    assert (segment.first_seq, segment.last_seq) == (1, 10)
    append(steward, 5)
    with steward.store.read() as conn:
        live = conn.execute(sa.select(sa.func.min(audit_records.c.seq))).scalar()
    assert live == 11
    assert verify(steward.store, signer, home).ok
    full = verify(steward.store, signer, home, archive=True)
    assert full.ok, full.message
    assert full.records == 15
    # An edit inside the archived file is found at its record.
    path = archive_dir(home) / segment.file_name
    lines = path.read_bytes().splitlines()
    lines[3] = lines[3].replace(b'"decision":"masked"', b'"decision":"allowed"')
    path.write_bytes(b"\n".join(lines) + b"\n")
    broken = verify(steward.store, signer, home, archive=True)
    assert (broken.ok, broken.first_bad_seq, broken.problem) == (False, 5, "modified")


def test_retention_refuses_to_archive_a_tampered_log(steward: Steward, signer: Signer) -> None:
    import pytest

    from steward.audit.retention import LogTampered

    append(steward, 4)
    tamper(steward, "UPDATE audit_records SET actor_user = 'x' WHERE seq = 2")
    with pytest.raises(LogTampered, match="seq 2"):
        archive_before(
            steward.store, signer, steward.settings.home, before=now() + timedelta(seconds=1)
        )
    assert not list(archive_dir(steward.settings.home).glob("*.jsonl"))


def query(
    steward: Steward, actor: object, dataset: str, columns: tuple[str, ...], **kw: object
) -> None:
    with steward.store.write() as conn:
        record(conn, actor=actor, action="query", resource=Resource(dataset, columns), **kw)  # type: ignore[arg-type]


def test_reports_answer_who_read_pii_and_top_datasets(steward: Steward) -> None:
    query(steward, ANA, "crm.customers", ("id", "email"), decision="masked", policy="mask_email")
    query(steward, BOB, "crm.customers", ("id",))
    query(steward, BOB, "sales.orders", ("total",))
    query(steward, BOB, "hr.salaries", ("amount",), decision="denied", policy="hr_only")
    # A table whose `email` column carries the tag pii.email (here from a producer's
    # tags facet; the catalog's classifier and people tag columns the same way).
    tagged = {
        "eventTime": "2024-05-01T10:00:00Z",
        "producer": "https://example.com/producer",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
        "dataset": {
            "namespace": "pg",
            "name": "crm.customers",
            "facets": {
                "schema": {
                    "fields": [{"name": "id", "type": "int"}, {"name": "email", "type": "text"}]
                },
                "tags": {"tags": [{"key": "pii.email", "value": "true", "field": "email"}]},
            },
        },
    }
    ingest(steward.store, parse_events([tagged], batch=False))
    with steward.store.read() as conn:
        pii = pii_columns(conn)
        assert ("crm.customers", "email") in pii
        assert {column for _, column in pii} == {"email"}
        report = pii_access(conn, pii).to_json()
        per_day = queries_per_user_per_day(conn).to_json()
        top = top_datasets(conn).to_json()
    assert [(r["user"], r["column"], r["decision"]) for r in report["rows"]] == [
        ("ana", "email", "masked")
    ]
    assert {(r["user"], r["queries"], r["denied"]) for r in per_day["rows"]} == {
        ("ana", 1, 0),
        ("bob", 3, 1),
    }
    assert top["rows"][0] == {"dataset": "crm.customers", "users": 2, "queries": 2}
