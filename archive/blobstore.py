"""Content-addressed store of original bytes, named by SHA-256, crash-safe, optionally zstd at rest.

A blob is written to ``tmp/``, fsynced, then renamed into ``ab/cd/<sha256>[.zst]``: after a kill -9
at any instant a blob is either whole under its final name or absent. Directory entries are fsynced
by :meth:`BlobStore.sync` before the catalog commits rows that point at them.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

import zstandard

from archive.body import CHUNK, Body

Encoding = Literal["raw", "zstd"]
ZSTD_SUFFIX = ".zst"


class BlobError(Exception):
    """A blob could not be stored or read."""


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int
    stored_size: int
    encoding: Encoding
    new: bool


def fsync_dir(path: Path) -> None:
    """Make a directory's entries (renames, creations) durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class BlobStore:
    """Files named by the SHA-256 of their (uncompressed) content."""

    def __init__(self, root: Path, *, compress: bool = True, durable: bool = True, level: int = 3,
                 readonly: bool = False) -> None:
        self.root = Path(root)
        self.tmp = self.root / "tmp"
        self.compress = compress
        self.durable = durable
        self.level = level
        self._dirty: set[Path] = set()
        if not readonly:
            self.tmp.mkdir(parents=True, exist_ok=True)

    # -- naming ---------------------------------------------------------------------------------
    def path(self, sha256: str, encoding: Encoding = "raw") -> Path:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise BlobError(f"not a SHA-256 hex digest: {sha256!r}")
        base = self.root / sha256[:2] / sha256[2:4] / sha256
        return base.with_name(sha256 + ZSTD_SUFFIX) if encoding == "zstd" else base

    def locate(self, sha256: str) -> tuple[Path, Encoding] | None:
        """Where the blob is and how it is encoded, or None."""
        for enc in ("raw", "zstd"):
            p = self.path(sha256, enc)  # type: ignore[arg-type]
            if p.exists():
                return p, enc  # type: ignore[return-value]
        return None

    def exists(self, sha256: str) -> bool:
        return self.locate(sha256) is not None

    # -- writing --------------------------------------------------------------------------------
    def put(self, source: bytes | Path | Body, *, sha256: str | None = None, sync: bool = True) -> StoredBlob:
        """Store bytes once; identical content already present is not written again.

        ``sha256`` may be passed when the caller already hashed the body (saves a pass). With
        ``sync=False`` the directory fsync is left to a later :meth:`sync` (group commit).
        """
        body = Body.of(source)
        if sha256 is not None:
            found = self.locate(sha256)
            if found:
                return StoredBlob(sha256, body.size, found[0].stat().st_size, found[1], new=False)
        encoding: Encoding = "zstd" if self.compress and body.compressible else "raw"
        tmp = self.tmp / f"{os.getpid()}-{secrets.token_hex(8)}.tmp"
        hasher = hashlib.sha256() if sha256 is None else None
        size = 0
        try:
            with open(tmp, "xb") as fh:
                if encoding == "zstd":
                    cctx = zstandard.ZstdCompressor(level=self.level, write_checksum=True)
                    with cctx.stream_writer(fh, size=body.size, closefd=False) as zw:
                        for chunk in body.chunks(CHUNK):
                            if hasher:
                                hasher.update(chunk)
                            zw.write(chunk)
                            size += len(chunk)
                else:
                    for chunk in body.chunks(CHUNK):
                        if hasher:
                            hasher.update(chunk)
                        fh.write(chunk)
                        size += len(chunk)
                fh.flush()
                if self.durable:
                    os.fsync(fh.fileno())
            digest = sha256 or hasher.hexdigest()  # type: ignore[union-attr]
            found = self.locate(digest)
            if found:
                tmp.unlink()
                return StoredBlob(digest, size, found[0].stat().st_size, found[1], new=False)
            final = self.path(digest, encoding)
            created = self._ensure_parent(final)
            stored_size = tmp.stat().st_size
            os.replace(tmp, final)
            self._dirty.add(final.parent)
            self._dirty.update(created)
            if sync:
                self.sync()
            return StoredBlob(digest, size, stored_size, encoding, new=True)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            raise

    def _ensure_parent(self, final: Path) -> list[Path]:
        """Create ``ab/cd/`` as needed; return the directories whose entries changed."""
        changed = []
        for d in (final.parent.parent, final.parent):
            if not d.exists():
                d.mkdir(exist_ok=True)
                changed.append(d.parent)
        return changed

    def sync(self) -> None:
        """fsync every directory that gained an entry since the last sync."""
        if self.durable:
            # Parents first, so a new ab/ exists durably before ab/cd/ entries are relied on.
            for d in sorted(self._dirty, key=lambda p: len(p.parts)):
                fsync_dir(d)
        self._dirty.clear()

    def clean_tmp(self) -> int:
        """Remove temporary files left by processes that died mid-write; return how many."""
        removed = 0
        for p in self.tmp.glob("*.tmp"):
            pid_s = p.name.split("-", 1)[0]
            if pid_s.isdigit() and pid_alive(int(pid_s)):
                continue
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
                removed += 1
        return removed

    # -- reading --------------------------------------------------------------------------------
    def open(self, sha256: str) -> BinaryIO:
        """A reader of the original bytes."""
        found = self.locate(sha256)
        if not found:
            raise BlobError(f"blob {sha256} is missing from the store")
        path, enc = found
        fh = open(path, "rb")  # noqa: SIM115 - returned to the caller, who closes it
        if enc == "zstd":
            return zstandard.ZstdDecompressor().stream_reader(fh, closefd=True)  # type: ignore[return-value]
        return fh

    def read(self, sha256: str) -> bytes:
        with self.open(sha256) as fh:
            return fh.read()

    def check(self, sha256: str) -> Literal["ok", "missing", "corrupt"]:
        """Re-hash a blob against its name."""
        if not self.exists(sha256):
            return "missing"
        h = hashlib.sha256()
        try:
            with self.open(sha256) as fh:
                while chunk := fh.read(CHUNK):
                    h.update(chunk)
        except zstandard.ZstdError:
            return "corrupt"
        return "ok" if h.hexdigest() == sha256 else "corrupt"

    def __iter__(self) -> Iterator[str]:
        """Every blob name present on disk."""
        if not self.root.is_dir():
            return
        for d1 in sorted(self.root.iterdir()):
            if len(d1.name) != 2 or not d1.is_dir():
                continue
            for d2 in sorted(d1.iterdir()):
                for f in sorted(d2.iterdir()):
                    name = f.name.removesuffix(ZSTD_SUFFIX)
                    if len(name) == 64 and not f.name.endswith(".tmp"):
                        yield name
