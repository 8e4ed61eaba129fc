"""Diagrams of lineage answers stay valid whatever the datasets, jobs and columns are called."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from steward.lineage.draw import draw
from tests.diagrams import dot_nodes, mermaid_structure, parse_dot

names = st.text(min_size=1, max_size=30)


def chain(source: str, job: str, target: str, namespace: str) -> dict[str, Any]:
    """A lineage answer: `source` read by `job`, which writes `target`."""
    ids = [f"dataset:{namespace}:{source}", f"job:{namespace}:{job}", f"dataset:ns2:{target}"]
    edges = [
        {"origin": ids[0], "destination": ids[1]},
        {"origin": ids[1], "destination": ids[2]},
    ]
    return {
        "graph": [
            {
                "id": ids[0],
                "type": "DATASET",
                "data": {"namespace": namespace, "name": source},
                "inEdges": [],
                "outEdges": [edges[0]],
            },
            {
                "id": ids[1],
                "type": "JOB",
                "data": {"namespace": namespace, "name": job},
                "inEdges": [edges[0]],
                "outEdges": [edges[1]],
            },
            {
                "id": ids[2],
                "type": "DATASET",
                "data": {"namespace": "ns2", "name": target, "deleted": True},
                "inEdges": [edges[1]],
                "outEdges": [],
            },
        ]
    }


def columns(dataset: str, field: str, description: str) -> dict[str, Any]:
    """A column answer: `dataset.field` made from two columns of one other dataset."""

    def node(ds: str, f: str, ins: list[Any], outs: list[Any]) -> dict[str, Any]:
        return {
            "id": f"datasetField:wh:{ds}:{f}",
            "type": "DATASET_FIELD",
            "data": {"namespace": "wh", "dataset": ds, "field": f, "fieldType": "VARCHAR"},
            "inEdges": ins,
            "outEdges": outs,
        }

    out = f"datasetField:wh:{dataset}:{field}"
    steps = [
        {
            "origin": f"datasetField:wh:raw:{f}",
            "destination": out,
            "job": "job:etl:build",
            "transformations": [
                {"type": "DIRECT", "subtype": "TRANSFORMATION", "description": description}
            ],
            "indirect": f == "b",
        }
        for f in ("a", "b")
    ]
    return {
        "graph": [
            node(dataset, field, steps, []),
            node("raw", "a", [], [steps[0]]),
            node("raw", "b", [], [steps[1]]),
        ]
    }


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(names, names, names, names)
def test_any_dataset_and_job_names_draw_valid_dot_and_mermaid(
    source: str, job: str, target: str, namespace: str
) -> None:
    answer = chain(source, job, target, namespace)
    parsed = parse_dot(draw(answer, "dot"))
    assert len(dot_nodes(parsed)) == 3
    assert len(parsed.get_edges()) == 2
    declared, edges = mermaid_structure(draw(answer, "mermaid"))
    assert len(set(declared)) == len(declared) == 3
    assert edges == [("n0", "n1"), ("n1", "n2")]


@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(names, names, names)
def test_any_column_names_and_transformations_draw_valid_grouped_diagrams(
    dataset: str, field: str, description: str
) -> None:
    answer = columns(dataset, field, description)
    parsed = parse_dot(draw(answer, "dot"))
    assert len(parsed.get_subgraphs()) == (1 if dataset == "raw" else 2)
    assert len(dot_nodes(parsed)) == 3
    assert len(parsed.get_edges()) == 2
    assert any(e.get_style() == "dashed" for e in parsed.get_edges())
    declared, edges = mermaid_structure(draw(answer, "mermaid"))
    assert len(set(declared)) == 3
    assert all(a in declared and b in declared for a, b in edges)
    assert len(edges) == 2


def test_labels_keep_the_names_and_the_transformations() -> None:
    answer = columns('orders "eu"', "total", "sum(amount)")
    dot = draw(answer, "dot")
    assert 'orders \\"eu\\"\\nwh' in dot
    assert "DIRECT/TRANSFORMATION: sum(amount)<br>by build" in draw(answer, "mermaid")
    assert "DIRECT/TRANSFORMATION: sum(amount)\\nby build" in dot
    mermaid = draw(chain("a:b/c", "nightly", "t", "postgres://db:5432"), "mermaid")
    assert 'n0["a:b/c<br>postgres://db:5432"]' in mermaid
    assert 'n1("nightly")' in mermaid
    assert "(deleted)" in mermaid
