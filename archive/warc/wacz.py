"""WACZ 1.1.1 packages (https://specs.webrecorder.net/wacz/1.1.1/), what replayweb.page opens: a zip holding
``archive/data.warc.gz``, ``indexes/index.cdx`` (CDXJ), ``pages/pages.jsonl``, ``datapackage.json`` and
``datapackage-digest.json``.

Written here rather than with py-wacz (the ``wacz`` package): it wants click < 7.2 (we use 8), frictionless
and black at run time, and re-indexes the WARC with cdxj-indexer, while we already know where each record
is. The records are the archive's own gzip members copied byte for byte, so each keeps its WARC-Record-ID
and digests (``nianbao import`` of the package adds nothing; ``warcio check`` passes), and the index is
read from each record's headers as it is copied.
"""

from __future__ import annotations

import hashlib
import json
import uuid
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from archive.errors import ArchiveError

WACZ_VERSION = "1.1.1"
WARC_PATH = "archive/data.warc.gz"
INDEX_PATH = "indexes/index.cdx"
PAGES_PATH = "pages/pages.jsonl"
CHUNK = 1 << 20
HEAD = 256 * 1024  # a record's WARC and HTTP headers lie in its first inflated bytes
INDEXED = ("response", "revisit", "resource")  # what replay looks up (requests and metadata are not pages)


@dataclass(frozen=True)
class Span:
    """One record of ours: a whole gzip member of a WARC file."""

    path: Path
    offset: int
    length: int


@dataclass(frozen=True)
class Page:
    url: str
    ts: str  # the capture's time, ISO-8601
    title: str | None = None


