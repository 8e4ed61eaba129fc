"""Every ```python example in docs/ runs as written, in a fresh home.

A block runs unless the line above its fence says why not
(`<!-- snippet: not run: REASON -->`); `<!-- snippet: after FILE -->` runs FILE's examples
first in the same home (an example that builds on another page's). Each block runs with
its own fresh globals (one interpreter for a block and those it comes after, to pay the
imports once), so a name one block uses must be defined in it: what a reader copies is
what runs.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
_MARKER = re.compile(r"^<!-- snippet: (not run: (?P<reason>.+?)|after (?P<after>\S+)) -->$")


@dataclass(frozen=True)
class Snippet:
    """One ```python block of a doc."""

    doc: Path
    line: int  # of the opening fence, 1-based
    code: str
    skip_reason: str | None
    after: str | None

    @property
    def name(self) -> str:
        doc = self.doc.relative_to(ROOT) if self.doc.is_relative_to(ROOT) else self.doc
        return f"{doc}:{self.line}"


def snippets(doc: Path) -> list[Snippet]:
    """The ```python blocks of a Markdown file, with their markers."""
    lines = doc.read_text(encoding="utf-8").splitlines()
    found: list[Snippet] = []
    index = 0
    while index < len(lines):
        if lines[index].strip() == "```python":
            end = next(i for i in range(index + 1, len(lines)) if lines[i].strip() == "```")
            marker = _MARKER.match(lines[index - 1].strip()) if index else None
            found.append(
                Snippet(
                    doc,
                    index + 1,
                    "\n".join(lines[index + 1 : end]) + "\n",
                    marker.group("reason") if marker else None,
                    marker.group("after") if marker else None,
                )
            )
            index = end
        index += 1
    return found


ALL = [s for doc in sorted(DOCS.rglob("*.md")) for s in snippets(doc)]


# Runs each block it is given in order, each with fresh globals, naming the failing one.
_RUNNER = """
import json, sys, traceback
for name, code in json.load(sys.stdin):
    try:
        exec(compile(code, name, "exec"), {"__name__": "__main__"})
    except BaseException:
        traceback.print_exc()
        sys.exit(f"{name} failed")
"""


def run(snippets: list[Snippet], home: Path) -> None:
    """Run blocks in order in a new interpreter whose home (and Steward's) is `home`."""
    env = {
        **os.environ,
        "HOME": str(home),
        "STEWARD_HOME": str(home / ".steward"),
        "PYTHONPATH": str(ROOT / "src"),
    }
    env.pop("STEWARD_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", _RUNNER],
        input=json.dumps([(s.name, s.code) for s in snippets]),
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.mark.parametrize("snippet", ALL, ids=[s.name for s in ALL])
def test_doc_example_runs(snippet: Snippet, tmp_path: Path) -> None:
    if snippet.skip_reason:
        pytest.skip(f"not run: {snippet.skip_reason}")
    earlier = snippets(DOCS / snippet.after) if snippet.after else []
    run([*(s for s in earlier if not s.skip_reason), snippet], tmp_path)


def test_examples_are_found_and_most_run() -> None:
    runnable = [s for s in ALL if not s.skip_reason]
    assert len(runnable) >= 5
    assert len(runnable) > len(ALL) - len(runnable)


def test_an_example_with_an_undefined_name_fails(tmp_path: Path) -> None:
    doc = tmp_path / "page.md"
    doc.write_text("Try:\n\n```python\nprint(new_rows)\n```\n")
    (found,) = snippets(doc)
    with pytest.raises(AssertionError, match="NameError: name 'new_rows' is not defined"):
        run([Snippet(doc, found.line, found.code, None, None)], tmp_path)
