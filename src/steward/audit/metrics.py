"""Prometheus metrics, counted from the store at scrape time so every process agrees.

`steward_audit_records_total{action,decision}`, `steward_queries_total{decision}`,
`steward_query_denials_total`, `steward_lineage_ingest_requests_total`,
`steward_lineage_events_total`, `steward_lineage_backlog_events` and
`steward_lineage_lag_seconds` (events not yet in the graph, and the oldest one's wait),
`steward_audit_chain_head` and `steward_audit_export_lag{exporter}` (records not yet
exported).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from steward.lineage.normaliser import backlog
from steward.store import Store
from steward.store.schema import audit_export_cursors, audit_head, audit_records, lineage_events


class _Collector:
    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        with self.store.read() as conn:
            counts = conn.execute(
                sa.select(audit_records.c.action, audit_records.c.decision, sa.func.count())
                .group_by(audit_records.c.action, audit_records.c.decision)
                .order_by(audit_records.c.action, audit_records.c.decision)
            ).all()
            head = int(conn.execute(sa.select(audit_head.c.seq)).scalar() or 0)
            events = conn.execute(sa.select(sa.func.count()).select_from(lineage_events)).scalar()
            cursors = conn.execute(
                sa.select(audit_export_cursors.c.name, audit_export_cursors.c.last_seq)
            ).all()
            behind = backlog(conn)
        records = CounterMetricFamily(
            "steward_audit_records",
            "Audit records by action and decision",
            labels=["action", "decision"],
        )
        queries = CounterMetricFamily("steward_queries", "Queries by decision", labels=["decision"])
        denials = 0
        ingests = 0
        for action, decision, count in counts:
            records.add_metric([action, decision], int(count))
            if action == "query":
                queries.add_metric([decision], int(count))
                denials += int(count) if decision == "denied" else 0
            if action == "lineage.ingest":
                ingests += int(count)
        yield records
        yield queries
        yield CounterMetricFamily("steward_query_denials", "Queries denied", value=denials)
        yield CounterMetricFamily(
            "steward_lineage_ingest_requests", "Lineage ingest requests and batches", value=ingests
        )
        yield CounterMetricFamily(
            "steward_lineage_events", "OpenLineage events stored", value=int(events or 0)
        )
        yield GaugeMetricFamily(
            "steward_lineage_backlog_events",
            "Events stored but not yet built into the lineage graph",
            value=behind.events,
        )
        yield GaugeMetricFamily(
            "steward_lineage_lag_seconds",
            "How long the oldest event not yet in the lineage graph has waited",
            value=behind.lag_seconds,
        )
        yield GaugeMetricFamily(
            "steward_audit_chain_head", "Last audit sequence number", value=head
        )
        lag = GaugeMetricFamily(
            "steward_audit_export_lag", "Records not yet exported", labels=["exporter"]
        )
        for name, last in cursors:
            lag.add_metric([name], head - int(last))
        yield lag


def metrics_text(store: Store) -> tuple[bytes, str]:
    """The Prometheus exposition text and its content type."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(store))
    return generate_latest(registry), CONTENT_TYPE_LATEST
