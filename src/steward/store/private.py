"""Folders and files only their owner can open: Steward's home, its SQLite store, the lake.

The store holds token hashes and the audit log, the lake holds the data policies protect;
neither is for other accounts on the machine, whatever the umask says.
"""

from __future__ import annotations

import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
# SQLite's companions of a database file in WAL mode (and the rollback journal), and
# the writers' cross-process lock file (`Store`).
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal", "-writer.lock")


def make_private_dir(path: Path) -> Path:
    """Create `path` (and missing parents) if needed, and make it owner-only (0700)."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o777 != DIR_MODE:
        path.chmod(DIR_MODE)
    return path


def make_private_sqlite_file(path: Path) -> Path:
    """Create the SQLite file `path` empty if missing, and make it and its companions 0600.

    SQLite gives the `-wal` and `-shm` files it creates the mode of the database file, so a
    private database keeps private companions; existing ones are fixed here too.
    """
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    os.close(descriptor)
    for candidate in (path, *(Path(f"{path}{suffix}") for suffix in SQLITE_COMPANIONS)):
        if candidate.exists() and candidate.stat().st_mode & 0o777 != FILE_MODE:
            candidate.chmod(FILE_MODE)
    return path
