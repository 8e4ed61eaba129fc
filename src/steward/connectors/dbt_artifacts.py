"""Reading a dbt target directory: manifest.json, catalog.json, run_results.json, profiles.yml.

Only `manifest.json` is required. `catalog.json` (from `dbt docs generate`) adds the
warehouse's column types; `run_results.json` (from `dbt build` or `dbt test`) adds test
statuses. The warehouse's OpenLineage namespace is derived the way `dbt-ol` derives it:
from the profile `dbt` ran with, found through the `args` that run_results.json records.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from steward.errors import SourceError

MANIFEST = "manifest.json"
CATALOG = "catalog.json"
RUN_RESULTS = "run_results.json"
# What run_results.json says of a test that ran; `success` is what `dbt compile` and
# `dbt docs generate` record for a test they only compiled, so it is no test outcome.
TEST_STATUSES = frozenset({"pass", "fail", "warn", "error", "skipped"})

# `{{ env_var('NAME') }}` or `{{ env_var('NAME', 'default') }}`, optionally piped through a
# filter such as `as_number`: the only Jinja that profiles.yml files commonly hold.
_ENV_VAR = re.compile(
    r"""\{\{\s*env_var\(\s*(['"])(?P<name>[^'"]+)\1\s*"""
    r"""(?:,\s*(['"])(?P<default>[^'"]*)\3\s*)?\)\s*(?:\|\s*\w+\s*)?\}\}"""
)


@dataclass(frozen=True)
class Artifacts:
    """The parts of one dbt target directory that the connector reads."""

    manifest: Mapping[str, Any]
    catalog_nodes: Mapping[str, Mapping[str, Any]]  # unique_id -> catalog entry (nodes + sources)
    test_statuses: Mapping[str, str]  # test unique_id -> pass | fail | warn | error | skipped
    run_args: Mapping[str, Any]  # the `args` of the dbt invocation that wrote run_results.json

    @property
    def project_name(self) -> str:
        """The dbt project's name (`name:` in dbt_project.yml)."""
        return str(self.manifest.get("metadata", {}).get("project_name") or "dbt")

    @property
    def adapter_type(self) -> str | None:
        """The warehouse adapter dbt built with: duckdb, postgres, snowflake ..."""
        adapter = self.manifest.get("metadata", {}).get("adapter_type")
        return str(adapter) if adapter else None


def read_json(path: Path) -> Mapping[str, Any] | None:
    """The JSON object in `path`; None when there is no such file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SourceError(f"{path}: cannot be read: {exc.strerror or exc}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(data, dict):
        raise SourceError(f"{path}: expected a JSON object, found {type(data).__name__}")
    return data


def section(document: Mapping[str, Any], key: str, path: Path) -> Mapping[str, Any]:
    """`document[key]`, an object of objects, or a SourceError naming the file and key."""
    value = document.get(key, {})
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise SourceError(f"{path}: `{key}` is not an object of objects")
    return value


def read_artifacts(manifest_path: Path, catalog_path: Path, results_path: Path) -> Artifacts:
    """Read the three artifacts; only the manifest must exist."""
    manifest = read_json(manifest_path)
    if manifest is None:
        raise SourceError(f"{manifest_path}: not found (run `dbt build` or `dbt compile`)")
    if "nodes" not in manifest or "metadata" not in manifest:
        raise SourceError(f"{manifest_path}: not a dbt manifest (no `nodes` or `metadata`)")
    if not isinstance(manifest["metadata"], dict):
        raise SourceError(f"{manifest_path}: `metadata` is not an object")
    for key in ("nodes", "sources", "exposures", "groups"):
        section(manifest, key, manifest_path)

    catalog_nodes: dict[str, Mapping[str, Any]] = {}
    catalog = read_json(catalog_path)
    if catalog is not None:
        for key in ("nodes", "sources"):
            for unique_id, entry in section(catalog, key, catalog_path).items():
                if not isinstance(entry.get("columns", {}), dict):
                    raise SourceError(f"{catalog_path}: {key}.{unique_id}.columns is not an object")
                catalog_nodes[unique_id] = entry

    statuses: dict[str, str] = {}
    run_args: Mapping[str, Any] = {}
    results = read_json(results_path)
    if results is not None:
        entries = results.get("results", [])
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise SourceError(f"{results_path}: `results` is not a list of objects")
        for entry in entries:
            unique_id, status = entry.get("unique_id"), entry.get("status")
            tested = isinstance(unique_id, str) and unique_id.startswith("test.")
            if tested and isinstance(status, str) and status.lower() in TEST_STATUSES:
                statuses[str(unique_id)] = status.lower()
        args = results.get("args", {})
        run_args = args if isinstance(args, dict) else {}
    return Artifacts(manifest, catalog_nodes, statuses, run_args)


def derive_namespace(
    artifacts: Artifacts, *, target: Path, profiles_dir: Path | None
) -> tuple[str, str]:
    """The warehouse's OpenLineage namespace as `dbt-ol` would name it, and where it came from.

    Reads the profile and target `dbt` ran with from profiles.yml, rendering `env_var()`
    from this process's environment. When no usable profile is found the namespace is
    the adapter type alone (`duckdb`), which matches no `dbt-ol` event: set `namespace`.
    """
    adapter = artifacts.adapter_type or "dbt"
    output = _profile_output(artifacts, target=target, profiles_dir=profiles_dir)
    if output is not None:
        namespace = namespace_from_profile(adapter, output)
        if namespace is not None:
            return namespace, "profiles.yml"
    return adapter, "adapter type"


def namespace_from_profile(adapter: str, output: Mapping[str, Any]) -> str | None:
    """The namespace `dbt-ol` gives a profile output of this adapter (None: not known here)."""
    try:
        if adapter == "duckdb":
            return f"duckdb://{output['path']}"
        if adapter in ("postgres", "redshift", "trino", "presto", "clickhouse"):
            return f"{adapter}://{output['host']}:{output['port']}"
        if adapter == "bigquery":
            return "bigquery"
        if adapter == "databricks":
            return f"databricks://{output['host']}"
        if adapter == "sqlserver":
            return f"mssql://{output['server']}:{output['port']}"
    except KeyError:
        return None
    return None


def _profile_output(
    artifacts: Artifacts, *, target: Path, profiles_dir: Path | None
) -> Mapping[str, Any] | None:
    """The profiles.yml output dbt used, rendered; None when it cannot be found or rendered."""
    import yaml

    args = artifacts.run_args
    ran_in = _ran_in(args, target)
    project_dir = _run_dir(args.get("project_dir"), ran_in) or target.parent
    candidates = [
        profiles_dir,
        _run_dir(args.get("profiles_dir"), ran_in),
        project_dir,
        Path(os.environ["DBT_PROFILES_DIR"]) if os.environ.get("DBT_PROFILES_DIR") else None,
        Path.home() / ".dbt",
    ]
    profiles: Any = None
    for directory in candidates:
        if directory is not None and (directory / "profiles.yml").is_file():
            try:
                profiles = yaml.safe_load((directory / "profiles.yml").read_text("utf-8"))
            except (OSError, yaml.YAMLError):
                return None
            break
    if not isinstance(profiles, dict):
        return None
    profile = profiles.get(_profile_name(project_dir, profiles) or "")
    if not isinstance(profile, dict) or not isinstance(profile.get("outputs"), dict):
        return None
    output = profile["outputs"].get(args.get("target") or _render(profile.get("target")))
    if not isinstance(output, dict):
        return None
    rendered = {key: _render(value) for key, value in output.items()}
    return None if any(value is _MISSING for value in rendered.values()) else rendered


def _profile_name(project_dir: Path, profiles: Mapping[str, Any]) -> str | None:
    """The `profile:` of dbt_project.yml, else the only profile profiles.yml has."""
    import yaml

    try:
        project = yaml.safe_load((project_dir / "dbt_project.yml").read_text("utf-8"))
    except (OSError, yaml.YAMLError):
        project = None
    if isinstance(project, dict) and isinstance(project.get("profile"), str):
        return str(project["profile"])
    names = [name for name in profiles if name != "config"]
    return names[0] if len(names) == 1 else None


def _ran_in(args: Mapping[str, Any], target: Path) -> Path:
    """The directory dbt ran in, inferred from the target directory being `{project_dir}/target`.

    dbt records `--project-dir` and `--profiles-dir` as given, so relative ones are
    relative to that directory.
    """
    project_dir = target.parent
    recorded = args.get("project_dir")
    if not isinstance(recorded, str) or not recorded or Path(recorded).is_absolute():
        return project_dir
    parts = Path(os.path.normpath(recorded)).parts
    if parts == (".",):
        return project_dir
    if project_dir.parts[-len(parts) :] == parts:
        return Path(*project_dir.parts[: -len(parts)])
    return project_dir


def _run_dir(recorded: object, ran_in: Path) -> Path | None:
    """A directory run_results.json recorded, resolved against where dbt ran."""
    if not isinstance(recorded, str) or not recorded:
        return None
    return ran_in / Path(recorded).expanduser()


class _Missing:
    """An `env_var()` whose variable is unset and has no default."""


_MISSING = _Missing()


def _render(value: object) -> object:
    """`value` with `{{ env_var(...) }}` replaced from the environment (`_MISSING` if unset)."""
    if not isinstance(value, str) or "{{" not in value:
        return value
    missing = False

    def substitute(match: re.Match[str]) -> str:
        nonlocal missing
        found = os.environ.get(match["name"], match["default"])
        if found is None:
            missing = True
            return ""
        return found

    rendered = _ENV_VAR.sub(substitute, value)
    if missing or "{{" in rendered:
        return _MISSING
    return int(rendered) if rendered.isdigit() else rendered
