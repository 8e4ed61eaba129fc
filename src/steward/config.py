"""Settings, read once from `STEWARD_*` environment variables and `$STEWARD_HOME/steward.toml`."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from steward.errors import ConfigError

CONFIG_FILE_NAME = "steward.toml"
SQLITE_FILE_NAME = "steward.db"


def default_home() -> Path:
    """Where Steward keeps its files when `STEWARD_HOME` is not set."""
    return Path(os.environ.get("STEWARD_HOME") or Path.home() / ".steward").expanduser()


class _TomlSource(PydanticBaseSettingsSource):
    """Reads the `[steward]` table (or the top level) of `$STEWARD_HOME/steward.toml`."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path) -> None:
        super().__init__(settings_cls)
        self.path = path

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        raise NotImplementedError  # __call__ reads the whole file at once

    def __call__(self) -> dict[str, Any]:
        if not self.path.is_file():
            return {}
        try:
            data = tomllib.loads(self.path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{self.path}: {exc}") from exc
        table = data.get("steward", data)
        known = set(self.settings_cls.model_fields)
        found = {key: value for key, value in table.items() if key in known}
        if "sources" in data:  # `[sources.NAME]` tables sit at the top level
            found["sources"] = data["sources"]
        return found


class Settings(BaseSettings):
    """Everything Steward can be told; tests build one directly."""

    model_config = SettingsConfigDict(env_prefix="STEWARD_", extra="ignore")

    home: Path = Field(default_factory=default_home)
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=5000, ge=1, le=65535)
    max_body_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    # Catalog sources by name (`[sources.lake]` in steward.toml); each has a `type`
    # (iceberg, sqlalchemy, dbt) and that type's keys. See docs/catalog.md.
    sources: dict[str, dict[str, Any]] = Field(default_factory=dict)
    # The audit log (docs/audit.md): a signed checkpoint every N records or T minutes,
    # records older than `audit_retention_days` moved to signed archive segments, and
    # exports to Loki and JSON lines files, run every `audit_worker_seconds` by `serve`.
    audit_checkpoint_every: int = Field(default=1000, ge=1)
    audit_checkpoint_minutes: float = Field(default=60.0, gt=0)
    audit_retention_days: float | None = Field(default=None, gt=0)
    audit_loki_url: str | None = None
    audit_jsonl_path: Path | None = None
    audit_jsonl_max_bytes: int = Field(default=100 * 1024 * 1024, ge=1024)
    audit_jsonl_keep: int = Field(default=10, ge=0)
    audit_worker_seconds: float = Field(default=30.0, ge=0)
    audit_trino_namespace: str | None = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        home = default_home()
        return (init_settings, env_settings, _TomlSource(settings_cls, home / CONFIG_FILE_NAME))

    @property
    def sqlalchemy_url(self) -> str:
        """The store's URL: `database_url`, else the SQLite file under `home`."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / SQLITE_FILE_NAME}"

    @property
    def is_embedded(self) -> bool:
        """True when the store is the SQLite file under `home`."""
        return not self.database_url


def load_settings(**overrides: Any) -> Settings:
    """Read settings once, turning validation errors into a `ConfigError` that names the key."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from exc
