"""A real PostgreSQL server for the suite: `STEWARD_TEST_DATABASE_URL`, else the local server
on 127.0.0.1:5432, else one the suite starts from the PostgreSQL binaries on this machine."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

LOCAL_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _reachable(url: str) -> bool:
    try:
        engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def _binaries() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TemporaryServer:
    """A throwaway cluster in a temporary folder, listening on loopback only."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.dir = Path(tempfile.mkdtemp(prefix="steward-pg-"))
        self.port = _free_port()
        user = []
        if os.geteuid() == 0:
            # initdb refuses to run as root; run the cluster as an unprivileged user.
            shutil.chown(self.dir, "postgres")
            user = ["runuser", "-u", "postgres", "--"]
        self.user = user
        data = self.dir / "data"
        subprocess.run(
            [*user, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [
                *user,
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(self.dir / "log"),
                "-w",
                "-o",
                f"-h 127.0.0.1 -p {self.port} -k {self.dir}",
                "start",
            ],
            check=True,
            capture_output=True,
        )
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        for _ in range(50):
            if _reachable(self.url):
                break
            time.sleep(0.1)

    def stop(self) -> None:
        subprocess.run(
            [
                *self.user,
                str(self.bin_dir / "pg_ctl"),
                "-D",
                str(self.dir / "data"),
                "-m",
                "fast",
                "stop",
            ],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(self.dir, ignore_errors=True)


def find_server() -> tuple[str | None, TemporaryServer | None, str]:
    """(admin URL, server to stop afterwards, reason when there is none)."""
    url = os.environ.get("STEWARD_TEST_DATABASE_URL")
    if url:
        return url, None, ""
    if _reachable(LOCAL_URL):
        return LOCAL_URL, None, ""
    bin_dir = _binaries()
    if bin_dir is None:
        return (
            None,
            None,
            (
                "no PostgreSQL: STEWARD_TEST_DATABASE_URL is unset, nothing answers on"
                " 127.0.0.1:5432 and no initdb binary is installed"
            ),
        )
    try:
        server = TemporaryServer(bin_dir)
    except (OSError, subprocess.CalledProcessError) as exc:
        return None, None, f"could not start a PostgreSQL server from {bin_dir}: {exc}"
    return server.url, server, ""


@contextmanager
def new_database(admin_url: str, prefix: str, *, template: str | None = None) -> Iterator[str]:
    """A database made for the block (a copy of `template`, else empty): its URL; then dropped."""
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"{copy}'))
    try:
        yield sa.make_url(admin_url).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
