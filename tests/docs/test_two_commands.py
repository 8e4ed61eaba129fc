"""The README starts with the two commands that set up a fresh machine, and CI runs the
second of them: what a newcomer runs to test is what CI runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def first_shell_block(markdown: str) -> list[str]:
    """The commands of the first ```sh block, without their comments."""
    block = re.search(r"```sh\n(.*?)```", markdown, re.S)
    assert block is not None, "README.md has no ```sh block"
    lines = [line.split("#", 1)[0].strip() for line in block.group(1).splitlines()]
    return [line for line in lines if line]


def ci_commands(script: str) -> list[str]:
    """The commands `.ci/run` runs (not comments, not shell set-up)."""
    lines = [line.strip() for line in script.splitlines()]
    return [
        line
        for line in lines
        if line and not line.startswith(("#", "set ", "cd ")) and not line.startswith("#!")
    ]


def test_the_readme_starts_with_serve_and_test_and_ci_runs_the_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    commands = first_shell_block(readme)
    assert len(commands) == 2, commands
    assert "steward demo --serve" in commands[0]
    assert ci_commands((ROOT / ".ci" / "run").read_text()) == [commands[1]]
    # The README's first block comes before any other section.
    assert readme.index("```sh") < readme.index("\n## ")


def test_a_ci_script_that_runs_something_else_is_caught() -> None:
    script = "#!/usr/bin/env bash\nset -euo pipefail\ncd x\npip install -e '.[dev]' && pytest -x\n"
    assert ci_commands(script) == ["pip install -e '.[dev]' && pytest -x"]
