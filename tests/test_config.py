"""Settings: STEWARD_HOME, steward.toml, STEWARD_* variables, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from steward.config import load_settings
from steward.errors import ConfigError


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("STEWARD_HOME", "STEWARD_DATABASE_URL", "STEWARD_PORT", "STEWARD_HOST"):
        monkeypatch.delenv(name, raising=False)


def test_home_defaults_to_dot_steward(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    settings = load_settings()
    assert settings.home == tmp_path / ".steward"
    assert settings.sqlalchemy_url == f"sqlite:///{tmp_path / '.steward' / 'steward.db'}"
    assert settings.is_embedded


def test_toml_file_in_home_is_read_and_env_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("STEWARD_HOME", str(tmp_path))
    (tmp_path / "steward.toml").write_text(
        '[steward]\nport = 5123\ndatabase_url = "postgresql://u@db.example/steward"\n'
    )
    settings = load_settings()
    assert settings.port == 5123
    assert settings.database_url == "postgresql://u@db.example/steward"
    assert not settings.is_embedded
    monkeypatch.setenv("STEWARD_PORT", "6001")
    assert load_settings().port == 6001


def test_bad_values_name_the_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("STEWARD_HOME", str(tmp_path))
    monkeypatch.setenv("STEWARD_PORT", "not-a-port")
    with pytest.raises(ConfigError, match="port"):
        load_settings()


def test_broken_toml_names_the_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("STEWARD_HOME", str(tmp_path))
    (tmp_path / "steward.toml").write_text("port = = 1\n")
    with pytest.raises(ConfigError, match=r"steward\.toml"):
        load_settings()


def test_unsupported_database_is_refused(tmp_path: Path) -> None:
    from steward.app import Steward

    with pytest.raises(ConfigError, match="mysql"):
        Steward(load_settings(home=tmp_path, database_url="mysql://root@localhost/x"))
