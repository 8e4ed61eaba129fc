"""The generated docs match what they are generated from: the settings model, the code's
modules and imports, and the architecture drawing's source."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from steward.config import Settings
from steward.docs_tools import diagram
from steward.docs_tools.__main__ import generated, main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def expected() -> dict[Path, str]:
    return generated(ROOT)


@pytest.mark.parametrize(
    "path",
    [Path("docs/configuration.md"), Path("docs/architecture.md"), diagram.DRAWING],
    ids=str,
)
def test_generated_doc_is_up_to_date(path: Path, expected: dict[Path, str]) -> None:
    assert (ROOT / path).read_text(encoding="utf-8") == expected[path], (
        f"{path} is out of date: run `python -m steward.docs_tools`"
    )


def test_every_setting_has_a_row_naming_its_environment_variable() -> None:
    text = (ROOT / "docs/configuration.md").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"`STEWARD_{name.upper()}`" in text, name


def test_check_fails_naming_the_stale_file_and_regeneration_fixes_it(tmp_path: Path) -> None:
    for part in ("docs", "src"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("node_modules"))
    doc = tmp_path / "docs/configuration.md"
    doc.write_text(doc.read_text().replace("`STEWARD_PORT`", "`STEWARD_PORTS`"))
    command = [sys.executable, "-m", "steward.docs_tools", "--root", str(tmp_path)]
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "src")}
    checked = subprocess.run([*command, "--check"], capture_output=True, text=True, env=env)
    assert checked.returncode == 1
    assert "out of date: docs/configuration.md;" in checked.stderr
    assert subprocess.run(command, capture_output=True, env=env).returncode == 0
    assert "`STEWARD_PORT`" in doc.read_text()
    assert "`STEWARD_PORTS`" not in doc.read_text()


def test_a_setting_added_to_the_model_fails_the_check_until_regenerated(tmp_path: Path) -> None:
    for part in ("docs", "src"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("node_modules"))
    config = tmp_path / "src/steward/config.py"
    anchor = "    query_max_sql_depth: int = Field(default=200, ge=10)\n"
    assert anchor in config.read_text()
    added = "    # How many rows a sample holds.\n    sample_rows: int = Field(default=7, ge=1)\n"
    config.write_text(config.read_text().replace(anchor, anchor + added))
    command = [sys.executable, "-m", "steward.docs_tools", "--root", str(tmp_path)]
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "src")}
    checked = subprocess.run([*command, "--check"], capture_output=True, text=True, env=env)
    assert checked.returncode == 1
    assert "docs/configuration.md" in checked.stderr
    assert subprocess.run(command, capture_output=True, env=env).returncode == 0
    text = (tmp_path / "docs/configuration.md").read_text()
    assert "How many rows a sample holds." in text
    assert "| `sample_rows` | `STEWARD_SAMPLE_ROWS` | `int` | `7` | >= 1 |" in text


def test_a_package_missing_from_the_drawing_source_is_named(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    shutil.copytree(ROOT / "src", tmp_path / "src", ignore=shutil.ignore_patterns("node_modules"))
    (tmp_path / "src/steward/billing").mkdir()
    (tmp_path / "src/steward/billing/__init__.py").write_text('"""Invoices."""\n')
    command = [sys.executable, "-m", "steward.docs_tools", "--check", "--root", str(tmp_path)]
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "src")}
    checked = subprocess.run(command, capture_output=True, text=True, env=env)
    assert checked.returncode == 1
    assert "place every package of src/steward in a band; missing: billing" in checked.stderr


def test_the_settings_come_from_the_checkout_being_generated(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    (tmp_path / "src/steward").mkdir(parents=True)
    with pytest.raises(SystemExit, match="run with PYTHONPATH="):
        main(["--check", "--root", str(tmp_path)])


def test_the_drawing_is_svg_with_a_box_per_package() -> None:
    import xml.etree.ElementTree as ET

    svg = ET.fromstring((ROOT / diagram.DRAWING).read_text(encoding="utf-8"))
    texts = {t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")}
    _, bands = diagram.load_bands((ROOT / diagram.SOURCE).read_text(encoding="utf-8"))
    assert set(diagram.packages(bands)) <= texts


def test_the_references_examples_hold(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from steward.config import load_settings
    from steward.errors import ConfigError

    text = (ROOT / "docs/configuration.md").read_text(encoding="utf-8")
    monkeypatch.setenv("STEWARD_HOME", str(tmp_path))
    monkeypatch.setenv("STEWARD_OIDC_ADMIN_GROUPS", '["platform"]')
    assert "`STEWARD_OIDC_ADMIN_GROUPS='[\"platform\"]'`" in text
    assert load_settings().oidc_admin_groups == ["platform"]
    monkeypatch.setenv("STEWARD_PORT", "70000")
    with pytest.raises(ConfigError) as refused:
        load_settings()
    assert f"`{refused.value}`" in text
