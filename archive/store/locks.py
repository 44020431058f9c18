"""Advisory locks on files in the archive: one scheduler per archive, one harvest per portal.

The kernel drops an ``flock`` when the last descriptor of its open file goes away, so a process
killed with SIGKILL leaves no lock behind, and a lock handed to a child process (``pass_fds``) holds
until both are gone. The holder writes who it is into the file, so a refusal can say whom it met.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import threading
import time
from pathlib import Path

from archive.capture import iso, utcnow
from archive.errors import LockHeld


class FileLock:
    """A non-blocking exclusive ``flock`` on ``path`` (``shared``: one of many holders, which keeps out an
    exclusive one); :meth:`acquire` raises :class:`LockHeld`."""

    def __init__(self, path: Path | str, what: str, *, shared: bool = False) -> None:
        self.path = Path(path)
        self.what = what
        self.shared = shared
        self.fd: int | None = None

    def acquire(self, **info) -> FileLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise LockHeld(self.path, read_holder(self.path), self.what) from None
        data = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": iso(utcnow()), **info},
                          ensure_ascii=False).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
        self.fd = fd
        return self

    def wait(self, seconds: float, poll: float = 1.0, stop: threading.Event | None = None, **info) -> FileLock:
        """Acquire, retrying for up to ``seconds`` (or until ``stop`` is set); the last refusal is raised."""
        end = time.monotonic() + seconds
        while True:
            try:
                return self.acquire(**info)
            except LockHeld:
                if time.monotonic() >= end or (stop is not None and stop.is_set()):
                    raise
                if stop is not None:
                    stop.wait(poll)
                else:
                    time.sleep(poll)

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing drops the flock (unless a child still holds a copy)
            self.fd = None

    def __enter__(self) -> FileLock:
        return self if self.fd is not None else self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def read_holder(path: Path | str) -> dict | None:
    """Who wrote the lock file last (the holder, when the lock is held)."""
    try:
        return json.loads(Path(path).read_text("utf-8") or "null")
    except (OSError, ValueError):
        return None


def is_held(path: Path | str) -> bool:
    """Whether some process holds the lock now (probed without keeping it)."""
    try:
        FileLock(path, "probe").acquire().release()
    except LockHeld:
        return True
    return False
