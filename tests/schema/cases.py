"""Compatibility case tables (fixtures/*.yaml) as pytest parameters, per mode.

A pair case states its BACKWARD and FORWARD verdicts; the other modes follow from them
(transitive modes equal their plain mode on two versions, FULL needs both, NONE passes
everything). A transitive case states each mode's verdict over three or more versions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from steward.schema.compatibility import Mode

FIXTURES = Path(__file__).parent / "fixtures"


def load_cases(name: str) -> dict[str, Any]:
    """A fixture's cases: `pair_cases` and `transitive_cases`."""
    cases: dict[str, Any] = yaml.safe_load((FIXTURES / name).read_text())
    return cases


def pair_verdicts(case: dict[str, Any]) -> list[tuple[Mode, str]]:
    """Each mode's verdict for a two-version case."""
    backward, forward = case["BACKWARD"], case["FORWARD"]
    full = "ok" if backward == forward == "ok" else "fail"
    return [
        (Mode.BACKWARD, backward),
        (Mode.BACKWARD_TRANSITIVE, backward),
        (Mode.FORWARD, forward),
        (Mode.FORWARD_TRANSITIVE, forward),
        (Mode.FULL, full),
        (Mode.FULL_TRANSITIVE, full),
        (Mode.NONE, "ok"),
    ]


def parameters(cases: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    """(pair parameters, transitive parameters): (case, mode, verdict) each."""
    pairs = [
        pytest.param(case, mode, verdict, id=f"{case['id']}-{mode.value}")
        for case in cases["pair_cases"]
        for mode, verdict in pair_verdicts(case)
    ]
    transitive = [
        pytest.param(case, Mode(mode), verdict, id=f"{case['id']}-{mode}")
        for case in cases["transitive_cases"]
        for mode, verdict in case["expect"].items()
    ]
    return pairs, transitive
