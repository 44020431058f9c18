"""Making writes durable, in one place: fsync a file or directory, or sync a whole filesystem at once.

A batch of hundreds of small blobs is made durable with one ``syncfs(2)`` instead of one fsync per file
(Linux; ext4 then commits them in one journal transaction). Elsewhere, the files are fsynced in
parallel threads, which lets the filesystem merge the flushes.
"""

from __future__ import annotations

import ctypes
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

_libc = None
if sys.platform.startswith("linux"):
    try:
        _libc = ctypes.CDLL(None, use_errno=True)
        _libc.syncfs  # noqa: B018 - probe that the symbol exists
    except (OSError, AttributeError):
        _libc = None


def fsync_path(path: Path | str) -> None:
    """fsync a file or a directory (a directory's fsync makes renames and creations in it durable)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_filesystem(path: Path | str) -> bool:
    """syncfs(2) on the filesystem holding ``path``; False where the call is unavailable."""
    if _libc is None:
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        if _libc.syncfs(fd) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"syncfs failed: {os.strerror(err)}")
        return True
    finally:
        os.close(fd)


def sync_all(fds: list[int], paths: list[Path], where: Path) -> None:
    """Make the contents of open files ``fds`` and of ``paths`` durable: one syncfs when there are
    several, else parallel fsyncs."""
    n = len(fds) + len(paths)
    if not n:
        return
    if n > 1 and sync_filesystem(where):
        return
    with ThreadPoolExecutor(max_workers=min(16, n)) as pool:
        list(pool.map(os.fsync, fds))
        list(pool.map(fsync_path, paths))


def pid_alive(pid: int) -> bool:
    """Whether a process still runs. A zombie does not: a writer process orphaned by a kill -9 of its
    crawl stays one where nothing reaps orphans (PID 1 in many containers)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (macOS): the signal said it exists
    return stat[stat.rfind(")") + 2:][:1] not in ("Z", "X")
