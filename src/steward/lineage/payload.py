"""How a raw event is kept in the raw log: its canonical JSON, compressed.

New rows are Zstandard frames (level 1: ~4x faster than zlib's fastest level here; a
quarter smaller for events with schemas, the same for small ones); rows stored before are
zlib streams. A frame's first bytes say
which it is, so both read back alike.
"""

from __future__ import annotations

import threading
import zlib

import zstandard

# Every Zstandard frame starts with these four bytes; a zlib stream starts with 0x?8.
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
# Compressor and decompressor objects are not safe to share between threads.
_local = threading.local()


class PayloadError(ValueError):
    """A stored payload that neither codec can read."""


def pack(canonical: bytes) -> bytes:
    """`canonical` compressed for the raw log."""
    compressor = getattr(_local, "compressor", None)
    if compressor is None:
        compressor = _local.compressor = zstandard.ZstdCompressor(level=1)
    return bytes(compressor.compress(canonical))


def unpack(payload: bytes) -> bytes:
    """The canonical JSON a stored payload holds, whichever codec wrote it."""
    try:
        if payload[:4] == _ZSTD_MAGIC:
            decompressor = getattr(_local, "decompressor", None)
            if decompressor is None:
                decompressor = _local.decompressor = zstandard.ZstdDecompressor()
            return bytes(decompressor.decompress(payload))
        return zlib.decompress(payload)
    except (zstandard.ZstdError, zlib.error) as exc:
        raise PayloadError(
            f"the stored payload is not a Zstandard frame or a zlib stream ({exc})"
        ) from None
