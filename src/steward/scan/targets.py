"""What the scanner reads, as chunks of consecutive lines: the files under a directory
(archives and notebooks read as their text), every line added in git history, or the
lines staged in git's index."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from pathlib import Path

from steward.errors import InvalidInput
from steward.scan.archives import archive_members, is_archive
from steward.scan.models import Chunk, Notice
from steward.scan.notebooks import is_notebook, notebook_text

# git's output is read in blocks of this many bytes.
GIT_BLOCK_BYTES = 1 << 20
# git's own test for a binary file: a NUL byte in the first 8000 bytes.
BINARY_SNIFF_BYTES = 8000
COMMIT_MARKER = b"\x00commit "
# Options every diff Steward reads is produced with: no colour, no external diff or
# textconv driver a repository could configure, no rename detection, no context lines.
DIFF_OPTIONS = ("--unified=0", "--no-color", "--no-ext-diff", "--no-textconv", "--no-renames")

NoticeSink = Callable[[Notice], None]


def _ignore_notice(notice: Notice) -> None:
    """The default sink: a caller that does not ask for notices does not get them."""


def is_binary(data: bytes) -> bool:
    """True for data git would call binary (a NUL byte near the start)."""
    return b"\0" in data[:BINARY_SNIFF_BYTES]


def directory_chunks(root: Path, *, notice: NoticeSink = _ignore_notice) -> Iterator[Chunk]:
    """Every text file under `root` as one chunk, skipping `.git` and binary files;
    archives yield one chunk per text member.

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
            yield from file_chunks(path, path.relative_to(root).as_posix(), notice=notice)


def file_chunks(
    path: Path, shown_as: str, *, notice: NoticeSink = _ignore_notice
) -> Iterator[Chunk]:
    """One file named `shown_as` as chunks: the file itself, or each text member of an
    archive; nothing for a binary or unreadable file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        notice(Notice(shown_as, f"not readable, not scanned: {exc.strerror}"))
        return
    if is_archive(shown_as):
        for member, content in archive_members(data, shown_as, notice):
            yield from content_chunks(member, content)
        return
    yield from content_chunks(shown_as, data)


def content_chunks(shown_as: str, data: bytes) -> Iterator[Chunk]:
    """The bytes of one file as its chunk, unless they are binary."""
    if is_binary(data):
        return
    # Split on "\n" only, as git and editors count lines: str.splitlines would also
    # break at form feeds and U+2028 and put findings on the wrong line.
    text = data.decode("utf-8", errors="replace").replace("\r\n", "\n").removesuffix("\n")
    yield Chunk(shown_as, notebook_text(text) if is_notebook(shown_as) else text)


def history_chunks(
    repository: Path, *, since: str | None = None, ref: str | None = None
) -> Iterator[Chunk]:
    """Every run of lines added by a commit reachable from any ref (with `ref`, from that
    one only), with its commit and path; with `since`, only commits not reachable from
    that commit (what came after it).

    Streamed from one `git log -p` without checking anything out. Merge commits show no
    diff (what they bring in was added by their parents, which are scanned); deleted
    files and binary diffs add no lines.
    """
    revisions = ["--all"] if ref is None else [resolve_commit(repository, ref, option="--ref")]
    if since is not None:
        revisions += ["--not", resolve_commit(repository, since)]
    log = [
        "log",
        "-p",
        *DIFF_OPTIONS,
        "--format=%x00commit %H",  # COMMIT_MARKER, then the commit's full hash
        *revisions,
    ]
    return parse_diff(run_git(repository, log, what="history: git log"))


def staged_chunks(repository: Path) -> Iterator[Chunk]:
    """The lines staged in git's index (what the next commit would add), as pre-commit
    sees them; paths are relative to the repository's root."""
    return parse_diff(
        run_git(repository, ["diff", "--cached", *DIFF_OPTIONS], what="--staged: git diff")
    )


def resolve_commit(repository: Path, revision: str, *, option: str = "--since") -> str:
    """The full hash `revision` names in `repository`, or `InvalidInput` naming it and
    the `option` it came from."""
    if revision.startswith("-"):
        raise InvalidInput(f"{option}: {revision!r} is not a commit")
    command = ["git", "-C", str(repository), "rev-parse", "--verify", "--quiet", "--end-of-options"]
    result = subprocess.run(  # noqa: S603 - a fixed argument list, no shell
        [*command, f"{revision}^{{commit}}"], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise InvalidInput(
            f"{option}: {revision!r} is not a commit of the repository at {repository}"
        )
    return result.stdout.strip()


def run_git(repository: Path, arguments: list[str], *, what: str) -> Iterator[bytes]:
    """What git prints for `arguments`, streamed in blocks of bytes (a line can span two
    blocks); `InvalidInput` naming `what` when git cannot run or fails."""
    command = ["git", "-c", "core.quotePath=false", "-C", str(repository), *arguments]
    # git's messages go to a file, not a pipe: a pipe nobody reads while stdout is
    # streamed would stall git once it filled.
    with tempfile.TemporaryFile() as errors:
        try:
            # A fixed argument list, no shell: the repository path is one argument to -C.
            process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors)  # noqa: S603
        except OSError as exc:
            raise InvalidInput(f"{what}: cannot run git: {exc}") from exc
        with process:
            stdout = process.stdout
            if stdout is None:  # never: Popen with stdout=PIPE sets it; this narrows the type
                raise InvalidInput(f"{what}: git gave no output stream")
            yield from iter(partial(stdout.read, GIT_BLOCK_BYTES), b"")
        if process.returncode != 0:
            errors.seek(0)
            message = errors.read().decode(errors="replace").strip()
            raise InvalidInput(f"{what} failed in {repository}: {message}")


