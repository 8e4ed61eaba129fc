"""The configured engine is chosen by name in the settings and resolved lazily."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from steward.app import Steward
from steward.config import Settings
from steward.engines.duckdb import DuckDBEngine
from steward.engines.registry import allowed_functions, engine_class, engine_dialect
from steward.errors import ConfigError


def test_duckdb_is_the_default_engine_with_the_query_limits(tmp_path: Path) -> None:
    steward = Steward(Settings(home=tmp_path / "home", query_timeout_seconds=7))
    try:
        assert isinstance(steward.engine, DuckDBEngine)
        assert steward.engine.limits.timeout_seconds == 7
    finally:
        steward.close()


def test_the_engine_setting_is_read_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STEWARD_ENGINE", "spark")
    monkeypatch.setenv("STEWARD_SPARK_REMOTE", "sc://127.0.0.1:15002")
    settings = Settings(home=tmp_path / "home")
    assert (settings.engine, settings.spark_remote) == ("spark", "sc://127.0.0.1:15002")


def test_an_unknown_engine_is_refused_naming_the_choices(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="duckdb"):
        Settings(home=tmp_path / "home", engine="oracle")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="unknown engine 'oracle'; known: duckdb"):
        engine_class("oracle")


def test_an_engines_allow_list_and_dialect_are_known_without_starting_it() -> None:
    assert engine_dialect("spark") == "spark"
    spark = allowed_functions("spark")
    assert "sha2" in spark
    assert "java_method" not in spark
    assert "reflect" not in spark
    assert "list_reverse" in allowed_functions("duckdb")


def test_close_releases_the_engine_and_a_new_one_is_made_on_next_use(tmp_path: Path) -> None:
    steward = Steward(Settings(home=tmp_path / "home"))
    first = steward.engine
    steward.close()
    assert steward.engine is not first
    steward.close()
