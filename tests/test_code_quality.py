"""The checks a reviewer would run: ruff (lint, layering, format) and mypy --strict on src/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_lint_and_layering() -> None:
    pytest.importorskip("ruff", reason="ruff is not installed ([dev] extra)")
    result = run(sys.executable, "-m", "ruff", "check", ".")
    assert result.returncode == 0, result.stdout


def test_ruff_format() -> None:
    pytest.importorskip("ruff", reason="ruff is not installed ([dev] extra)")
    result = run(sys.executable, "-m", "ruff", "format", "--check", ".")
    assert result.returncode == 0, result.stdout


@pytest.mark.slow
def test_mypy_strict() -> None:
    pytest.importorskip("mypy", reason="mypy is not installed ([dev] extra)")
    result = run(sys.executable, "-m", "mypy")
    assert result.returncode == 0, result.stdout
