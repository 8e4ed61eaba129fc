"""One Spark Connect server for the whole test session, bound to 127.0.0.1, stopped at the end.

Started by `steward.engines.spark_server.LocalServer` (what `spark_remote = "local[2]"`
runs too) from the installed `pyspark` (the `spark` extra, part of `dev`) with Java 17.
A test asking for `spark_remote` is skipped, saying why, where Java or pyspark is missing;
`STEWARD_TEST_SPARK_REMOTE` points the tests at a server started elsewhere instead
(another Spark, or Sail). Registered for every test by `tests/conftest.py`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from steward.engines.spark_server import LocalServer
from steward.errors import SourceError


def spark_missing() -> str | None:
    """Why Spark cannot run here, or None when it can."""
    if shutil.which("java") is None:
        return "Java is not installed; Spark needs Java 17 (apt-get install openjdk-17-jre)"
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed; pip install -e '.[dev]' brings it"
    return None


@pytest.fixture(scope="session")
def spark_remote() -> Iterator[str]:
    """The Spark Connect URL of the session's server (`sc://127.0.0.1:<port>`)."""
    given = os.environ.get("STEWARD_TEST_SPARK_REMOTE")
    if given:
        yield given
        return
    reason = spark_missing()
    if reason is not None:
        pytest.skip(reason)
    server = LocalServer("local[2]")
    try:
        server.start()
    except SourceError as exc:
        pytest.fail(str(exc))
    try:
        yield server.remote
    finally:
        server.stop()


@pytest.fixture(scope="session")
def spark_local() -> str:
    """`local[2]`: a server Steward starts itself beside it (needs Java and the full pyspark)."""
    reason = spark_missing()
    if reason is not None:
        pytest.skip(reason)
    return "local[2]"
