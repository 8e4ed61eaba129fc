"""Jupyter notebooks read as the text their cells hold, line for line.

A notebook is JSON: a cell's line `token = "ghp_..."` is stored as the string
`"token = \\"ghp_...\\"\\n"`, so a rule expecting a quote before the token sees a
backslash, and a `\\n` sticks to the token's end. Each JSON string on a line is decoded in
place: the line count stays the same (a decoded newline or other control character
becomes a space), so a finding's line is the line of the `.ipynb` file. Columns count in
the decoded line. The same decoding applies to a notebook's lines in history and in
`--staged`, where only added lines are at hand, which is why it decodes escapes where
they stand rather than parsing the whole document.
"""

from __future__ import annotations

import re

NOTEBOOK_SUFFIX = ".ipynb"
# A JSON escape: a surrogate pair, another \uXXXX, or a one-character escape. Outside its
# strings JSON holds no backslash, so decoding every escape on a line decodes its strings
# in place, without finding where each string starts and ends.
JSON_ESCAPE = re.compile(
    r"\\(?:u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})"
    r'|u([0-9a-fA-F]{4})|(["\\/bfnrt]))'
)
# One-character escapes; the control characters become spaces so lines and columns stay put.
SIMPLE_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": " ", "f": " ", "n": " ", "r": " ", "t": " "}
CONTROL_AS_SPACE = {n: " " for n in range(32)}


def is_notebook(path: str) -> bool:
    """True for a path named like a Jupyter notebook."""
    return path.lower().endswith(NOTEBOOK_SUFFIX)


def notebook_text(text: str) -> str:
    """`text` (lines of a notebook, joined by "\\n") with the JSON escapes in its strings
    decoded in place; an escape JSON does not define (`\\x`) is left as it is. No escape
    spans a line, so the text is decoded whole and its lines stay where they were."""
    if "\\" not in text:  # nothing escaped: decoding would change nothing
        return text
    return JSON_ESCAPE.sub(_unescape, text)


def _unescape(escape: re.Match[str]) -> str:
    high, low, code, simple = escape.groups()
    if simple is not None:
        return SIMPLE_ESCAPES[simple]
    if high is not None:
        return chr(0x10000 + ((int(high, 16) - 0xD800) << 10) + (int(low, 16) - 0xDC00))
    value = int(code, 16)
    if 0xD800 <= value <= 0xDFFF:  # a lone surrogate cannot be printed or encoded
        return "?"
    return chr(value).translate(CONTROL_AS_SPACE)
