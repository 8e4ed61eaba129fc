"""The lineage normaliser as a process beside `steward serve`, restarted if it dies."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import threading

from rich.console import Console

_RESTART_SECONDS = 1.0
_READY_SECONDS = 15.0


class NormaliserProcess:
    """`steward lineage normalise --follow` in a child process, kept running.

    The child stops by itself when this process is gone (even after a kill -9), so a
    restarted server never finds an orphan building the graph beside its own.
    """

    def __init__(self) -> None:
        self._child: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._watch = threading.Thread(target=self._keep_running, daemon=True)

    @property
    def pid(self) -> int | None:
        """The child's process id, None before it started."""
        return self._child.pid if self._child else None

    def start(self) -> None:
        """Start the child, wait until it follows the raw log (so that a consistent read
        just after the server starts does not wait for the child's start-up), and start
        the thread that restarts it."""
        self._spawn()
        assert self._child is not None
        assert self._child.stdout is not None
        # "following" (or the end of the pipe if it died); a slow start-up delays the
        # server by at most _READY_SECONDS, then reads wait for it as for any backlog.
        ready, _, _ = select.select([self._child.stdout], [], [], _READY_SECONDS)
        if ready:
            self._child.stdout.readline()
        self._watch.start()

    def _spawn(self) -> None:
        args = ["lineage", "normalise", "--follow", "--parent", str(os.getpid())]
        # Our own interpreter and fixed arguments: no input reaches this command line.
        self._child = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "steward.cli", *args], stdout=subprocess.PIPE
        )

    def _keep_running(self) -> None:
        while not self._stopping.is_set():
            assert self._child is not None
            code = self._child.wait()
            if self._child.stdout is not None:
                self._child.stdout.close()
            if self._stopping.wait(_RESTART_SECONDS):
                return
            Console(stderr=True).print(
                f"lineage normaliser (process {self._child.pid}) ended with {code}; restarting"
            )
            self._spawn()

    def stop(self) -> None:
        """Stop the child (what it applied is committed; the rest waits for the next)."""
        self._stopping.set()
        if self._child is not None and self._child.poll() is None:
            self._child.terminate()
            try:
                self._child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._child.kill()
