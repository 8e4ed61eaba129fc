"""Every `steward ...` command in the docs' shell blocks exists, with the options it is
given: the command line's own parser is asked, not a list."""

from __future__ import annotations

import functools
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer

from steward.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
DOCS = [*sorted(ROOT.glob("*.md")), *sorted((ROOT / "docs").rglob("*.md"))]
_FENCE = re.compile(r"^```(\w*)\s*$")
_ENDS = {"|", ">", ">>", "&&", "||", ";", "2>&1"}


def commands(doc: Path) -> list[tuple[int, list[str]]]:
    """`steward` command lines of the shell blocks of a doc: (line number, arguments)."""
    found: list[tuple[int, list[str]]] = []
    fenced = shell = False
    pending, start = "", 0
    for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
        fence = _FENCE.match(line.strip())
        if fence:
            fenced = not fenced
            shell = fenced and fence.group(1) in ("sh", "bash", "console", "")
            pending = ""
            continue
        if not shell:
            continue
        if not pending:
            start = number
        pending += line.rstrip().removesuffix("\\") + " "
        if line.rstrip().endswith("\\"):
            continue
        try:
            words = shlex.split(pending.strip().removeprefix("$ "), comments=True)
        except ValueError:  # a quotation that goes on on the next line
            continue
        pending = ""
        for at, word in enumerate(words):
            if word == "steward" and (at == 0 or words[at - 1] in _ENDS):
                rest = words[at + 1 :]
                end = next((i for i, w in enumerate(rest) if w in _ENDS), len(rest))
                found.append((start, rest[:end]))
    return found


@functools.cache
def _root() -> Any:
    """The `steward` command tree, built once (Typer builds it anew on every call)."""
    return typer.main.get_command(app)


def check(arguments: list[str]) -> str | None:
    """What is wrong with `steward ARGUMENTS` (an unknown command or option), or None."""
    # Typer may carry its own copy of click: groups are told by their `commands`.
    command: Any = _root()
    index = 0
    while hasattr(command, "commands") and index < len(arguments):
        if arguments[index].startswith("-"):  # the group's own options: `steward --help`
            break
        sub = command.commands.get(arguments[index])
        if sub is None:
            return f"no command {' '.join(arguments[: index + 1])!r}"
        command, index = sub, index + 1
    if hasattr(command, "commands") and arguments[index:] != ["--help"]:
        return f"{' '.join(arguments)!r} is a group, not a command"
    options = {name for param in command.params for name in (*param.opts, *param.secondary_opts)}
    options.add("--help")
    for word in arguments[index:]:
        name = word.split("=", 1)[0]
        if name.startswith("-") and name not in options:
            return f"{' '.join(arguments[:index])!r} has no option {name}"
    return None


CASES = [(doc, number, args) for doc in DOCS if doc.is_file() for number, args in commands(doc)]


@pytest.mark.parametrize(
    ("doc", "number", "arguments"),
    CASES,
    ids=[f"{d.relative_to(ROOT)}:{n}" for d, n, _ in CASES],
)
def test_documented_command_exists(doc: Path, number: int, arguments: list[str]) -> None:
    assert check(arguments) is None, f"{doc.relative_to(ROOT)}:{number}: {check(arguments)}"


def test_every_runbook_has_commands() -> None:
    for doc in (ROOT / "docs/runbooks").glob("*.md"):
        if doc.name != "README.md":
            assert len(commands(doc)) >= 4, doc.name


def test_a_wrong_command_or_option_is_named() -> None:
    assert check(["lineage", "upstream", "x", "--depth", "all"]) is None
    assert check(["lineage", "upstreams", "x"]) == "no command 'lineage upstreams'"
    assert check(["audit", "log", "--users", "ann"]) == "'audit log' has no option --users"


def test_commands_are_read_from_shell_blocks_only(tmp_path: Path) -> None:
    doc = tmp_path / "page.md"
    doc.write_text(
        "```python\nsteward = 1\n```\n\n```sh\nsteward audit verify  # ok\n```\n\n"
        "```yaml\nsteward: x\n```\n\n```sh\necho x | steward lineage send - \\\n  --url u\n```\n"
    )
    assert commands(doc) == [(6, ["audit", "verify"]), (14, ["lineage", "send", "-", "--url", "u"])]
