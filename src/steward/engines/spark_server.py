"""A Spark Connect server on this machine, for `spark_remote = "local[N]"` and for the tests.

`local[N]` runs Spark beside Steward rather than inside it: the installed `pyspark` (the
full one, which ships the Spark Connect server's jar) starts `SparkConnectServer` with
master `local[N]` under Java 17, bound to 127.0.0.1 on a free port
(`SPARK_LOCAL_IP=127.0.0.1`, so Spark neither looks the host's name up nor listens
elsewhere), and Steward talks to it over Spark Connect like to any server. One client
code path for both; the JVM's memory is its own process's (`spark.driver.memory`), and
a crash there cannot take Steward down. Stopping the server stops its JVM.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from steward.errors import ConfigError, SourceError

SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"


class LocalServer:
    """A Spark Connect server process with master `master`, listening on 127.0.0.1."""

    def __init__(self, master: str, *, memory: str = "1g", start_seconds: float = 180.0) -> None:
        self.master = master
        self.memory = memory
        self.start_seconds = start_seconds
        self.port = 0
        self.log = Path(tempfile.mkstemp(prefix="steward-spark-", suffix=".log")[1])
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def remote(self) -> str:
        """The server's Spark Connect URL."""
        return f"sc://127.0.0.1:{self.port}"

    def start(self) -> str:
        """Start the server and wait until it listens; its Spark Connect URL."""
        home = spark_home()
        self.port = _free_port()
        env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1"}
        with self.log.open("wb") as out:
            # spark-submit of the installed pyspark; its own process group, so that stopping
            # it stops the JVM spark-submit starts.
            self._process = subprocess.Popen(  # noqa: S603
                self._command(home),
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_until_listening()
        return self.remote

    def _command(self, home: Path) -> list[str]:
        conf = {
            "spark.connect.grpc.binding.address": "127.0.0.1",
            "spark.connect.grpc.binding.port": str(self.port),
            "spark.driver.bindAddress": "127.0.0.1",
            "spark.driver.memory": self.memory,
            "spark.ui.enabled": "false",
        }
        options = [part for key, value in conf.items() for part in ("--conf", f"{key}={value}")]
        return [
            str(home / "bin" / "spark-submit"),
            *("--class", SERVER_CLASS, "--master", self.master),
            *options,
            "spark-internal",
        ]

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + self.start_seconds
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                raise SourceError(f"engine: the local Spark server exited: {self.tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise SourceError(
            f"engine: the local Spark server did not listen within {self.start_seconds:g} s:"
            f" {self.tail()}"
        )

    def tail(self) -> str:
        """The end of the server's log, for an error message."""
        return self.log.read_text(errors="replace")[-1500:]

    def stop(self) -> None:
        """Stop the server and its JVM, and remove its log."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.log.unlink(missing_ok=True)


def spark_home() -> Path:
    """Where the installed pyspark keeps Spark (its `bin/spark-submit` and jars)."""
    try:
        import pyspark
    except ImportError:
        raise ConfigError(
            "engine: spark needs pyspark; install it with pip install 'data-steward[spark]'"
        ) from None
    home = Path(pyspark.__file__).parent
    if not (home / "bin" / "spark-submit").exists():
        raise ConfigError(
            "engine: spark_remote local[N] needs the full pyspark (with Spark's jars), not"
            " pyspark-client; install it with pip install 'data-steward[spark]'"
        )
    return home


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
