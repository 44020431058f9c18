"""A response body held in memory or spooled to a file, read the same way either way.

Crawled bodies are usually small bytes; a 2 GB attachment or a local file must not be loaded whole.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import BinaryIO

import zstandard

CHUNK = 1 << 20
# Compress only when a sample shrinks to under this share: PDFs, DOCX and images are already
# compressed, and running a compressor over them costs time for nothing.
COMPRESS_IF_RATIO_BELOW = 0.85
MIN_COMPRESS_SIZE = 512


_local = threading.local()


def _probe() -> zstandard.ZstdCompressor:
    """A per-thread level-1 compressor: making one costs more than compressing a page with it."""
    if not hasattr(_local, "probe"):
        _local.probe = zstandard.ZstdCompressor(level=1)
    return _local.probe


@dataclass(frozen=True)
class Body:
    """Bytes, or a path to a file holding them (never both)."""

    data: bytes | None = None
    path: Path | None = None

    @classmethod
    def of(cls, value: bytes | bytearray | memoryview | str | os.PathLike | Body) -> Body:
        """Wrap bytes or a path; a Body passes through."""
        if isinstance(value, Body):
            return value
        if isinstance(value, (bytes, bytearray, memoryview)):
            return cls(data=bytes(value))
        return cls(path=Path(value))

    @property
    def size(self) -> int:
        if self.data is not None:
            return len(self.data)
        assert self.path is not None
        return self.path.stat().st_size

    def open(self) -> BinaryIO:
        """A fresh binary reader positioned at the start."""
        if self.data is not None:
            return io.BytesIO(self.data)
        assert self.path is not None
        return open(self.path, "rb")

    def chunks(self, size: int = CHUNK) -> Iterator[bytes]:
        if self.data is not None:
            view = memoryview(self.data)
            for start in range(0, len(view), size):
                yield view[start : start + size]
            return
        with self.open() as fh:
            while chunk := fh.read(size):
                yield chunk

    def head(self, size: int = 65536) -> bytes:
        if self.data is not None:
            return self.data[:size]
        with self.open() as fh:
            return fh.read(size)

    @cached_property
    def compressible(self) -> bool:
        """Whether compressing is worth it, judged by zstd level 1 on the first 64 KiB."""
        head = self.head()
        if len(head) < MIN_COMPRESS_SIZE:
            return False
        return len(_probe().compress(head)) < COMPRESS_IF_RATIO_BELOW * len(head)

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.path is not None
        return self.path.read_bytes()
