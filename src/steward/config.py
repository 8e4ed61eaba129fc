"""Settings, read once from `STEWARD_*` environment variables and `$STEWARD_HOME/steward.toml`."""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from steward.errors import ConfigError

CONFIG_FILE_NAME = "steward.toml"
SQLITE_FILE_NAME = "steward.db"
# Signature algorithms a JWT may use: asymmetric only (no `none`, no HS*).
OIDC_ALGORITHMS = (
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
)  # fmt: skip


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
        known = set(self.settings_cls.model_fields)
        if "steward" in data:
            table = data["steward"]
            if not isinstance(table, dict):
                raise ConfigError(f"{self.path}: steward must be a table ([steward])")
            _refuse_unknown(self.path, "", data, set(TABLES), known)
            _refuse_unknown(self.path, "steward.", table, known, known)
        else:
            table = {key: value for key, value in data.items() if key not in TABLES}
            _refuse_unknown(self.path, "", table, known, known)
        found = dict(table)
        if "sources" in data:  # `[sources.NAME]` tables sit at the top level
            found["sources"] = data["sources"]
        if "scan" in data:
            found.update(_scan_table(self.path, data["scan"]))
        if "lineage" in data:
            found.update(_lineage_table(self.path, data["lineage"]))
        return found


# The tables steward.toml may hold besides the settings themselves (docs/configuration.md).
TABLES = ("steward", "sources", "scan", "lineage")
# The `[scan]` table's keys (docs/scan.md); each is the setting `scan_<key>`.
SCAN_KEYS = ("internal_domains", "allowed_email_domains", "config", "baseline")


def _refuse_unknown(
    path: Path, prefix: str, table: dict[str, Any], allowed: set[str], fields: set[str]
) -> None:
    """A `ConfigError` naming the file and the first key of `table` not in `allowed`, with
    a "did you mean": the setting a nested table's key flattens to (`[audit]
    checkpoint_every` is `audit_checkpoint_every`), else the closest spelling."""
    unknown = sorted(set(table) - allowed)
    if not unknown:
        return
    key = unknown[0]
    flattened = _flattened(key, table[key], fields)
    if key in fields:
        hint = " at the top level: this file has a [steward] table, so put it there"
    elif flattened is not None:
        hint = f"; did you mean {flattened}? (settings are flat: {key}_... not [{key}])"
    else:
        close = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]}?" if close else " (not a Steward setting)"
    raise ConfigError(f"{path}: unknown setting {prefix}{key}{hint}")


def _flattened(table: str, value: Any, fields: set[str]) -> str | None:
    """The setting a key of table `table` would be when written flat, if there is one."""
    if not isinstance(value, dict):
        return None
    for key in sorted(value):
        if f"{table}_{key}" in fields:
            return f"{table}_{key}"
    return None


