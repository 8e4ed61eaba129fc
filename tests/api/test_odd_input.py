"""Odd input on every route gets an answer below 500 (the client raises on any 500)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

ODD = [
    "/api/v1/lineage?nodeId=dataset:%00:%00",
    "/api/v1/lineage?nodeId=dataset::&depth=1000",
    "/api/v1/lineage?nodeId=job:a:b&depth=99999999999999999999",
    "/api/v1/lineage?nodeId=" + "x" * 10000,
    "/api/v1/lineage?nodeId=dataset:a:b&asOf=9999-99-99",
    "/api/v1/column-lineage?nodeId=datasetField:a",
    "/api/v1/column-lineage?nodeId=datasetField:a:b:c&direction=",
    "/api/v1/datasets?limit=0",
    "/api/v1/datasets?limit=abc",
    "/api/v1/jobs?offset=-1",
    "/api/v1/jobs/%ZZ/x/runs",
    "/api/v1/jobs/a/b",
    "/api/v1/jobs/a/b/c/d/runs",
    "/api/v1/jobs/%E2%98%83/%F0%9F%98%80/runs",
    "/api/v1/search?q=",
    "/api/v1/search?q=" + "%25_" * 200,
    "/api/v1/search?q=%00",
    "/api/v1/nothing-here",
]


@pytest.mark.parametrize("path", ODD)
def test_odd_query_gets_a_4xx_or_an_answer(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code < 500
    assert response.headers["content-type"].startswith("application/json")
    if response.status_code >= 400:
        assert response.json()["error"]


def test_wrong_method_is_405(client: TestClient) -> None:
    assert client.delete("/api/v1/lineage").status_code == 405


def test_unknown_content_encoding_is_refused(client: TestClient) -> None:
    response = client.post("/api/v1/lineage", content=b"{}", headers={"Content-Encoding": "br"})
    assert response.status_code == 400
    assert "Content-Encoding" in response.json()["error"]


def test_gzip_bomb_is_refused(client: TestClient) -> None:
    import gzip

    bomb = gzip.compress(b"[" + b" " * (70 * 1024 * 1024) + b"]")
    response = client.post(
        "/api/v1/lineage/batch", content=bomb, headers={"Content-Encoding": "gzip"}
    )
    assert response.status_code == 400
    assert "limit" in response.json()["error"]


@pytest.mark.parametrize(
    "path",
    ["/api/v1/search?q=%00", "/api/v1/lineage?nodeId=dataset:a%00:b", "/api/v1/jobs/a%00/b/runs"],
)
def test_nul_in_query_or_path_is_400(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 400
    assert "NUL" in response.json()["error"]
