"""Archives read as the text of their members: zip (jar, war, ear, whl), tar, tar.gz, .gz.

A member is named `archive.zip!member/path`, as gitleaks names it; an archive inside an
archive adds one more `!` (up to `MAX_DEPTH` levels). Decompression is bounded so a
zip bomb cannot exhaust memory or time: one archive (with everything nested in it) may
give at most `MAX_BYTES` of decompressed data and `MAX_MEMBERS` members; what is past
the caps is left unread and said in a notice, never silently.
"""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO

from steward.scan.models import Notice

MAX_BYTES = 256 * 1024 * 1024
MAX_MEMBERS = 10_000
MAX_DEPTH = 3
ZIP_SUFFIXES = (".zip", ".jar", ".war", ".ear", ".whl", ".nupkg")
TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
GZIP_SUFFIX = ".gz"


def is_archive(name: str) -> bool:
    """True for a file name Steward opens as an archive."""
    lowered = name.lower()
    return lowered.endswith(ZIP_SUFFIXES + TAR_SUFFIXES + (GZIP_SUFFIX,))


@dataclass
class _Budget:
    """What is left to read of one top-level archive; shared by its nested archives."""

    bytes_left: int
    members_left: int


class _Exhausted(Exception):
    """The archive's budget ran out: stop reading it."""


def archive_members(
    data: bytes,
    name: str,
    notice: Callable[[Notice], None],
    *,
    max_bytes: int = MAX_BYTES,
    max_members: int = MAX_MEMBERS,
) -> Iterator[tuple[str, bytes]]:
    """Every file inside the archive `data` (named `name`), as `(name!member, bytes)`,
    nested archives opened in place of being returned; reading stops, with a notice, past
    `max_bytes` decompressed or `max_members` members."""
    budget = _Budget(max_bytes, max_members)
    try:
        yield from _members(data, name, budget, notice, depth=1)
    except _Exhausted:
        notice(
            Notice(
                name,
                f"archive read only in part: past {max_bytes:,} bytes decompressed or "
                f"{max_members:,} members (a zip bomb?); the rest was not scanned",
            )
        )


def _members(
    data: bytes, name: str, budget: _Budget, notice: Callable[[Notice], None], *, depth: int
) -> Iterator[tuple[str, bytes]]:
    lowered = name.lower()
    try:
        if lowered.endswith(ZIP_SUFFIXES):
            members = _zip_members(data, budget)
        elif lowered.endswith(TAR_SUFFIXES):
            members = _tar_members(data, budget)
        else:
            members = _gzip_member(data, name, budget)
        for member, content in members:
            shown = f"{name}!{member}"
            if is_archive(member) and depth < MAX_DEPTH:
                yield from _members(content, shown, budget, notice, depth=depth + 1)
            elif is_archive(member):
                notice(Notice(shown, f"archive nested deeper than {MAX_DEPTH} levels not opened"))
            else:
                yield shown, content
    except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        notice(Notice(name, f"not a readable archive, not scanned: {exc}"))


def _take(budget: _Budget, size: int) -> None:
    """Count one member of `size` bytes against the budget, or stop the archive."""
    if budget.members_left <= 0 or size > budget.bytes_left:
        raise _Exhausted
    budget.members_left -= 1
    budget.bytes_left -= size


def _read_bounded(stream: IO[bytes] | gzip.GzipFile, budget: _Budget) -> bytes:
    """Read at most what the budget allows (a member's declared size may lie)."""
    content = stream.read(budget.bytes_left + 1)
    _take(budget, len(content))
    return content


def _zip_members(data: bytes, budget: _Budget) -> Iterator[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            if info.flag_bits & 0x1:  # encrypted: there is no text to read
                continue
            if info.file_size > budget.bytes_left:
                raise _Exhausted
            with archive.open(info) as stream:
                yield info.filename, _read_bounded(stream, budget)


def _tar_members(data: bytes, budget: _Budget) -> Iterator[tuple[str, bytes]]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
        for info in archive:
            if not info.isfile():
                continue
            # Count the declared size before reading: getting past a member means
            # decompressing it, so a huge one stops the archive before any work on it.
            _take(budget, info.size)
            stream = archive.extractfile(info)
            if stream is not None:
                yield info.name, stream.read(info.size)


def _gzip_member(data: bytes, name: str, budget: _Budget) -> Iterator[tuple[str, bytes]]:
    inner = name.rsplit("/", 1)[-1][: -len(GZIP_SUFFIX)] or "content"
    with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
        yield inner, _read_bounded(stream, budget)
