"""The README's tour, read from README.md between `<!-- tour:start -->` and `<!-- tour:end -->`.

Each line of its `sh` blocks is one command, as a reader would paste it; a trailing
comment saying `exits N` is the exit code the command is meant to have (0 otherwise).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
START, END = "<!-- tour:start -->", "<!-- tour:end -->"
EXPORT = re.compile(r"^export (?P<name>[A-Z_]+)=\$\((?P<command>[^)]*)\)$")

# What a reader checks in each command's output: (words the command starts with, text).
# Every entry must match a tour command, so the tour keeps showing each part of the demo.
EXPECTED = (
    ("steward catalog show lake.crm.users", "pii.email"),
    ("steward search commits", "lake.marts.commits_by_country"),
    ("steward lineage upstream 'job:superset:engineering_dashboard'", "flink-jobs:ingest_commits"),
    ("steward lineage upstream 'job:superset:engineering_dashboard'", "kafka://"),
    ("steward lineage column lake.marts.commits_by_country.country", "crm/users.country"),
    ("steward policy validate", "2 row filters"),
    ("steward policy explain lake.crm.users", "region = 'EU'"),
    ('steward query "SELECT name, email, region', "a****@example.com"),
    ('steward query "SELECT author_email', "nothing grants select on lake.git.commits"),
    ("steward audit log --decision denied", "denied"),
    ("steward quality run", "pass"),
    ("steward publish lake.sales.orders --branch audit", "blocked"),
    ("steward schema check lake.git.commits", "BREAKS"),
    ("steward lineage check lake.marts.commits_by_country", "unfiltered-read"),
    ("steward evidence lake.marts.commits_by_country", "violation"),
    ("steward audit verify --evidence", "statements match the records"),
    ("steward scan", "github-token"),
)
# What must never show: the analyst's query returns no clear email, no row outside the EU.
NEVER = (('steward query "SELECT name, email, region', ("ada@example.com", "Grace Park")),)


@dataclass(frozen=True)
class TourCommand:
    """One line of the tour: the shell text, and the exit code it is meant to have."""

    text: str
    exit_code: int

    @property
    def export(self) -> tuple[str, str] | None:
        """(NAME, command) for `export NAME=$(command)`, else None."""
        found = EXPORT.match(self.text)
        return (found["name"], found["command"]) if found else None

    def argv(self) -> list[str]:
        """The words of a plain command (`~` left for the caller to expand)."""
        return shlex.split(self.text)


def tour_commands(readme: Path = README) -> list[TourCommand]:
    """The tour's commands, in order."""
    text = readme.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise AssertionError(f"{readme}: the tour markers {START} / {END} are missing")
    tour = text[text.index(START) : text.index(END)]
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", tour, flags=re.DOTALL):
        for line in block.splitlines():
            if not line.strip():
                continue
            comment = re.search(r"\s+#\s.*$", line)
            written = line[: comment.start()] if comment else line.rstrip()
            code = re.search(r"exits (\d+)", comment[0]) if comment else None
            assert written.strip(), f"tour line {line!r} holds no command"
            commands.append(TourCommand(written.strip(), int(code[1]) if code else 0))
    return commands


def expected_for(command: TourCommand) -> list[str]:
    """The texts a reader checks in this command's output."""
    return [text for start, text in EXPECTED if command.text.startswith(start)]


def never_for(command: TourCommand) -> list[str]:
    """Texts this command must not print."""
    return [text for start, texts in NEVER if command.text.startswith(start) for text in texts]


def asks_the_server(words: list[str]) -> bool:
    """Whether the `steward` command `words` (without `steward`) can only ask a server: its
    `--url` has a default. A reader's shell has no STEWARD_URL, so the tests give theirs
    only to these commands; the others read the local store, as the reader's do."""
    import typer.main

    from steward.cli.main import app

    command = typer.main.get_command(app)
    for word in words:
        subcommands = getattr(command, "commands", {})
        if word not in subcommands:
            break
        command = subcommands[word]
    return any(p.name == "url" and p.default for p in command.params)
