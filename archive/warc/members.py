"""A WARC file of ours read member by member (one gzip member per record), so that damage costs only the
records it touches: each member is inflated on its own with its CRC checked, a damaged one is stepped over
to the next gzip header, and the good ones are offered again as one stream for warcio to read.

Written here because warcio reads a file as one stream: at the first bad member it stops (or prints a CRC
error and reads on), and every record after it is lost to the reader.
"""

from __future__ import annotations

import io
import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from archive.warc.records import META_TYPE

GZIP_MAGIC = b"\x1f\x8b\x08"
CHUNK = 1 << 20
HEAD = 64 * 1024  # a record's WARC headers are in its first bytes; more is read only for metadata records
META_MAX = 4 << 20  # our metadata records are a few hundred bytes; larger ones are not ours


@dataclass
class Member:
    offset: int
    length: int
    record_id: str | None
    rec_type: str | None
    content_type: str | None = None
    refers_to: str | None = None
    payload: bytes | None = None  # a metadata record's block, when small


@dataclass
class Scan:
    members: list[Member] = field(default_factory=list)
    damaged: list[tuple[int, int]] = field(default_factory=list)  # byte ranges stepped over


def scan(path: Path, end: int | None = None) -> Scan:
    """Every whole, CRC-checked member of ``path`` (up to ``end``), and the byte ranges that are not."""
    out = Scan()
    size = path.stat().st_size if end is None else end
    with open(path, "rb") as fh:
        at = 0
        while at < size:
            member = _member(fh, at, size)
            if member is not None:
                out.members.append(member)
                at += member.length
                continue
            nxt = _next_header(fh, at + 1, size)
            out.damaged.append((at, nxt))
            at = nxt
    return out


def _member(fh: BinaryIO, at: int, size: int) -> Member | None:
    """The member starting at ``at``, or None if it is not a whole gzip member whose CRC checks. It is
    inflated a megabyte at a time and only its first bytes kept (a record may hold 512 MB)."""
    fh.seek(at)
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)  # checks the member's CRC and length at its end
    head = bytearray()
    consumed = 0
    try:
        while not d.eof:
            want = min(CHUNK, size - at - consumed)
            data = fh.read(want) if want > 0 else b""
            if not data:
                return None  # cut short
            consumed += len(data)
            while data and not d.eof:
                piece = d.decompress(data, CHUNK)
                if len(head) < HEAD:
                    head += piece[:HEAD - len(head)]
                data = d.unconsumed_tail
    except zlib.error:
        return None
    length = consumed - len(d.unused_data)
    member = Member(at, length, *_headers(bytes(head)))
    if member.rec_type == "metadata" and length <= META_MAX:
        member.payload = _block(fh, at, length)
    return member


def _headers(head: bytes) -> tuple[str | None, str | None, str | None, str | None]:
    text = head.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    fields = {}
    for line in text.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    return (fields.get("warc-record-id"), fields.get("warc-type"), fields.get("content-type"),
            fields.get("warc-refers-to"))


def _block(fh: BinaryIO, at: int, length: int) -> bytes | None:
    fh.seek(at)
    raw = zlib.decompress(fh.read(length), 16 + zlib.MAX_WBITS)
    _, sep, block = raw.partition(b"\r\n\r\n")
    return block.rstrip(b"\r\n") if sep else None


def _next_header(fh: BinaryIO, start: int, size: int) -> int:
    """Where the next gzip header after ``start`` begins (or the end)."""
    fh.seek(start)
    at, carry = start, b""
    while at < size:
        data = fh.read(min(CHUNK, size - at))
        if not data:
            break
        buf = carry + data
        i = buf.find(GZIP_MAGIC)
        if i >= 0:
            return at - len(carry) + i
        carry = buf[-2:]
        at += len(data)
    return size


def context_of(member: Member) -> dict | None:
    """Our metadata record's JSON block (what a capture's context was), or None for any other record."""
    if member.payload is None or (member.content_type or "").split(";")[0].strip() != META_TYPE:
        return None
    try:
        value = json.loads(member.payload)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


class GoodMembers(io.RawIOBase):
    """The whole members of a file, one after another: a stream warcio reads as if nothing were between."""

    def __init__(self, path: Path, members: list[Member]) -> None:
        self.fh = open(path, "rb")  # noqa: SIM115 - closed with this stream
        self.ranges = [(m.offset, m.length) for m in members]
        self.i, self.left = 0, self.ranges[0][1] if self.ranges else 0
        if self.ranges:
            self.fh.seek(self.ranges[0][0])

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        while self.i < len(self.ranges) and self.left == 0:
            self.i += 1
            if self.i < len(self.ranges):
                self.fh.seek(self.ranges[self.i][0])
                self.left = self.ranges[self.i][1]
        if self.i >= len(self.ranges):
            return 0
        n = self.fh.readinto(memoryview(b)[:min(len(b), self.left)]) or 0
        self.left -= n
        return n

    def close(self) -> None:
        self.fh.close()
        super().close()