def parse_diff(output: Iterable[bytes]) -> Iterator[Chunk]:
    """Each run of consecutive added lines in `git log -p` or `git diff` output (unified=0),
    given as blocks of bytes split anywhere, as one chunk, with its path, first line and
    the commit (after `COMMIT_MARKER`, if any).

    A regex over each block finds the runs of lines that are not added lines; only the
    few among them that are not removed lines (commit, `diff --git`, `@@` ...) are looked
    at one by one. A run of added lines is decoded as a whole. A `+++ ` line is a file
    header only between `diff --git` and the first hunk: inside a hunk it is an added line
    that begins with `++`.
    """
    diff = _DiffState()
    rest = b""
    for block in output:
        lines = rest + block
        end = lines.rfind(b"\n")
        if end < 0:
            rest = lines
            continue
        rest = lines[end + 1 :]
        yield from diff.read(b"\n" + lines[:end])
    if rest:
        yield from diff.read(b"\n" + rest)
    yield from diff.flush()


# In text where every line is preceded by "\n": a run of lines that are not added lines
# (headers, removed lines), the lines among them that move the state (not ---, +++, a
# removed line or "\\ No newline"), and a header's new path. Each starts with "\n",
# which the regex engine finds with a fast search rather than stepping through the text.
NOT_ADDED = re.compile(rb"\n(?!\+)[^\n]*(?:\n(?!\+)[^\n]*)*")
OTHER_LINE = re.compile(rb"\n(?![-+\\])([^\n]*)")
NEW_PATH_LINE = re.compile(rb"\n\+\+\+ ([^\n]*)")


class _DiffState:
    """Where a diff being read is: commit, file, header or hunk, and the added lines
    waiting for the run to end (a run can span two blocks)."""

    def __init__(self) -> None:
        self.commit: str | None = None
        self.path: str | None = None
        self.number = 0
        self.in_header = False
        self.added: list[bytes] = []

    def read(self, lines: bytes) -> Iterator[Chunk]:
        """The chunks that end in `lines`: complete lines, each preceded by "\\n"."""
        done = 0
        for others in NOT_ADDED.finditer(lines):
            self.plus_lines(lines[done : others.start()])
            yield from self.flush()
            for other in OTHER_LINE.finditer(others[0]):
                self.other_line(other[1].removesuffix(b"\r"))
            done = others.end()
        self.plus_lines(lines[done:])

    def plus_lines(self, lines: bytes) -> None:
        """A run of lines starting with `+`: a header's `+++` line, or added lines (which
        wait for the run to end, perhaps in the next block)."""
        if self.in_header:
            for new_path in NEW_PATH_LINE.finditer(lines):
                # git ends the name with a tab when it holds a space, so the end is unambiguous.
                name = new_path[1].removesuffix(b"\r").decode("utf-8", errors="replace")
                target = unquote_path(name.removesuffix("\t"))
                self.path = target[2:] if target.startswith("b/") else None
        elif lines and self.path is not None:
            self.added.append(lines)

    def other_line(self, line: bytes) -> None:
        """A commit, `diff --git` or `@@` line moves the state; others (index, mode,
        binary) do not."""
        if line.startswith(COMMIT_MARKER):
            self.commit = line[len(COMMIT_MARKER) :].strip().decode("utf-8", errors="replace")
            self.path, self.in_header = None, False
        elif line.startswith(b"diff --git "):
            self.path, self.in_header = None, True
        elif line.startswith(b"@@ "):
            self.in_header = False
            self.number = _new_start(line)

    def flush(self) -> Iterator[Chunk]:
        """The waiting run of added lines as one chunk."""
        if not self.added or self.path is None:
            return
        run = b"".join(self.added)
        self.added = []
        if b"\r" in run:  # CRLF lines: the "\\r" is not part of the line's text
            run = run.replace(b"\r\n", b"\n").removesuffix(b"\r")
        lines = run.replace(b"\n+", b"\n")  # each line loses its "+"
        text = lines[1:].decode("utf-8", errors="replace")
        yield _hunk_chunk(self.path, text, self.number, self.commit)
        self.number += len(run) - len(lines)


def _hunk_chunk(path: str, text: str, first_line: int, commit: str | None) -> Chunk:
    return Chunk(path, notebook_text(text) if is_notebook(path) else text, first_line, commit)


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


def _new_start(hunk_header: bytes) -> int:
    # "@@ -12,3 +14,5 @@ context": the new side starts at line 14.
    new_side = hunk_header.split(b" ")[2]
    return int(new_side[1:].split(b",")[0])