def _scan_table(path: Path, table: Any) -> dict[str, Any]:
    """`[scan]` as `scan_*` settings; its file paths are relative to steward.toml's folder."""
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [scan] must be a table")
    unknown = sorted(set(table) - set(SCAN_KEYS))
    if unknown:
        close = difflib.get_close_matches(unknown[0], SCAN_KEYS, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise ConfigError(
            f"{path}: [scan] has unknown key(s) {', '.join(unknown)}{hint}"
            f" (known: {', '.join(SCAN_KEYS)})"
        )
    found = {f"scan_{key}": value for key, value in table.items()}
    for key in ("config", "baseline"):
        value = table.get(key)
        if isinstance(value, str) and value:
            found[f"scan_{key}"] = path.parent / Path(value).expanduser()
    return found


# The `[lineage]` table's keys; each is the setting `lineage_<key>`.
LINEAGE_KEYS = ("principals",)


def _lineage_table(path: Path, table: Any) -> dict[str, Any]:
    """`[lineage]` (`[[lineage.principals]]` ...) as `lineage_*` settings."""
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [lineage] must be a table")
    unknown = sorted(set(table) - set(LINEAGE_KEYS))
    if unknown:
        raise ConfigError(
            f"{path}: [lineage] has unknown key(s) {', '.join(unknown)};"
            f" known: {', '.join(LINEAGE_KEYS)}"
        )
    return {f"lineage_{key}": value for key, value in table.items()}


class PrincipalMapping(BaseModel):
    """A service principal for the runs of some jobs (`[[lineage.principals]]`).

    A run matches when its job's namespace matches `namespace` and its producer matches
    `producer` (glob patterns; an absent one matches anything); the first mapping that
    matches names the run's principal, else the token that posted its events does.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    namespace: str | None = None
    producer: str | None = None
    user: str = Field(min_length=1)
    groups: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _matches_something(self) -> PrincipalMapping:
        if self.namespace is None and self.producer is None:
            raise ValueError("give `namespace` or `producer` (a glob pattern), or both")
        return self


class Settings(BaseSettings):
    """Everything Steward can be told; tests build one directly."""

    model_config = SettingsConfigDict(env_prefix="STEWARD_", extra="ignore")

    home: Path = Field(default_factory=default_home)
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=5000, ge=1, le=65535)
    max_body_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    # What `steward serve` logs on stderr (docs/security.md): Steward's messages at this
    # level or above, as `text` or `json` lines; `request_log` adds one line per request
    # (method, path without its query, status, duration, user, token id, request id).
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["text", "json"] = "text"
    request_log: bool = True
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
    # Where `steward quality run` and `publish` send alerts on a check's state change.
    quality_alertmanager_url: str | None = None
    quality_webhook_url: str | None = None
    # The audit log's JSON lines export: the file, rotated past `audit_jsonl_max_bytes`
    # keeping `audit_jsonl_keep` old files; how often `serve` runs the audit duties
    # (0: never); the OpenLineage namespace of queries Trino reports.
    audit_jsonl_path: Path | None = None
    audit_jsonl_max_bytes: int = Field(default=100 * 1024 * 1024, ge=1024)
    audit_jsonl_keep: int = Field(default=10, ge=0)
    audit_worker_seconds: float = Field(default=30.0, ge=0)
    audit_trino_namespace: str | None = None
    # OIDC bearer JWTs (docs/oidc.md): on once `oidc_issuer` and one of `oidc_jwks_url`
    # or `oidc_jwks_file` are set; API tokens keep working beside them.
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks_url: str | None = None
    oidc_jwks_file: Path | None = None
    oidc_user_claim: str = "email"
    oidc_groups_claim: str = "groups"
    oidc_algorithms: list[str] = Field(default_factory=lambda: ["RS256"])
    oidc_leeway_seconds: float = Field(default=30.0, ge=0, le=600)
    oidc_jwks_cache_seconds: float = Field(default=300.0, ge=0)
    oidc_admin_groups: list[str] = Field(default_factory=list)
    # OIDC groups whose members may post lineage (scope `lineage:write`); admins may too.
    lineage_write_groups: list[str] = Field(default_factory=list)
    # OIDC groups whose members may change the schema registry (scope `schema:write`).
    schema_write_groups: list[str] = Field(default_factory=list)
    # Refuse an OIDC token whose user claim is the email while `email_verified` is false.
    oidc_require_verified_email: bool = True
    # Caller attributes for `current_attribute('name')` in row filters: name -> JWT claim.
    oidc_attribute_claims: dict[str, str] = Field(default_factory=dict)
    # Who may report Trino queries to the audit log: these users, or members of these groups.
    trino_reporter_users: list[str] = Field(default_factory=list)
    trino_reporter_groups: list[str] = Field(default_factory=list)
    # Service principals for jobs' runs (docs/governance-check.md), by job namespace or
    # producer (globs), checked in order before the token that posted the events.
    lineage_principals: list[PrincipalMapping] = Field(default_factory=list)
    # OpenLineage events timed further than this in the future are refused.
    lineage_max_future_seconds: float = Field(default=300.0, ge=0)
    # Who builds the lineage graph from the raw log (docs/lineage.md): `inline`, each
    # ingest call right after its append (library use, in-process apps); `worker`, the
    # normaliser process `steward serve` starts beside the API (serve sets this itself).
    lineage_normaliser: Literal["inline", "worker"] = "inline"
    # Raw events not yet in the graph beyond which ingest answers 503 with Retry-After.
    lineage_max_backlog: int = Field(default=200_000, ge=1)
    # How long a consistent read (`?consistent=true`, a read-your-writes position) waits
    # for the normaliser before answering 503 with Retry-After.
    lineage_consistency_wait_seconds: float = Field(default=5.0, ge=0, le=300)
    # Processes that decode and validate request bodies beside the writer (worker mode);
    # 0, the default, parses off the event loop in this process: a small body in the
    # append's courier thread, a larger one in a worker thread (docs/lineage.md).
    lineage_parse_processes: int = Field(default=0, ge=0, le=64)
    # The OpenLineage namespace of the Kafka cluster whose topics the schema registry's
    # subjects describe (`<topic>-value`, `<topic>-key` become datasets of that topic).
    schema_registry_kafka_namespace: str = "kafka://localhost:9092"
    # The engine governed queries and quality checks run on (docs/engines.md): the
    # embedded DuckDB, or Spark through Spark Connect at `spark_remote` (a Spark Connect
    # URL such as `sc://127.0.0.1:15002`, or `local[2]` for a local session).
    engine: Literal["duckdb", "spark"] = "duckdb"
    spark_remote: str = "local[2]"
    # Limits on each governed query (docs/security.md).
    query_timeout_seconds: float = Field(default=30.0, gt=0)
    query_memory_limit: str = "1GB"
    query_threads: int = Field(default=2, ge=1)
    query_max_result_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    query_max_sql_depth: int = Field(default=200, ge=10)
    # The web UI's sign-in sessions (docs/web.md): ended after this long without a
    # request, and this long after sign-in whatever happens.
    web_session_idle_minutes: float = Field(default=30.0, gt=0)
    web_session_max_hours: float = Field(default=12.0, gt=0)
    # Trust `X-Forwarded-Proto` (a TLS-terminating proxy in front): Secure cookies and
    # https redirect URIs. Off: only a request that itself came over https counts.
    web_trust_proxy: bool = False
    # "Sign in with OIDC": the client registered at `oidc_issuer` (default client id:
    # `oidc_audience`, so that ID tokens pass the same verifier as bearer JWTs).
    web_oidc_client_id: str | None = None
    web_oidc_client_secret: str | None = None
    web_oidc_scopes: list[str] = Field(
        default_factory=lambda: ["openid", "email", "profile", "groups"]
    )
    # `steward scan` (docs/scan.md), `[scan]` in steward.toml: the organisation's own
    # domains, and the operator's gitleaks config and baseline. Never read from the
    # scanned tree.
    scan_internal_domains: list[str] = Field(default_factory=list)
    scan_allowed_email_domains: list[str] = Field(default_factory=list)
    scan_config: Path | None = None
    scan_baseline: Path | None = None

    @field_validator("oidc_algorithms")
    @classmethod
    def _asymmetric_algorithms_only(cls, value: list[str]) -> list[str]:
        # A shared-secret algorithm next to a public JWKS is the HS/RS confusion attack:
        # the public key would become an HMAC secret anyone can sign with.
        if not value:
            raise ConfigError("oidc_algorithms: name at least one algorithm, e.g. ['RS256']")
        for name in value:
            if name not in OIDC_ALGORITHMS:
                raise ConfigError(
                    f"oidc_algorithms: {name!r} is not accepted; only asymmetric algorithms "
                    f"are: {', '.join(OIDC_ALGORITHMS)}"
                )
        return value

    @model_validator(mode="after")
    def _oidc_is_complete(self) -> Settings:
        if self.oidc_jwks_url and self.oidc_jwks_file:
            raise ConfigError("oidc_jwks_url, oidc_jwks_file: set one of them, not both")
        if (self.oidc_jwks_url or self.oidc_jwks_file) and not self.oidc_issuer:
            raise ConfigError("oidc_issuer: must be set when a JWKS is configured")
        if self.oidc_enabled and not self.oidc_audience:
            raise ConfigError(
                "oidc_audience: must be set when OIDC is on (the client id tokens are issued for)"
            )
        return self

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
    def oidc_enabled(self) -> bool:
        """True when bearer JWTs are accepted: an issuer and its keys (URL or file) are set."""
        return bool(self.oidc_issuer and (self.oidc_jwks_url or self.oidc_jwks_file))

    @property
    def is_embedded(self) -> bool:
        """True when the store is the SQLite file under `home`."""
        return not self.database_url


# `STEWARD_*` variables that are not settings: the CLI's server and token, and the
# test suite's own (tests/postgres.py and others).
OTHER_VARIABLES = frozenset({"STEWARD_URL", "STEWARD_TOKEN"})
OTHER_PREFIXES = ("STEWARD_TEST_",)


def misspelt_variables(environ: Mapping[str, str]) -> list[str]:
    """`STEWARD_*` variables that are no setting but so close to one that they must be a
    typo (`STEWARD_DATABSE_URL`), each as "NAME: did you mean STEWARD_SETTING?"."""
    names = [f"STEWARD_{field.upper()}" for field in Settings.model_fields]
    found = []
    for name in sorted(environ):
        if not name.startswith("STEWARD_") or name in names or name in OTHER_VARIABLES:
            continue
        if name.startswith(OTHER_PREFIXES):
            continue
        # A high bar: only an unambiguous misspelling is an error, not any other variable.
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.9)
        if close:
            found.append(f"{name}: did you mean {close[0]}?")
    return found


def load_settings(**overrides: Any) -> Settings:
    """Read settings once, turning validation errors into a `ConfigError` that names the
    key, and refusing an environment variable that misspells a setting."""
    misspelt = misspelt_variables(os.environ)
    if misspelt:
        raise ConfigError(f"environment: unknown setting {'; '.join(misspelt)}")
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from exc
