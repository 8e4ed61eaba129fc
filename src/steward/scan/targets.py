"""What the scanner reads: the files under a directory, or every added line in git history."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from steward.errors import InvalidInput
from steward.scan.models import Line

# git's own test for a binary file: a NUL byte in the first 8000 bytes.
BINARY_SNIFF_BYTES = 8000
COMMIT_MARKER = "\x00commit "


def is_binary(data: bytes) -> bool:
    """True for data git would call binary (a NUL byte near the start)."""
    return b"\0" in data[:BINARY_SNIFF_BYTES]


def directory_lines(root: Path) -> Iterator[Line]:
    """Every line of every text file under `root`, skipping `.git` and binary files.

    Files that are not valid UTF-8 are read with replacement characters rather than
    skipped: a Latin-1 config file can hold a password too. Symbolic links are not
    followed, so the walk stays inside `root`. Paths are relative, with `/`.
    """
    if not root.is_dir():
        raise InvalidInput(f"path: {root} is not a directory")
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = sorted(d for d in subdirectories if d != ".git")
        for name in sorted(files):
            path = Path(directory, name)
            if path.is_symlink() or not path.is_file():
                continue
            yield from file_lines(path, path.relative_to(root).as_posix())


def file_lines(path: Path, shown_as: str) -> Iterator[Line]:
    """The lines of one file, named `shown_as`; nothing for a binary or unreadable file."""
    try:
        data = path.read_bytes()
    except OSError:
        return
    if is_binary(data):
        return
    text = data.decode("utf-8", errors="replace")
    # Split on "\n" only, as git and editors count lines: str.splitlines would also
    # break at form feeds and U+2028 and put findings on the wrong line.
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    for number, line in enumerate(lines, 1):
        yield Line(shown_as, number, line.removesuffix("\r"))


def history_lines(repository: Path) -> Iterator[Line]:
    """Every line added by every commit reachable from any ref, with its commit and path.

    Streamed from one `git log -p` without checking anything out. Merge commits show no
    diff (what they bring in was added by their parents, which are scanned); deleted
    files and binary diffs add no lines.
    """
    command = [
        "git",
        "-c",
        "core.quotePath=false",
        "-C",
        str(repository),
        "log",
        "-p",
        "--all",
        "--unified=0",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        "--no-renames",
        "--format=%x00commit %H",  # COMMIT_MARKER, then the commit's full hash
    ]
    # git's messages go to a file, not a pipe: a pipe nobody reads while stdout is
    # streamed would stall git once it filled.
    with tempfile.TemporaryFile() as errors:
        try:
            # A fixed argument list, no shell: the repository path is one argument to -C.
            process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors)  # noqa: S603
        except OSError as exc:
            raise InvalidInput(f"history: cannot run git: {exc}") from exc
        with process:
            stdout = process.stdout
            if stdout is None:  # never: Popen with stdout=PIPE sets it; this narrows the type
                raise InvalidInput("history: git log gave no output stream")
            yield from parse_log(line.decode("utf-8", errors="replace") for line in stdout)
        if process.returncode != 0:
            errors.seek(0)
            message = errors.read().decode(errors="replace").strip()
            raise InvalidInput(f"history: git log failed in {repository}: {message}")


def parse_log(output: Iterator[str]) -> Iterator[Line]:
    """The added lines in `git log -p --unified=0` output whose commits start with
    `COMMIT_MARKER`. A `+++ ` line is a file header only between `diff --git` and the
    first hunk: inside a hunk it is an added line that begins with `++`."""
    commit: str | None = None
    path: str | None = None
    number = 0
    in_header = False
    for raw in output:
        text = raw.rstrip("\n").removesuffix("\r")
        if text.startswith(COMMIT_MARKER):
            commit = text[len(COMMIT_MARKER) :].strip()
            path, in_header = None, False
        elif text.startswith("diff --git "):
            path, in_header = None, True
        elif in_header and text.startswith("+++ "):
            # git ends the name with a tab when it holds a space, so the end is unambiguous.
            target = unquote_path(text[4:].removesuffix("\t"))
            path = target[2:] if target.startswith("b/") else None
        elif text.startswith("@@ "):
            in_header = False
            number = _new_start(text)
        elif not in_header and path is not None and text.startswith("+"):
            yield Line(path, number, text[1:], commit)
            number += 1


C_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


def unquote_path(name: str) -> str:
    """A path as git prints it in a diff header: C-quoted (`"b/a\\"b.env"`, octal escapes
    for bytes of UTF-8) when it holds a quote, a backslash or a control character, even
    with `core.quotePath=false`."""
    if not (len(name) >= 2 and name.startswith('"') and name.endswith('"')):
        return name
    out = bytearray()
    body, n = name[1:-1], 0
    while n < len(body):
        char = body[n]
        if char != "\\" or n + 1 == len(body):
            out += char.encode()
            n += 1
        elif body[n + 1] in C_ESCAPES:
            out.append(C_ESCAPES[body[n + 1]])
            n += 2
        elif len(octal := body[n + 1 : n + 4]) == 3 and set(octal) <= set("01234567"):
            out.append(int(octal, 8) & 0xFF)
            n += 4
        else:  # not an escape git writes; keep the backslash as it stands
            out += b"\\"
            n += 1
    return out.decode("utf-8", errors="replace")


def _new_start(hunk_header: str) -> int:
    # "@@ -12,3 +14,5 @@ context": the new side starts at line 14.
    new_side = hunk_header.split(" ")[2]
    return int(new_side[1:].split(",")[0])
