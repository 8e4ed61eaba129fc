"""Jupyter notebooks read as the text their cells hold, line for line.

A notebook is JSON: a cell's line `token = "ghp_..."` is stored as the string
`"token = \\"ghp_...\\"\\n"`, so a rule expecting a quote before the token sees a
backslash, and a `\\n` sticks to the token's end. Each JSON string on a line is decoded in
place: the line count stays the same (a decoded newline or other control character
becomes a space), so a finding's line is the line of the `.ipynb` file. Columns count in
the decoded line. The same decoding applies to a notebook's lines in history and in
`--staged`, where only added lines are at hand, which is why it works line by line
rather than parsing the whole document.
"""

from __future__ import annotations

import json
import re

NOTEBOOK_SUFFIX = ".ipynb"
# A JSON string literal on one line: a quote, then non-quote characters or escapes.
JSON_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
# Control characters a decoded string may hold, as spaces (so lines and columns stay put).
CONTROL_AS_SPACE = {n: " " for n in range(32)}


def is_notebook(path: str) -> bool:
    """True for a path named like a Jupyter notebook."""
    return path.lower().endswith(NOTEBOOK_SUFFIX)


def notebook_text(text: str) -> str:
    """`text` (lines of a notebook, joined by "\\n") with every JSON string decoded in place."""
    return "\n".join(decode_line(line) for line in text.split("\n"))


def decode_line(line: str) -> str:
    """One line with each JSON string literal on it decoded; the line as it was where a
    literal does not decode."""
    if "\\" not in line:  # nothing escaped: decoding would change nothing
        return line
    return JSON_STRING.sub(_decoded, line)


def _decoded(literal: re.Match[str]) -> str:
    source = literal.group(0)
    if "\\" not in source:
        return source
    try:
        value: str = json.loads(source)  # a JSON string literal decodes to a str
    except ValueError:  # a malformed escape: keep the raw text
        return source
    # A lone surrogate (`\\ud800`) decodes but cannot be printed or encoded: "?" for it.
    printable = value.encode("utf-8", errors="replace").decode("utf-8")
    return '"' + printable.translate(CONTROL_AS_SPACE) + '"'
