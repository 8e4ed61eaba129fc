"""The README's tour, command by command, in this process against a server on loopback.

The commands are read from README.md (tests/demo/tour.py) and run as written: `~` is the
test's HOME, whose `.steward` holds the demo; the server listens on a free port, which
STEWARD_URL names (the tour's commands rely on the default URL otherwise). The slow twin,
tests/demo/test_wheel.py, runs the same lines in a shell from an installed wheel.
"""

from __future__ import annotations

import os
import shlex
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from steward.app import Steward
from steward.cli.main import app
from steward.config import Settings
from steward.errors import StewardError
from tests.demo.conftest import BuiltDemo
from tests.demo.tour import (
    EXPECTED,
    README,
    asks_the_server,
    expected_for,
    never_for,
    tour_commands,
)

REPO = README.parent


@pytest.fixture
def served_demo(built_demo: BuiltDemo) -> Iterator[str]:
    """The demo home served by uvicorn in a thread: its URL."""
    import socket

    import uvicorn

    from steward.api import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    steward = Steward(Settings(home=built_demo.home))
    server = uvicorn.Server(
        uvicorn.Config(create_app(steward), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    assert httpx.get(f"{url}/health").status_code == 200
    yield url
    server.should_exit = True
    thread.join(timeout=10)
    steward.close()


def run_in_process(text: str) -> tuple[int, str]:
    """`steward ...` as written, through the CLI's app: (exit code, output)."""
    words = [os.path.expanduser(w) if w.startswith("~") else w for w in shlex.split(text)]
    assert words[0] == "steward", f"the tour runs only steward commands here: {text!r}"
    # A reader's shell has no STEWARD_URL: commands that can only ask a server use their
    # default URL (here the test's server, given as STEWARD_URL), and commands that read the
    # local store unless given --url read it.
    env = {} if asks_the_server(words[1:]) else {"STEWARD_URL": None}
    result = CliRunner().invoke(app, words[1:], env=env)
    if isinstance(result.exception, StewardError):
        # `main()` prints the message and exits with the error's code.
        return result.exception.exit_code, result.output + result.exception.message
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


@pytest.mark.slow
def test_every_tour_command_works_on_the_demo(
    built_demo: BuiltDemo, served_demo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith("STEWARD_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(built_demo.user_home))
    monkeypatch.setenv("STEWARD_URL", served_demo)
    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.chdir(REPO)
    commands = tour_commands()
    assert len(commands) >= 10
    checked: set[tuple[str, str]] = set()
    for command in commands:
        exported = command.export
        if exported is not None:
            code, output = run_in_process(exported[1])
            assert code == 0, f"{command.text}: {output}"
            monkeypatch.setenv(exported[0], output.strip().splitlines()[-1])
            continue
        code, output = run_in_process(command.text)
        assert code == command.exit_code, f"{command.text} exited {code}:\n{output}"
        for text in expected_for(command):
            assert text in output, f"{command.text}: {text!r} not in\n{output}"
            checked.update((start, text) for start, t in EXPECTED if t == text)
        for text in never_for(command):
            assert text not in output, f"{command.text}: {text!r} shown\n{output}"
    assert checked == set(EXPECTED), "a part of the demo the tour should show is missing"


def test_the_tour_reads_its_example_files_from_the_repository() -> None:
    for command in tour_commands():
        for word in shlex.split(command.text):
            if word.startswith("examples/"):
                assert (REPO / word).is_file(), f"{command.text}: {word} is missing"
                assert Path(REPO / word).resolve().is_relative_to(REPO / "src" / "steward" / "demo")
