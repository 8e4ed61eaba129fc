"""Notebooks are read as their cells' text: tokens inside JSON-escaped strings are found,
on the line of the `.ipynb` file they are on, in a tree, in history and in archives."""

from __future__ import annotations

import json
from pathlib import Path

from steward.scan.engine import compile_rules, scan_chunks
from steward.scan.models import Rule
from steward.scan.notebooks import notebook_text
from steward.scan.targets import directory_chunks, history_chunks
from tests.scan.conftest import commit

# A rule that needs the quotes around the value, as most assignment rules do: in the raw
# JSON the quote is preceded by a backslash and the rule cannot match.
QUOTED = Rule(
    id="quoted-api-key",
    description="api_key assigned a quoted value",
    kind="secret",
    regex=r'api_key\s*=\s*"([A-Za-z0-9]{20,})"',
    secret_group=1,
    keywords=("api_key",),
)
KEY = "Zq8vR2mN9kLp4Tx7Wb3Y"


def notebook(cells: list[list[str]]) -> str:
    """A notebook as Jupyter writes it: indented JSON, one source line per string."""
    document = {
        "cells": [
            {"cell_type": "code", "metadata": {}, "outputs": [], "source": source}
            for source in cells
        ],
        "metadata": {"kernelspec": {"name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(document, indent=1) + "\n"


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.split("\n"), 1) if needle in line)


def test_a_key_in_a_json_escaped_cell_is_found_on_its_file_line(tmp_path: Path) -> None:
    text = notebook(
        [
            ["import os\n", "print('hello')\n"],
            ["client = Client()\n", f'api_key = "{KEY}"\n', "client.connect()\n"],
        ]
    )
    (tmp_path / "analysis.ipynb").write_text(text)
    # The same content as plain JSON (not a notebook) is not decoded: the rule misses it.
    (tmp_path / "analysis.json").write_text(text)
    found = list(scan_chunks(compile_rules([QUOTED]), directory_chunks(tmp_path)))
    assert [(f.path, f.line) for f in found] == [("analysis.ipynb", line_of(text, "api_key"))]


def test_a_notebook_added_in_history_is_decoded_too(leaky_repo: tuple[Path, str]) -> None:
    repo, _ = leaky_repo
    text = notebook([["x = 1\n"], [f'api_key = "{KEY}"\n']])
    (repo / "nb.ipynb").write_text(text)
    added = commit(repo, "notebook")
    found = list(scan_chunks(compile_rules([QUOTED]), history_chunks(repo)))
    assert [(f.path, f.line, f.commit) for f in found] == [
        ("nb.ipynb", line_of(text, "api_key"), added)
    ]


def test_decoding_keeps_lines_and_leaves_what_json_does_not_define() -> None:
    assert notebook_text('   "a = \\"b\\"\\n",') == '   "a = "b" ",'
    assert notebook_text('"\\u0041\\t\\u00e9"') == '"A é"'
    assert notebook_text('"lone \\ud800 surrogate"') == '"lone ? surrogate"'
    assert notebook_text('"bad \\x escape"') == '"bad \\x escape"'
    assert notebook_text('"smile \\ud83d\\ude00 \\\\n"') == '"smile \U0001f600 \\n"'
    assert notebook_text('"a\\nb",\n"c\\rd"') == '"a b",\n"c d"'
    assert notebook_text("no strings here") == "no strings here"
