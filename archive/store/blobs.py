"""Content-addressed store of original bytes, named by SHA-256, crash-safe, optionally zstd at rest.

A blob is written to a temporary file (unnamed, O_TMPFILE, where the filesystem allows; else in
``tmp/``), made durable, then linked or renamed to ``ab/<sha256>`` (``.zst`` when compressed): after
a kill -9 at any instant a blob is either whole under its final name or absent.
:meth:`BlobStore.put` does this for one blob. A writer that stores many uses :meth:`stage` and then
:meth:`publish` once per batch (group commit: one filesystem sync for the batch, the renames, one more
sync for the directory entries) before the catalog commits rows that point at the blobs.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import os
import secrets
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

import zstandard

from archive.errors import BlobCorrupt, BlobError, BlobMissing
from archive.store.body import CHUNK, Body
from archive.store.durability import fsync_path, pid_alive, sync_all, sync_filesystem

Encoding = Literal["raw", "zstd"]
ZSTD_SUFFIX = ".zst"
HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int
    stored_size: int
    encoding: Encoding
    new: bool


_AT_FDCWD, _AT_SYMLINK_FOLLOW = -100, 0x400
_libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
MAX_STAGED = 512  # staged blobs hold a file descriptor each until published


@dataclass
class _Tmp:
    """A temporary file being written: unnamed (O_TMPFILE) when ``path`` is None, else named."""

    fd: int
    path: str | None
    closed: bool = False

    def place(self, final: str) -> bool:
        """Give the file its final name, atomically; False if that name already exists.

        An unnamed file is linked in with linkat(2) through /proc (Python's os.link cannot follow
        that link), which needs no rename and leaves nothing behind if the process dies first.
        """
        if self.path is not None:
            os.replace(self.path, final)
            self.path = None
            return True
        if _libc is None:
            return False
        if _libc.linkat(_AT_FDCWD, f"/proc/self/fd/{self.fd}".encode(), _AT_FDCWD, final.encode(),
                        _AT_SYMLINK_FOLLOW) == 0:
            return True
        err = ctypes.get_errno()
        if err == errno.EEXIST:
            return False  # the same content was stored meanwhile
        raise OSError(err, f"cannot link a blob into place: {os.strerror(err)}", final)

    def discard(self) -> None:
        if not self.closed:
            os.close(self.fd)
            self.closed = True
        if self.path is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
            self.path = None


@dataclass(frozen=True)
class _Staged:
    tmp: _Tmp
    final: str
    blob: StoredBlob


class BlobStore:
    """Files named by the SHA-256 of their (uncompressed) content."""

    def __init__(self, root: Path, *, compress: bool = True, durable: bool = True, level: int = 3,
                 readonly: bool = False) -> None:
        self.root = Path(root)
        self.tmp = self.root / "tmp"
        self.compress = compress
        self.durable = durable
        self.level = level
        self._staged: dict[str, _Staged] = {}
        self._lock = threading.Lock()  # stage() may run on several threads at once
        self._local = threading.local()
        self._dirs_known: set[str] = set()
        self._unnamed: bool | None = None if _libc is not None and hasattr(os, "O_TMPFILE") else False
        if not readonly:
            self.tmp.mkdir(parents=True, exist_ok=True)

    # -- naming ---------------------------------------------------------------------------------
    def path(self, sha256: str, encoding: Encoding = "raw") -> Path:
        if len(sha256) != 64 or not HEX.issuperset(sha256):
            raise BlobError(f"not a SHA-256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / (sha256 + (ZSTD_SUFFIX if encoding == "zstd" else ""))

    def locate(self, sha256: str) -> tuple[Path, Encoding] | None:
        """Where the blob is and how it is encoded, or None."""
        raw = self.path(sha256)
        if os.path.exists(raw):
            return raw, "raw"
        packed = raw.with_name(raw.name + ZSTD_SUFFIX)
        if os.path.exists(packed):
            return packed, "zstd"
        return None

    def exists(self, sha256: str) -> bool:
        return self.locate(sha256) is not None

    # -- writing --------------------------------------------------------------------------------
    def _open_tmp(self) -> _Tmp:
        """An unnamed O_TMPFILE in the store (vanishes by itself if the process dies), else a named one."""
        if self._unnamed is not False:
            try:
                fd = os.open(self.tmp, os.O_WRONLY | os.O_TMPFILE | os.O_CLOEXEC, 0o644)
            except (OSError, AttributeError):
                self._unnamed = False
            else:
                tmp = _Tmp(fd, None)
                if self._unnamed is None:  # first use: prove that linking it into place works here
                    probe = str(self.tmp / f"{os.getpid()}-{secrets.token_hex(8)}.tmp")
                    self._unnamed = tmp.place(probe)
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(probe)
                    os.close(fd)
                    return self._open_tmp()
                return tmp
        path = str(self.tmp / f"{os.getpid()}-{secrets.token_hex(8)}.tmp")
        return _Tmp(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644), path)

    def _write_tmp(self, body: Body, sha256: str | None) -> tuple[_Tmp, str, int, Encoding]:
        """Write the body to a temp file (compressed if worth it); return (tmp, sha256, size, encoding)."""
        encoding: Encoding = "zstd" if self.compress and body.compressible else "raw"
        hasher = hashlib.sha256() if sha256 is None else None
        tmp = self._open_tmp()
        size = 0
        try:
            with open(tmp.fd, "wb", closefd=False) as fh:
                if encoding == "zstd" and body.data is not None and body.size <= CHUNK:
                    # Small bodies in one call, with a compressor reused per thread (making one costs
                    # more than compressing a page).
                    if hasher:
                        hasher.update(body.data)
                    fh.write(self._compressor().compress(body.data))
                    size = body.size
                else:
                    sink = self._compressor().stream_writer(fh, size=body.size, closefd=False) \
                        if encoding == "zstd" else fh
                    for chunk in body.chunks(CHUNK):
                        if hasher:
                            hasher.update(chunk)
                        sink.write(chunk)
                        size += len(chunk)
                    if sink is not fh:
                        sink.close()
        except BaseException:
            tmp.discard()
            raise
        return tmp, sha256 or hasher.hexdigest(), size, encoding  # type: ignore[union-attr]

    def _compressor(self) -> zstandard.ZstdCompressor:
        local = self._local
        if not hasattr(local, "cctx"):
            local.cctx = zstandard.ZstdCompressor(level=self.level, write_checksum=True)
        return local.cctx

    def _existing(self, sha256: str, size: int) -> StoredBlob | None:
        found = self.locate(sha256)
        if found:
            return StoredBlob(sha256, size, found[0].stat().st_size, found[1], new=False)
        staged = self._staged.get(sha256)
        return StoredBlob(sha256, size, staged.blob.stored_size, staged.blob.encoding, new=False) if staged else None

    def put(self, source: bytes | Path | Body, *, sha256: str | None = None) -> StoredBlob:
        """Store one blob durably now; identical content already present is not written again."""
        body = Body.of(source)
        if sha256 is not None and (found := self._existing(sha256, body.size)):
            return found
        tmp, digest, size, encoding = self._write_tmp(body, sha256)
        try:
            if found := self._existing(digest, size):
                return found
            if self.durable:
                os.fsync(tmp.fd)
            final = self.path(digest, encoding)
            new_dir = self._ensure_dir(final.parent)
            stored = os.fstat(tmp.fd).st_size
            tmp.place(str(final))
        finally:
            tmp.discard()
        if self.durable:
            if new_dir:
                fsync_path(self.root)
            fsync_path(final.parent)
        return StoredBlob(digest, size, stored, encoding, new=True)

    def stage(self, source: bytes | Path | Body, *, sha256: str | None = None) -> StoredBlob:
        """Write a blob for the next :meth:`publish`; until then it is invisible and not durable."""
        body = Body.of(source)
        if sha256 is not None and (found := self._existing(sha256, body.size)):
            return found
        tmp, digest, size, encoding = self._write_tmp(body, sha256)
        if found := self._existing(digest, size):
            tmp.discard()
            return found
        blob = StoredBlob(digest, size, os.fstat(tmp.fd).st_size, encoding, new=True)
        with self._lock:
            if digest in self._staged:  # another thread staged the same content meanwhile
                tmp.discard()
                return StoredBlob(digest, size, blob.stored_size, encoding, new=False)
            self._staged[digest] = _Staged(tmp, str(self.path(digest, encoding)), blob)
            full = len(self._staged) >= MAX_STAGED
        if full:  # bound the open files; publishing early is safe (see publish)
            self.publish()
        return blob

    def publish(self, also_sync: list[Path] | None = None) -> int:
        """Make every staged blob durable and visible: sync data, link/rename into place, sync names.

        ``also_sync`` are other files (the WARC being written) whose data must be durable too; a
        filesystem-wide sync covers them at no extra cost. A blob published before the catalog row
        that names it (a crash in between) is harmless: it is found and reused when fetched again.
        Returns how many blobs were published.
        """
        with self._lock:
            staged = list(self._staged.values())
            self._staged.clear()
        try:
            if self.durable:
                sync_all([s.tmp.fd for s in staged], list(also_sync or []), self.root)
            dirs: set[str] = set()
            new_dir = False
            for s in staged:
                parent = os.path.dirname(s.final)
                new_dir |= self._ensure_dir(Path(parent))
                s.tmp.place(s.final)
                dirs.add(parent)
            if self.durable and staged and not sync_filesystem(self.root):
                for d in ([str(self.root)] if new_dir else []) + sorted(dirs):
                    fsync_path(d)
        finally:
            for s in staged:
                s.tmp.discard()
        return len(staged)

    def discard_staged(self) -> None:
        """Drop staged blobs (the batch failed before its commit)."""
        with self._lock:
            for s in self._staged.values():
                s.tmp.discard()
            self._staged.clear()

    def _ensure_dir(self, d: Path) -> bool:
        key = str(d)
        if key in self._dirs_known:
            return False
        created = not d.exists()
        if created:
            d.mkdir(exist_ok=True)
        self._dirs_known.add(key)
        return created

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
            raise BlobMissing(f"the original {sha256} is missing from the blob store")
        path, enc = found
        fh = open(path, "rb")  # noqa: SIM115 - returned to the caller, who closes it
        if enc == "zstd":
            return zstandard.ZstdDecompressor().stream_reader(fh, closefd=True)  # type: ignore[return-value]
        return fh

    def read(self, sha256: str) -> bytes:
        with self.open(sha256) as fh:
            return fh.read()

    def read_verified(self, sha256: str) -> bytes:
        """The original's bytes, checked against its name: what is served or parsed is what was archived."""
        try:
            data = self.read(sha256)
        except zstandard.ZstdError as e:
            raise BlobCorrupt(f"the original {sha256} is damaged in the blob store ({e})") from e
        if hashlib.sha256(data).hexdigest() != sha256:
            raise BlobCorrupt(f"the original {sha256} is damaged in the blob store: its bytes no longer match "
                              f"its SHA-256")
        return data

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
        for d in sorted(self.root.iterdir()):
            if len(d.name) != 2 or not d.is_dir():
                continue
            for f in sorted(os.listdir(d)):
                name = f.removesuffix(ZSTD_SUFFIX)
                if len(name) == 64 and HEX.issuperset(name):
                    yield name
