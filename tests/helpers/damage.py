"""Damage done to an archive on disk, as disks, copies cut short and careless hands do it."""

from __future__ import annotations

import os
from pathlib import Path


def overwrite_last_page(db: Path, page_size: int = 4096) -> None:
    """Fill the catalog file's last page with garbage (SQLite then calls it malformed)."""
    size = db.stat().st_size
    with open(db, "r+b") as fh:
        fh.seek(max(0, size - page_size))
        fh.write(b"\xa5" * min(page_size, size))


def cut_short(path: Path, keep: float = 0.5) -> None:
    """Truncate a file to a fraction of its length (a copy that stopped half-way)."""
    with open(path, "r+b") as fh:
        fh.truncate(int(path.stat().st_size * keep))


def flip_byte(path: Path, at: int | None = None) -> None:
    """Invert one byte in the middle of a file (a bad sector, a bit rot)."""
    at = path.stat().st_size // 2 if at is None else at
    with open(path, "r+b") as fh:
        fh.seek(at)
        b = fh.read(1)
        fh.seek(at)
        fh.write(bytes([b[0] ^ 0xFF]))
        fh.flush()
        os.fsync(fh.fileno())
