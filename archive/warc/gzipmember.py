"""One gzip member per WARC record, deflated or stored, so readers can seek to any record.

Written by hand rather than with ``gzip``/``zlib.compress`` because already-compressed payloads (PDF,
DOCX, images) are best *stored*: zlib's level 0 still pushes every byte through its window (about
400 MB/s here), while emitting stored blocks costs one crc32 (several GB/s). Text is deflated.
"""

from __future__ import annotations

import struct
import zlib
from typing import BinaryIO

# magic, CM=deflate, FLG=0, MTIME=0, XFL=0, OS=unknown
_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
_MAX_STORED = 65535


class GzipMember:
    """A file-like sink that writes exactly one gzip member to ``out`` and finishes it on flush()."""

    def __init__(self, out: BinaryIO, level: int = 6) -> None:
        self.out = out
        self.level = level
        self.crc = 0
        self.size = 0
        self._pending = b""
        self._done = False
        self._deflate = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS) if level > 0 else None
        out.write(_HEADER)

    def write(self, data: bytes | memoryview) -> int:
        n = len(data)
        if not n:
            return 0
        self.crc = zlib.crc32(data, self.crc)
        self.size += n
        if self._deflate is not None:
            self.out.write(self._deflate.compress(data))
            return n
        view = memoryview(self._pending + bytes(data)) if self._pending else memoryview(data)
        while len(view) > _MAX_STORED:
            self._stored_block(view[:_MAX_STORED], final=False)
            view = view[_MAX_STORED:]
        self._pending = bytes(view)
        return n

    def _stored_block(self, chunk: memoryview | bytes, final: bool) -> None:
        n = len(chunk)
        self.out.write(struct.pack("<BHH", 1 if final else 0, n, n ^ 0xFFFF))
        self.out.write(chunk)

    def flush(self) -> None:
        """Finish the member (idempotent); warcio calls this once at the end of a record."""
        if self._done:
            return
        self._done = True
        if self._deflate is not None:
            self.out.write(self._deflate.flush())
        else:
            self._stored_block(self._pending, final=True)
            self._pending = b""
        self.out.write(struct.pack("<II", self.crc & 0xFFFFFFFF, self.size & 0xFFFFFFFF))
