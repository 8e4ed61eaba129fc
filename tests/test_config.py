"""Settings: STEWARD_HOME, steward.toml, STEWARD_* variables, and clear errors."""

from __future__ import annotations

import json
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


@pytest.mark.parametrize(
    ("toml", "named", "meant"),
    [
        ("prot = 5000\n", "unknown setting prot", "did you mean port?"),
        ("[steward]\ndatabse_url = 'x'\n", "unknown setting steward.databse_url", "database_url?"),
        ("[audit]\ncheckpoint_every = 5\n", "unknown setting audit", "audit_checkpoint_every?"),
        ("[sorces.lake]\ntype = 'dbt'\n", "unknown setting sorces", "did you mean sources?"),
        ("[scan]\nbaselin = 'b.json'\n", "[scan] has unknown key(s) baselin", "baseline?"),
        ("port = 1\n[steward]\nhost = 'h'\n", "unknown setting port", "put it there"),
    ],
)
def test_an_unknown_setting_in_steward_toml_names_the_file_key_and_a_guess(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, toml: str, named: str, meant: str
) -> None:
    monkeypatch.setenv("STEWARD_HOME", str(tmp_path))
    (tmp_path / "steward.toml").write_text(toml)
    with pytest.raises(ConfigError) as refused:
        load_settings()
    assert str(tmp_path / "steward.toml") in refused.value.message
    assert named in refused.value.message
    assert meant in refused.value.message


def test_every_setting_of_the_model_is_known_in_steward_toml(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from steward.config import Settings

    monkeypatch.setenv("STEWARD_HOME", str(tmp_path))
    # Each field's own default, written back: a key the model has is never "unknown".
    lines = [
        f"{name} = {json.dumps(str(value) if isinstance(value, Path) else value)}"
        for name, value in Settings(home=tmp_path).model_dump().items()
        if value is not None and name not in ("sources", "oidc_attribute_claims")
    ]
    (tmp_path / "steward.toml").write_text("\n".join(lines) + "\n")
    assert load_settings().port == 5000


def test_a_misspelt_steward_variable_is_refused_but_other_variables_are_not(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("STEWARD_HOME", str(tmp_path))
    monkeypatch.setenv("STEWARD_URL", "http://127.0.0.1:5000")
    monkeypatch.setenv("STEWARD_TEST_DATABASE_URL", "postgresql://u@127.0.0.1/x")
    monkeypatch.setenv("STEWARD_SOMETHING_ELSE", "1")
    assert load_settings().home == tmp_path
    monkeypatch.setenv("STEWARD_DATABSE_URL", "postgresql://u@127.0.0.1/x")
    with pytest.raises(ConfigError, match="STEWARD_DATABSE_URL: did you mean STEWARD_DATABASE_URL"):
        load_settings()