def surt(url: str) -> str:
    """The SURT key CDXJ indexes sort by: host labels reversed and lower-cased (``www.`` dropped), then path
    and query, lower-cased (``http://www.Example.gov.cn/A?b`` → ``cn,gov,example)/a?b``)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    key = ",".join(reversed(host.split("."))) if host else parts.scheme
    if parts.port and (parts.scheme, parts.port) not in (("http", 80), ("https", 443)):
        key += f":{parts.port}"
    rest = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return f"{key}){rest.lower()}"  # lower-cased like the IA canonicaliser's path and query


def _timestamp(date: str) -> str:
    """A WARC-Date as the 14 digits of a CDX timestamp."""
    return "".join(ch for ch in date if ch.isdigit())[:14].ljust(14, "0")


def _fields(block: bytes) -> tuple[str, dict[str, str]]:
    lines = block.decode("utf-8", "replace").split("\r\n")
    fields: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        fields.setdefault(name.strip().lower(), value.strip())
    return lines[0], fields


def index_entry(head: bytes, offset: int, length: int, filename: str) -> str | None:
    """The CDXJ line of a record from its first inflated bytes (None for records replay does not look up)."""
    warc_part, sep, rest = head.partition(b"\r\n\r\n")
    if not sep:
        raise ArchiveError("a WARC record's headers did not fit in its first bytes")
    _, warc = _fields(warc_part)
    rtype, uri = warc.get("warc-type"), warc.get("warc-target-uri")
    if rtype not in INDEXED or not uri:
        return None
    entry: dict[str, object] = {"url": uri}
    if rtype == "revisit":
        entry["mime"] = "warc/revisit"
    elif (warc.get("content-type") or "").startswith("application/http"):
        status_line, http = _fields(rest.partition(b"\r\n\r\n")[0])
        bits = status_line.split(" ", 2)
        entry["mime"] = (http.get("content-type") or "unk").split(";")[0].strip() or "unk"
        if len(bits) > 1 and bits[1].isdigit():
            entry["status"] = bits[1]
    else:
        entry["mime"] = (warc.get("content-type") or "unk").split(";")[0].strip()
        entry["status"] = "200"
    if warc.get("warc-payload-digest"):
        entry["digest"] = warc["warc-payload-digest"]
    entry.update({"length": str(length), "offset": str(offset), "filename": filename})
    return f"{surt(uri)} {_timestamp(warc.get('warc-date', ''))} {json.dumps(entry, ensure_ascii=False)}"


def _copy_member(span: Span, dest, digest) -> bytes:
    """Copy one record (a whole gzip member) into ``dest``; return its first inflated bytes."""
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    head = b""
    with open(span.path, "rb") as fh:
        fh.seek(span.offset)
        remaining = span.length
        while remaining > 0:
            chunk = fh.read(min(CHUNK, remaining))
            if not chunk:
                raise ArchiveError(f"{span.path.name} ends before the record at {span.offset}; run `nianbao verify`")
            if remaining == span.length and not chunk.startswith(b"\x1f\x8b\x08"):
                raise ArchiveError(f"no WARC record at {span.path.name}:{span.offset}; run `nianbao verify`")
            if len(head) < HEAD:
                head += inflate.decompress(chunk, HEAD - len(head))
            dest.write(chunk)
            digest.update(chunk)
            remaining -= len(chunk)
    return head


def _iso_z(ts: str) -> str:
    try:
        dt = datetime.fromisoformat(ts)
    except ValueError:
        return ts
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_wacz(out: BinaryIO, spans: Iterable[Span], pages: Iterable[Page], *, title: str, software: str,
               description: str = "") -> dict:
    """Write the package to ``out`` (seekable); return what it holds (records, indexed, pages, bytes)."""
    resources = []
    lines: list[str] = []
    records = 0
    with zipfile.ZipFile(out, "w", allowZip64=True) as zf:
        warc_info = zipfile.ZipInfo(WARC_PATH, date_time=datetime.now(UTC).timetuple()[:6])
        warc_info.compress_type = zipfile.ZIP_STORED  # already gzip per record; stored, so replay can seek
        digest, size = hashlib.sha256(), 0
        with zf.open(warc_info, "w", force_zip64=True) as dest:
            for span in spans:
                head = _copy_member(span, dest, digest)
                line = index_entry(head, size, span.length, "data.warc.gz")
                if line is not None:
                    lines.append(line)
                size += span.length
                records += 1
        resources.append({"name": "data.warc.gz", "path": WARC_PATH, "hash": "sha256:" + digest.hexdigest(),
                          "bytes": size})
        index = "".join(line + "\n" for line in sorted(lines)).encode("utf-8")
        page_list = list(pages)
        header = {"format": "json-pages-1.0", "id": "pages", "title": "All Pages"}
        page_lines = [json.dumps(header)] + [
            json.dumps({"id": uuid.uuid5(uuid.NAMESPACE_URL, f"{p.ts} {p.url}").hex, "url": p.url,
                        "ts": _iso_z(p.ts), **({"title": p.title} if p.title else {})}, ensure_ascii=False)
            for p in page_list]
        pages_bytes = "".join(line + "\n" for line in page_lines).encode("utf-8")
        for name, path, data in (("index.cdx", INDEX_PATH, index), ("pages.jsonl", PAGES_PATH, pages_bytes)):
            zf.writestr(path, data, compress_type=zipfile.ZIP_DEFLATED)
            resources.append({"name": name, "path": path, "hash": "sha256:" + hashlib.sha256(data).hexdigest(),
                              "bytes": len(data)})
        package = {"profile": "data-package", "wacz_version": WACZ_VERSION, "title": title,
                   "description": description, "software": software,
                   "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                   "resources": sorted(resources, key=lambda r: r["path"])}
        if page_list:
            package["mainPageUrl"], package["mainPageDate"] = page_list[0].url, _iso_z(page_list[0].ts)
        package_bytes = json.dumps(package, ensure_ascii=False, indent=2).encode("utf-8")
        zf.writestr("datapackage.json", package_bytes, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("datapackage-digest.json", json.dumps(
            {"path": "datapackage.json", "hash": "sha256:" + hashlib.sha256(package_bytes).hexdigest()}),
            compress_type=zipfile.ZIP_DEFLATED)
    return {"records": records, "indexed": len(lines), "pages": len(page_list), "warc_bytes": size}
