"""The raw log's payloads: Zstandard frames now, zlib streams from earlier releases; both
read back alike, into the raw events route and into the graph."""

from __future__ import annotations

import zlib

import orjson
import pytest
import sqlalchemy as sa

from steward.app import Steward
from steward.lineage.ingest import ingest, parse_events, raw_event
from steward.lineage.normaliser import normalise_pending
from steward.lineage.payload import PayloadError, pack, unpack
from steward.lineage.queries import list_events
from steward.lineage.replay import replay
from steward.store.schema import lineage_events
from tests.lineage.graph_dump import graph_dump, workload


def test_a_new_payload_is_a_zstandard_frame_that_reads_back() -> None:
    for event in workload():
        canonical = orjson.dumps(event, option=orjson.OPT_SORT_KEYS)
        payload = pack(canonical)
        assert payload[:4] == b"\x28\xb5\x2f\xfd"
        assert unpack(payload) == canonical


def test_an_event_with_a_wide_schema_is_kept_smaller_than_zlib_kept_it() -> None:
    event = workload()[0]
    fields = [
        {"name": f"column_{i:02d}", "type": "VARCHAR", "description": f"The column_{i:02d} value"}
        for i in range(40)
    ]
    event["outputs"] = [
        {"namespace": "s3://lake", "name": "wide", "facets": {"schema": {"fields": fields}}}
    ]
    canonical = orjson.dumps(event, option=orjson.OPT_SORT_KEYS)
    assert len(pack(canonical)) < 0.9 * len(zlib.compress(canonical, 1))


def test_a_payload_neither_codec_wrote_is_an_error_naming_both() -> None:
    with pytest.raises(PayloadError, match="not a Zstandard frame or a zlib stream"):
        unpack(b"\x00not compressed at all")


def test_events_stored_as_zlib_by_an_earlier_release_read_and_replay_alike(
    steward: Steward,
) -> None:
    events = workload()
    ingest(steward.store, parse_events(events, batch=True))
    built = graph_dump(steward.store)
    with steward.store.read() as conn:
        listed = list_events(conn, limit=1000)
    # As an earlier release stored them: the same canonical JSON, zlib-compressed.
    with steward.store.write() as conn:
        for raw_id, payload in conn.execute(
            sa.select(lineage_events.c.id, lineage_events.c.payload)
        ):
            old = zlib.compress(unpack(payload), 1)
            conn.execute(
                lineage_events.update().where(lineage_events.c.id == raw_id).values(payload=old)
            )
    with steward.store.read() as conn:
        stored = conn.execute(sa.select(lineage_events.c.payload)).scalars().all()
        assert all(payload[:1] == b"\x78" for payload in stored)
        assert list_events(conn, limit=1000) == listed
    assert replay(steward.store) == len(events)
    assert graph_dump(steward.store) == built


def test_an_unreadable_payload_is_recorded_against_its_event_and_the_rest_applied(
    steward: Steward,
) -> None:
    events = workload()
    ingest(steward.store, parse_events(events[:1], batch=True), normalise=False)
    with steward.store.write() as conn:
        conn.execute(lineage_events.update().values(payload=b"\x00garbage"))
    ingest(steward.store, parse_events(events[1:2], batch=True), normalise=False)
    assert normalise_pending(steward.store) == 2
    with steward.store.read() as conn:
        errors = (
            conn.execute(sa.select(lineage_events.c.apply_error).order_by(lineage_events.c.id))
            .scalars()
            .all()
        )
    assert errors[0] is not None
    assert "not a Zstandard frame or a zlib stream" in errors[0]
    assert errors[1] is None
    assert raw_event(pack(b'{"a": 1}')) == {"a": 1}
