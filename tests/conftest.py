"""Fixtures: a real `Steward` on a temporary SQLite file or a fresh PostgreSQL database."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from steward.api import create_app
from steward.app import Steward
from steward.config import SQLITE_FILE_NAME, Settings
from steward.engines.base import Engine
from steward.identity.tokens import create_token
from steward.store import open_store
from steward.store.private import make_private_dir, make_private_sqlite_file
from tests.postgres import find_server, new_database

pytest_plugins = ["tests.airflow_env", "tests.dbt_env", "tests.engines.spark_server"]


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """An admin URL and a migrated template database to copy for each test."""
    url, server, reason = find_server()
    if url is None:
        pytest.skip(reason)
    with new_database(url, "steward_template") as template_url:
        store = open_store(template_url)
        store.upgrade()
        store.dispose()
        yield f"{url}|{sa.make_url(template_url).database}"
    if server is not None:
        server.stop()


@pytest.fixture
def empty_database() -> Iterator[str]:
    """A new, empty (unmigrated) PostgreSQL database, dropped afterwards; skipped without one."""
    url, server, reason = find_server()
    if url is None:
        pytest.skip(reason)
    with new_database(url, "steward_empty") as database_url:
        yield database_url
    if server is not None:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | None]:
    """None for the embedded SQLite default, else a fresh, migrated PostgreSQL database."""
    if request.param == "sqlite":
        yield None
        return
    admin_url, template = request.getfixturevalue("postgres_template").split("|")
    with new_database(admin_url, "steward_test", template=template) as url:
        yield url


# The engines that governed-query and quality tests run on (`engine_name`); another
# engine joins by adding its name here, as a `pytest.param` marked to skip where it
# cannot run.
ENGINES: list[Any] = ["duckdb", pytest.param("spark", marks=pytest.mark.spark)]


@pytest.fixture(params=ENGINES)
def engine_name(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The name of the engine a test runs on; modules that test engines build their
    `settings` with it (see tests/query/conftest.py). Spark is the session's server
    (`tests/engines/spark_server.py`), given as `STEWARD_SPARK_REMOTE`."""
    if request.param == "spark":
        monkeypatch.setenv("STEWARD_SPARK_REMOTE", request.getfixturevalue("spark_remote"))
    return str(request.param)


# What makes a test slow: a Spark session or Spark Connect server, a real dbt or Airflow
# run (each in its own venv), a browser, a shop served for a browser, a live `steward
# serve` (`server`; each over ~10 s here), and a PostgreSQL database made for the test
# (seconds of set-up and tear-down per case, on every store test). A test using any of
# these is marked `slow`, so `pytest -m "not slow" -n auto` is the fast suite: SQLite and
# DuckDB only. The whole flows of tests/e2e (servers and CLIs in subprocesses) are slow
# too, and so is any other case over ~2 s on an idle machine (marked by hand: several
# `steward` commands in subprocesses, a live server started in the test, a long property
# run). `pytest -n auto` (CI) runs them all.
SLOW_FIXTURES = frozenset(
    {
        "spark_remote",
        "spark_local",
        "dbt_bin",
        "airflow_bin",
        "browser",
        "page",
        "shop",
        "server",
        "postgres_template",
        "empty_database",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Cases marked `engines(...)` run on those engines only (DuckDB's own syntax, an
    engine's own table names); on the others they are skipped, saying so. Cases marked
    `broken_on(engine, reason=...)` are expected to fail on that engine until fixed
    (strictly: a fix makes them fail as XPASS, so the mark is removed with it), or
    skipped with the reason when marked `run=False`. Cases on Spark, or using one of
    `SLOW_FIXTURES`, are marked `slow`."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        callspec = getattr(item, "callspec", None)
        on_postgres = callspec is not None and callspec.params.get("database_url") == "postgresql"
        whole_flow = "e2e" in item.path.relative_to(Path(__file__).parent).parts
        if (
            item.get_closest_marker("spark") is not None
            or fixtures & SLOW_FIXTURES
            or on_postgres
            or whole_flow
        ):
            item.add_marker(pytest.mark.slow)
    for item in items:
        marker = item.get_closest_marker("engines")
        callspec = getattr(item, "callspec", None)
        if marker is None or callspec is None or "engine_name" not in callspec.params:
            continue
        if callspec.params["engine_name"] not in marker.args:
            only = ", ".join(marker.args)
            item.add_marker(pytest.mark.skip(reason=f"this case is written for {only} only"))
    for item in items:
        broken = item.get_closest_marker("broken_on")
        callspec = getattr(item, "callspec", None)
        if broken is None or callspec is None or "engine_name" not in callspec.params:
            continue
        if callspec.params["engine_name"] == broken.args[0]:
            reason = broken.kwargs["reason"]
            # A property test's failure report cannot run under -W error (see
            # filterwarnings in pyproject.toml): such a case is skipped instead.
            known = pytest.mark.xfail(strict=True, reason=reason)
            item.add_marker(known if broken.kwargs.get("run", True) else pytest.mark.skip(reason))


@pytest.fixture
def engine(steward: Steward) -> Engine:
    """The engine the test's `Steward` is configured with."""
    return steward.engine


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:
    return Settings(home=tmp_path / "home", database_url=database_url)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An embedded store migrated once per session: each test's store starts as a copy of it,
    as PostgreSQL's start as copies of `postgres_template`. Migrating an empty store is
    tested in tests/store/test_store.py; this keeps ~0.1 s of Alembic off every other test."""
    home = tmp_path_factory.mktemp("sqlite-template") / "home"
    instance = Steward(Settings(home=home))
    instance.upgrade()
    instance.close()
    return home / SQLITE_FILE_NAME


@pytest.fixture
def steward(settings: Settings, request: pytest.FixtureRequest) -> Iterator[Steward]:
    if settings.is_embedded and not (settings.home / SQLITE_FILE_NAME).exists():
        copy = make_private_sqlite_file(make_private_dir(settings.home) / SQLITE_FILE_NAME)
        with (
            closing(sqlite3.connect(request.getfixturevalue("sqlite_template"))) as source,
            closing(sqlite3.connect(copy)) as target,
        ):
            source.backup(target)
    instance = Steward(settings)
    instance.upgrade()
    yield instance
    instance.close()


@pytest.fixture
def admin_token(steward: Steward) -> str:
    return create_token(steward.store, user="admin", is_admin=True).secret


@pytest.fixture
def client(steward: Steward, admin_token: str) -> Iterator[TestClient]:
    """An in-process HTTP client authenticated as an admin."""
    with TestClient(create_app(steward), raise_server_exceptions=True) as http:
        http.headers["Authorization"] = f"Bearer {admin_token}"
        yield http


@pytest.fixture
def anonymous(steward: Steward) -> Iterator[TestClient]:
    """An in-process HTTP client with no credentials."""
    with TestClient(create_app(steward), raise_server_exceptions=True) as http:
        yield http
