"""A fresh venv installs the built wheel, runs `steward demo`, serves it, and the README
tour's commands run verbatim in a shell against it.

The venv sees the system's site-packages (`--system-site-packages`), so Steward's
dependencies are not downloaded again; the wheel itself is installed into the venv, and
the test checks that the `steward` it runs is the venv's, importing the wheel's code.
The build runs in pip's isolated build environment, as a release build does.
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.demo.tour import (
    EXPECTED,
    README,
    asks_the_server,
    expected_for,
    never_for,
    tour_commands,
)

REPO = README.parent


def run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload, no-any-return]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_built_wheel_runs_the_demo_and_the_readme_tour(tmp_path: Path) -> None:
    built = run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(REPO),
        ],
        timeout=600,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("data_steward-*.whl")

    clean = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
    clean.pop("PYTHONPATH", None)  # the wheel's code, not a source tree's
    venv = tmp_path / "venv"
    made = run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], timeout=300)
    assert made.returncode == 0, made.stderr
    python, bin_dir = venv / "bin" / "python", venv / "bin"
    installed = run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", str(wheel)],
        timeout=300,
        env=clean,
    )
    assert installed.returncode == 0, installed.stderr
    where = run([str(python), "-c", "import steward.demo; print(steward.demo.__file__)"], env=clean)
    assert where.stdout.strip().startswith(str(venv)), where.stdout + where.stderr

    user_home = tmp_path / "user"
    user_home.mkdir()
    env = dict(clean)
    port = free_port()
    env.update(
        HOME=str(user_home),
        PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        STEWARD_URL=f"http://127.0.0.1:{port}",
        COLUMNS="250",
    )
    demo = run([str(bin_dir / "steward"), "demo"], env=env, cwd=tmp_path, timeout=600)
    assert demo.returncode == 0, demo.stderr
    assert "things to try" in demo.stdout
    assert "platform admin" in demo.stdout

    server = subprocess.Popen(
        [str(bin_dir / "steward"), "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/health")
        # The UI's pages and assets come from the wheel, with no network beyond loopback.
        login = httpx.get(f"http://127.0.0.1:{port}/login", timeout=10)
        assert login.status_code == 200
        assert "<form" in login.text
        assert (
            httpx.get(f"http://127.0.0.1:{port}/static/steward.css", timeout=10).status_code == 200
        )
        _run_tour(env)
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_for(url: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"{url} did not answer"
        time.sleep(0.2)


def _run_tour(env: dict[str, str]) -> None:
    checked: set[tuple[str, str]] = set()
    for command in tour_commands():
        exported = command.export
        if exported is not None:
            # `export NAME=$(...)` as a shell runs it; the next commands see NAME.
            shell = f'{command.text} && printf %s "${exported[0]}"'
            done = run(["bash", "-c", shell], env=env, cwd=REPO, timeout=120)
            assert done.returncode == 0, f"{command.text}: {done.stderr}"
            env[exported[0]] = done.stdout.strip().splitlines()[-1]
            continue
        own = dict(env)
        if not asks_the_server(shlex.split(command.text)[1:]):
            own.pop("STEWARD_URL", None)
        done = run(["bash", "-c", command.text], env=own, cwd=REPO, timeout=300)
        output = done.stdout + done.stderr
        assert done.returncode == command.exit_code, f"{command.text}:\n{output}"
        for text in expected_for(command):
            assert text in output, f"{command.text}: {text!r} not in\n{output}"
            checked.update((start, t) for start, t in EXPECTED if t == text)
        for text in never_for(command):
            assert text not in output, f"{command.text}: {text!r} shown\n{output}"
    assert checked == set(EXPECTED)
