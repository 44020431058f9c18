"""The shared location where workers hand over what they fetched and parsed, and where the archive's
owner publishes originals for workers to read: a path on a shared filesystem or any fsspec URL
(``s3://bucket/prefix`` with s3fs, ``gcs://…``).

Layout (every name is content-addressed or task-addressed, so writing one twice is harmless)::

    handover/<task id>/data.warc.gz      what one crawl task fetched (WARC), with its parse results
    handover/<task id>/manifest.json     written last: the hand-over is complete once it exists
    blobs/<sha256[:2]>/<sha256>          originals the owner published (for 304s and re-parsing)
    parsed/<parser version>/<sha256>.json.zst   a parse task's result

Writes are atomic: a local file is written beside its name and renamed; an object store's put is
atomic by itself. A reader never sees half a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import fsspec

from archive.errors import SharedError
from archive.store.body import CHUNK


class SharedStore:
    """A shared location, local or remote, through fsspec."""

    def __init__(self, url: str | os.PathLike) -> None:
        text = os.fspath(url)
        self.url = text
        self.fs, root = fsspec.core.url_to_fs(text)
        self.root = root.rstrip("/")
        protocols = self.fs.protocol if isinstance(self.fs.protocol, tuple) else (self.fs.protocol,)
        self.local = "file" in protocols
        if self.local:
            Path(self.root).mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"SharedStore({self.url!r})"

    def path(self, *parts: str) -> str:
        return "/".join([self.root, *parts])

    def uri(self, *parts: str) -> str:
        """A URL for a file here that :func:`archive.warc.records.open_source` (and fsspec) can open."""
        p = self.path(*parts)
        return p if self.local else self.fs.unstrip_protocol(p)

    # reading
    def exists(self, *parts: str) -> bool:
        return self.fs.exists(self.path(*parts))

    def read_bytes(self, *parts: str) -> bytes:
        try:
            return self.fs.cat_file(self.path(*parts))
        except FileNotFoundError:
            raise
        except OSError as e:
            raise SharedError(f"cannot read {self.uri(*parts)}: {e}") from e

    def read_json(self, *parts: str) -> dict:
        return json.loads(self.read_bytes(*parts))

    def open(self, *parts: str) -> BinaryIO:
        return self.fs.open(self.path(*parts), "rb")

    def listdir(self, *parts: str) -> list[str]:
        try:
            return sorted(p.rstrip("/").rsplit("/", 1)[-1] for p in self.fs.ls(self.path(*parts), detail=False))
        except FileNotFoundError:
            return []

    # writing
    def write_bytes(self, data: bytes, *parts: str) -> None:
        self.write_stream(iter([data]), *parts)

    def write_json(self, data: dict, *parts: str) -> None:
        self.write_bytes(json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"), *parts)

    def write_stream(self, chunks: Iterator[bytes], *parts: str) -> tuple[int, str]:
        """Write a file from chunks, atomically; return its size and SHA-256."""
        final = self.path(*parts)
        h, size = hashlib.sha256(), 0
        if self.local:
            Path(final).parent.mkdir(parents=True, exist_ok=True)
            tmp = f"{final}.{uuid.uuid4().hex}.part"
            try:
                with open(tmp, "wb") as fh:
                    for chunk in chunks:
                        fh.write(chunk)
                        h.update(chunk)
                        size += len(chunk)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, final)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            return size, h.hexdigest()
        try:
            with self.fs.open(final, "wb") as fh:  # an object store's put: atomic on completion
                for chunk in chunks:
                    fh.write(chunk)
                    h.update(chunk)
                    size += len(chunk)
        except OSError as e:
            raise SharedError(f"cannot write {self.uri(*parts)}: {e}") from e
        return size, h.hexdigest()

    def copy_file(self, src: str | os.PathLike, *parts: str) -> tuple[int, str]:
        """Upload a local file, atomically."""
        def chunks():
            with open(src, "rb") as fh:
                while chunk := fh.read(CHUNK):
                    yield chunk
        return self.write_stream(chunks(), *parts)

    def remove(self, *parts: str) -> None:
        if self.fs.exists(self.path(*parts)):
            self.fs.rm(self.path(*parts), recursive=True)

    # originals, by SHA-256
    @staticmethod
    def blob_parts(sha256: str) -> tuple[str, str, str]:
        return ("blobs", sha256[:2], sha256)

    def has_blob(self, sha256: str) -> bool:
        return self.exists(*self.blob_parts(sha256))

    def put_blob(self, sha256: str, data: bytes) -> bool:
        """Publish an original (once: a blob already there is not written again); True if written."""
        if self.has_blob(sha256):
            return False
        if hashlib.sha256(data).hexdigest() != sha256:
            raise SharedError(f"refusing to publish blob {sha256}: its bytes hash differently")
        self.write_bytes(data, *self.blob_parts(sha256))
        return True

    def get_blob(self, sha256: str) -> bytes:
        """An original, checked against its name (a damaged copy is an error, never a wrong document)."""
        data = self.read_bytes(*self.blob_parts(sha256))
        if hashlib.sha256(data).hexdigest() != sha256:
            raise SharedError(f"the shared copy of {sha256} is damaged (its bytes hash differently)")
        return data
