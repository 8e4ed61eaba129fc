"""Under `steward serve` (a normaliser process beside the API) a query's lineage is
appended to the raw log with its audit record and built into the graph behind, as posted
events are; the answer carries its position, and a graph read echoing it waits for it."""

from __future__ import annotations

import threading
import time

import pytest
from fastapi.testclient import TestClient

from steward.api.consistency import POSITION_COOKIE, POSITION_HEADER
from steward.app import Steward
from steward.audit.checkpoints import Signer
from steward.audit.log import AuditFilter, list_records
from steward.audit.verify import verify
from steward.identity.tokens import create_token
from steward.lineage.normaliser import normalise_pending, position
from steward.policy.versions import apply
from tests.query.test_query_edges import PLATFORM_POLICY

pytestmark = pytest.mark.engines("duckdb")


@pytest.fixture
def pat(lake: Steward, client: TestClient) -> tuple[TestClient, str, str]:
    """A client of `pat` (the policy grants them everything), and the namespace and name
    of `lake.crm.customers` in the lineage graph."""
    apply(lake.store, PLATFORM_POLICY, actor=None)
    secret = create_token(lake.store, user="pat", groups=["platform"]).secret
    client.headers["Authorization"] = f"Bearer {secret}"
    page = client.get("/api/v1/datasets/lake.crm.customers").json()
    return client, page["namespace"], page["datasetName"]


def consumers(client: TestClient, namespace: str, name: str, headers: dict[str, str]) -> set[str]:
    """The nodes downstream of the email column, as a read sending `headers` sees them."""
    email = f"datasetField:{namespace}:{name}:email"
    downstream = {"nodeId": email, "direction": "downstream", "depth": 1}
    answer = client.get("/api/v1/column-lineage", params=downstream, headers=headers)
    assert answer.status_code == 200, answer.text
    return {node["id"] for node in answer.json()["graph"] if "steward://consumer" in node["id"]}


def test_a_querys_lineage_is_built_behind_and_a_read_echoing_its_position_waits_for_it(
    lake: Steward, pat: tuple[TestClient, str, str]
) -> None:
    client, namespace, name = pat
    lake.settings.lineage_normaliser = "worker"  # as `steward serve` sets it

    answer = client.post("/api/v1/query", json={"sql": "SELECT email FROM lake.crm.customers"})
    assert answer.status_code == 200, answer.text
    stored_at = int(answer.headers[POSITION_HEADER])
    with lake.store.read() as conn:
        at = position(conn)
        query = list_records(conn, AuditFilter(action="query"), limit=1)[0]
        ingest = list_records(conn, AuditFilter(action="lineage.ingest"), limit=1)[0]
    # Stored and audited in the query's transaction, not yet in the graph.
    assert at.head_id == stored_at > at.applied_id
    assert ingest.seq == query.seq - 1
    assert ingest.details["source"] == "query"
    # The answer's cookie would make the next read wait too; a read without it sees the
    # graph as built, without the query.
    assert answer.cookies.get(POSITION_COOKIE) == str(stored_at)
    client.cookies.clear()
    assert consumers(client, namespace, name, {}) == set()

    # The normaliser (here a thread standing in for its process) catches up a moment
    # later; the read that echoes the position waits for it instead of missing the event.
    def normaliser() -> None:
        time.sleep(0.3)
        normalise_pending(lake.store)

    behind = threading.Thread(target=normaliser)
    behind.start()
    try:
        seen = consumers(client, namespace, name, {POSITION_HEADER: str(stored_at)})
    finally:
        behind.join()
    assert any(node.startswith("datasetField:steward://consumer:pat") for node in seen), seen
    result = verify(lake.store, Signer.load(lake.settings.home), lake.settings.home)
    assert result.ok, result.message


def test_without_a_normaliser_process_the_querys_lineage_is_in_the_graph_when_it_answers(
    lake: Steward, pat: tuple[TestClient, str, str]
) -> None:
    client, namespace, name = pat
    assert lake.settings.lineage_normaliser == "inline"

    answer = client.post("/api/v1/query", json={"sql": "SELECT email FROM lake.crm.customers"})
    assert answer.status_code == 200, answer.text
    with lake.store.read() as conn:
        at = position(conn)
    assert at.applied_id == at.head_id == int(answer.headers[POSITION_HEADER])
    seen = consumers(client, namespace, name, {})
    assert any(node.startswith("datasetField:steward://consumer:pat") for node in seen), seen
