"""The demo's dbt step for real: `dbt-ol run` of the dbt project shipped in `files/dbt`.

When `dbt-ol` and `dbt` are on PATH (dbt-core with dbt-duckdb and openlineage-dbt), the
demo copies its dbt project into the home and runs it. The project reads the demo's
Iceberg tables `lake.git.commits` and `lake.crm.users` as DuckDB views over the data files
of their current snapshots (passed in `--vars`), and writes `commits_by_country` as one
Parquet file inside the Iceberg mart's data folder, which the demo then commits as the
mart's new snapshot: the mart's rows are dbt's.

dbt-ol names a table by the DuckDB relation dbt reads or builds; the lake, the Flink
job and Steward's catalog name it by its Iceberg location. The project's openlineage.yml
wraps dbt-ol's file transport in OpenLineage's `transform` transport with the project's
`steward_lake_names.LakeNames`, which gives each lake table its Iceberg identity and keeps
dbt-ol's DuckDB name as a `symlinks` identifier. The demo stores the events as dbt-ol
wrote them, through Steward's ingest, as the dbt job's service principal (`steward demo`
runs no server for dbt-ol's HTTP transport to reach).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson

from steward.errors import StewardError

# What the dbt project reads, and the table its model builds: catalog names.
READS = ("lake.git.commits", "lake.crm.users")
MART = "lake.marts.commits_by_country"
PROJECT = "dbt"  # the project's folder in the home and in the package's files
DATABASE_FILE = "lake.duckdb"  # its stem is the database name: lake.git.commits ...
EVENTS_FILE = "openlineage-events.ndjson"
TIMEOUT = 300  # seconds; a cold dbt start takes ~8 s idle, tens of seconds when loaded


@dataclass(frozen=True)
class DbtRun:
    """What a real `dbt-ol run` gave: its events as dbt-ol wrote them, and how long it took."""

    events: list[dict[str, Any]]
    namespace: str
    seconds: float
    dbt_ol: Path


def find_dbt_ol() -> Path | None:
    """`dbt-ol` on PATH, when `dbt` is there too (dbt-ol runs it); else None."""
    dbt_ol, dbt = shutil.which("dbt-ol"), shutil.which("dbt")
    return Path(dbt_ol) if dbt_ol and dbt else None


def dbt_namespace(home: Path) -> str:
    """The OpenLineage namespace dbt-ol gives the demo's DuckDB database (its profile's path)."""
    return f"duckdb://{Path(home).resolve() / PROJECT / DATABASE_FILE}"


class DbtRunFailed(StewardError):
    """`dbt-ol run` of the demo's project did not build the mart or write its events."""


def run_dbt_ol(home: Path, dbt_ol: Path) -> DbtRun:
    """Run the demo's dbt project with `dbt-ol run` in `home`, commit the mart dbt built
    as the Iceberg mart's new snapshot, and return the events dbt-ol wrote.

    dbt's output goes to `home/dbt/dbt-ol.log`. Raises `DbtRunFailed`, naming what went
    wrong, when dbt fails or leaves no mart or no events; the lake is then unchanged.
    """
    from steward.connectors.iceberg import lake_catalog

    started = time.perf_counter()
    project = _fresh_project(Path(home).resolve())
    events_file = project / EVENTS_FILE
    catalog = lake_catalog(home)
    try:
        _configure_openlineage(project, events_file, home, catalog)
        mart = catalog.load_table(MART.removeprefix("lake."))
        mart_uri = f"{mart.location().rstrip('/')}/data/dbt-{uuid.uuid4()}.parquet"
        mart_file = _local_path(mart_uri)
        variables = {
            "lake_files": {name: _data_files(catalog, name) for name in READS},
            "mart_file": str(mart_file),
        }
        try:
            _run(dbt_ol, project, variables)
            text = events_file.read_bytes() if events_file.is_file() else b""
            events = [orjson.loads(line) for line in text.splitlines() if line.strip()]
            if not events:
                raise DbtRunFailed(f"{dbt_ol} run wrote no OpenLineage events to {events_file}")
            if not mart_file.is_file():
                raise DbtRunFailed(f"{dbt_ol} run wrote no {mart_file}")
        except DbtRunFailed:
            mart_file.unlink(missing_ok=True)
            raise
        _replace_rows(mart, mart_uri)
    finally:
        catalog.close()
    return DbtRun(
        events=events,
        namespace=dbt_namespace(home),
        seconds=time.perf_counter() - started,
        dbt_ol=dbt_ol,
    )


def _configure_openlineage(project: Path, events_file: Path, home: Path, catalog: Any) -> None:
    """dbt-ol's openlineage.yml: the lake's names for its tables, written to `events_file`."""
    from steward.connectors.iceberg import location_identity

    tables = {}
    for name in (*READS, MART):
        identity = location_identity(catalog.load_table(name.removeprefix("lake.")).location())
        tables[name] = [identity.namespace, identity.name]
    config = {
        "transport": {
            "type": "transform",
            "transformer_class": "steward_lake_names.LakeNames",
            "transformer_properties": {"namespace": dbt_namespace(home), "tables": tables},
            "transport": {"type": "file", "log_file_path": str(events_file), "append": True},
        }
    }
    # JSON is YAML.
    (project / "openlineage.yml").write_text(json.dumps(config, indent=2), encoding="utf-8")


def _fresh_project(home: Path) -> Path:
    """The shipped project copied to `home/dbt` (what an earlier run left is replaced)."""
    project = home / PROJECT
    shutil.rmtree(project, ignore_errors=True)
    _copy(files("steward.demo").joinpath("files", PROJECT), project)
    return project


def _copy(shipped: Traversable, to: Path) -> None:
    # Package data is a Traversable, not always a folder on disk (and Python 3.11's
    # `as_file` takes no folders).
    to.mkdir(parents=True, exist_ok=True)
    for item in shipped.iterdir():
        if item.is_dir():
            _copy(item, to / item.name)
        else:
            (to / item.name).write_bytes(item.read_bytes())


def _run(dbt_ol: Path, project: Path, variables: Mapping[str, Any]) -> None:
    env = {
        **os.environ,
        "STEWARD_DEMO_DUCKDB": str(project / DATABASE_FILE),
        "OPENLINEAGE_CONFIG": str(project / "openlineage.yml"),
        # Where openlineage.yml's transformer is.
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(project), os.environ.get("PYTHONPATH", "")) if p
        ),
        # The job namespace that `lineage.JOB_PRINCIPALS` maps to the dbt service principal.
        "OPENLINEAGE_NAMESPACE": "dbt",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    for key in ("OPENLINEAGE_URL", "OPENLINEAGE_API_KEY", "OPENLINEAGE_DISABLED"):
        env.pop(key, None)  # the file transport above, whatever the caller's shell sets
    command = [
        str(dbt_ol),
        "run",
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
        "--vars",
        json.dumps(variables),
    ]
    log = project / "dbt-ol.log"
    try:
        with log.open("w", encoding="utf-8") as output:
            done = subprocess.run(  # noqa: S603 - dbt-ol from PATH, a fixed argument list, no shell
                command,
                cwd=project,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                timeout=TIMEOUT,
                check=False,
            )
    except subprocess.TimeoutExpired:
        raise DbtRunFailed(f"{dbt_ol} run did not finish in {TIMEOUT} s (see {log})") from None
    except OSError as exc:
        raise DbtRunFailed(f"{dbt_ol} could not be run: {exc}") from None
    if done.returncode != 0:
        raise DbtRunFailed(f"{dbt_ol} run failed with exit code {done.returncode} (see {log})")


def _local_path(location: str) -> Path:
    """A `file:` location of the embedded lake as the path pyiceberg reads and writes.

    Not percent-decoded: pyiceberg's file IO takes the path of its locations as written,
    so a home `it's here` holds its tables under `it%27s%20here`.
    """
    parts = urlsplit(location)
    if parts.scheme not in ("", "file"):
        raise StewardError(f"demo: expected a local lake, got the location {location}")
    return Path(parts.path)


def _data_files(catalog: Any, name: str) -> list[str]:
    """The data files of table `name`'s current snapshot, as paths DuckDB reads."""
    table = catalog.load_table(name.removeprefix("lake."))
    return sorted(str(_local_path(task.file.file_path)) for task in table.scan().plan_files())


def _replace_rows(mart: Any, mart_uri: str) -> None:
    """Make the file dbt wrote the mart's only data file."""
    from pyiceberg.expressions import AlwaysTrue

    with mart.transaction() as change:
        change.delete(AlwaysTrue())
        change.add_files([mart_uri])
