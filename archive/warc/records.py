"""Reading a WARC file's records back into whole HTTP exchanges, for the importer
(:mod:`archive.ingest.warc_import`) to fold into captures. Reading is warcio's; what is ours is pairing
its records:

- a response and its request record (either order, linked by ``WARC-Concurrent-To``);
- redirect responses folded into the capture they led to (``url`` is the first hop, as in a crawl);
- transfer coding removed and content coding decoded (bounded: a zip bomb keeps its raw bytes);
- a record cut short refused (:class:`~archive.errors.TornRecord`), not read as a shorter body;
- ``revisit`` records passed on with what they refer to, a server-not-modified revisit or a 304 as not
  modified; our own ``metadata`` records (:data:`META_TYPE`) collected by the record they name.

No catalog here: whether a record was imported before is the caller's ``known`` to answer.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import urljoin, urlsplit

import fsspec
from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import BufferedReader, ChunkedDataReader

from archive.capture import Capture, RedirectHop, content_disposition_name, header, site_id_of, utcnow
from archive.errors import TornRecord
from archive.store.body import Body

META_TYPE = "application/vnd.nianbao.capture+json"
SPOOL_OVER = 32 * 2**20  # payloads larger than this go to a temporary file, not memory
MAX_DECODED = 1 << 30  # content decoding stops here: the raw bytes are kept instead (a zip bomb)
HTTP_SCHEMES = ("http", "https")


def open_source(source: str | os.PathLike) -> BinaryIO:
    """A local path, or any URL fsspec opens (``s3://…``, ``file://…``)."""
    return fsspec.open(os.fspath(source), "rb").open()


def source_size(source: str | os.PathLike) -> int:
    fs, path = fsspec.core.url_to_fs(os.fspath(source))
    return int(fs.size(path))


def first_record_id(source: str | os.PathLike) -> str | None:
    """The first record's id: with the size, a file's identity for skipping one imported whole."""
    with open_source(source) as fh:
        for rec in ArchiveIterator(fh, no_record_parse=True):
            return rec.rec_headers.get_header("WARC-Record-ID")
    return None


def warc_date(value: str | None) -> datetime:
    """A ``WARC-Date`` as an aware datetime (now, when it is missing or unreadable)."""
    if not value:
        return utcnow()
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return utcnow()
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


class Spool:
    """Payloads read into memory, or into temporary files (removed when the batch is committed)."""

    def __init__(self, tmp_dir: Path) -> None:
        self.tmp_dir = tmp_dir
        self.paths: list[Path] = []

    def read(self, stream, limit: int | None = None) -> tuple[Body, bool]:
        """Read ``stream`` to its end (or ``limit`` bytes); return the body and whether it was cut."""
        buf = bytearray()
        fh = None
        total = 0
        while chunk := stream.read(1 << 20):
            total += len(chunk)
            if limit is not None and total > limit:
                if fh is not None:
                    fh.close()
                return Body(data=b""), True
            if fh is not None:
                fh.write(chunk)
            else:
                buf += chunk
                if len(buf) > SPOOL_OVER:
                    self.tmp_dir.mkdir(parents=True, exist_ok=True)
                    fd, name = tempfile.mkstemp(prefix="import-", dir=self.tmp_dir)
                    fh = os.fdopen(fd, "wb")
                    self.paths.append(Path(name))
                    fh.write(buf)
                    buf = bytearray()
        if fh is not None:
            fh.close()
            return Body(path=self.paths[-1]), False
        return Body(data=bytes(buf)), False

    def clear(self) -> None:
        for p in self.paths:
            with contextlib.suppress(OSError):
                p.unlink()
        self.paths.clear()


def check_whole(rec) -> None:
    """Refuse a record whose block ends before its ``Content-Length`` (a file cut off mid-record)."""
    if getattr(rec.raw_stream, "limit", 0) > 0:
        raise TornRecord(f"the record {rec.rec_headers.get_header('WARC-Record-ID')} is cut short "
                         f"({rec.raw_stream.limit:,} bytes missing)")


def decode(spool: Spool, entity: Body, encoding: str | None) -> tuple[Body, str | None]:
    """The content-decoded body, or the entity itself with a note when it cannot (or must not) be decoded."""
    enc = (encoding or "").strip().lower()
    enc = {"x-gzip": "gzip"}.get(enc, enc)
    if not enc or enc == "identity":
        return entity, None
    if enc not in BufferedReader.get_supported_decompressors():
        return entity, f"content coding {enc!r} is not supported: the body is kept as sent"
    try:
        with entity.open() as raw:
            body, cut = spool.read(BufferedReader(raw, decomp_type=enc), limit=MAX_DECODED)
    except Exception as e:  # a broken stream: keep what was sent
        return entity, f"the {enc} body cannot be decoded ({type(e).__name__}): it is kept as sent"
    if cut:
        return entity, f"the {enc} body decodes to more than {MAX_DECODED >> 20} MB: it is kept as sent"
    return body, None


def http_capture(spool: Spool, rec, url: str, rid: str, source: str) -> tuple[Capture, str | None]:
    """A Capture from a response (or revisit) record that carries HTTP headers, and a note if its body
    could not be decoded."""
    http = rec.http_headers
    headers = list(http.headers)
    status = int(http.get_statuscode() or 0)
    reason = http.statusline.partition(" ")[2] or None
    stream = rec.raw_stream
    if (header(headers, "Transfer-Encoding") or "").lower().strip() == "chunked":
        stream = ChunkedDataReader(stream)  # falls back to the bytes as they are if not really chunked
    entity, _ = spool.read(stream)
    check_whole(rec)
    body, note = decode(spool, entity, header(headers, "Content-Encoding"))
    decoded = body is not entity
    cap = Capture(url=url, body=body, raw_body=entity if decoded else (entity if note else None), status=status,
                  reason=reason, headers=headers, protocol=http.protocol or "HTTP/1.1",
                  fetched_at=warc_date(rec.rec_headers.get_header("WARC-Date")),
                  ip_address=rec.rec_headers.get_header("WARC-IP-Address"),
                  filename=content_disposition_name(headers), site_id=site_id_of(body.head(8192)),
                  source=source, source_record_id=rid)
    return cap, note


def attach_request(cap: Capture, req: dict | None) -> None:
    if not req:
        return
    cap.method = req["method"]
    cap.request_headers = req["headers"]
    cap.request_body = req["body"]
    cap.referrer = header(req["headers"], "Referer")


def request_of(rec) -> dict:
    http = rec.http_headers
    method = (http.protocol or "GET").split(" ")[0] if http else "GET"
    body = rec.raw_stream.read(1 << 20) if rec.raw_stream else b""
    return {"method": method or "GET", "headers": list(http.headers) if http else [], "body": body}


@dataclass
class Exchange:
    """A response, revisit or resource record read, with its request and the redirects that led to it
    (``cap`` is None while pending for a record not to be imported: a redirect hop, one known before)."""

    cap: Capture | None
    record_id: str
    revisit: dict | None = None  # what a revisit refers to (refers_to, uri, date, digest), for the caller to resolve
    digest: str | None = None  # the record's WARC-Payload-Digest, as written


class Tally(Protocol):
    """The counts a reading keeps (an :class:`~archive.ingest.warc_import.ImportResult` is one)."""

    records: int
    other: int  # warcinfo, foreign metadata, dns:, urn: and the like
    known: int  # records the caller has imported before
    notes: list[tuple[str, str]]


class ExchangeReader:
    """Reads one WARC file's records into :class:`Exchange` s, counting into ``tally`` and collecting our
    metadata records into ``meta`` (by the record they name)."""

    def __init__(self, spool: Spool, tally: Tally, meta: dict[str, dict], *, source: str,
                 known: Callable[[str], bool]) -> None:
        self.spool = spool
        self.tally = tally
        self.meta = meta
        self.source = source
        self.known = known
        self.requests: dict[str, dict] = {}  # response record id -> its request, when the request came first
        self.hops: dict[str, RedirectHop] = {}  # where a redirect pointed -> the hop (with its record id)
        self.hop_ids: dict[int, str] = {}  # id(hop) -> the record it came from
        self.pending: Exchange | None = None  # read, waiting for its request record (ours come after it)

    def read(self, fh: BinaryIO) -> Iterator[Exchange | None]:
        """``None`` after each record (for progress), and each exchange once complete: before the record
        that completed it is read further, so the caller's ``known`` sees what it has just added."""
        for rec in ArchiveIterator(fh, arc2warc=True):
            self.tally.records += 1
            rtype = rec.rec_type
            if rtype == "request":
                self._request(rec)
            elif rtype == "metadata":
                self._metadata(rec)
            elif rtype not in ("response", "revisit", "resource"):
                self.tally.other += 1
            else:  # a new exchange starts: the one before is complete
                if done := self._complete():
                    yield done
                self.pending = self._response(rec, rtype)
            yield None
        if done := self._complete():
            yield done
        yield from self._dead_ends()

    def flush(self) -> Exchange | None:
        """The exchange read last, complete as far as it got (a reading that stopped early keeps it)."""
        return self._complete()

    def _complete(self) -> Exchange | None:
        """The pending exchange with its request, if it is one to import; nothing pending any more."""
        pending, self.pending = self.pending, None
        if pending is None or pending.cap is None:
            return None
        if not pending.cap.request_headers:
            attach_request(pending.cap, self.requests.pop(pending.record_id, None))
        return pending

    def _dead_ends(self) -> Iterator[Exchange]:
        """Redirects that led nowhere in this file: captures of their own."""
        for hop in self.hops.values():
            hid = self.hop_ids[id(hop)]
            if self.known(hid):
                continue
            yield Exchange(Capture(url=hop.url, body=b"", status=hop.status, headers=hop.headers, source=self.source,
                                   source_record_id=hid), hid)

    def _request(self, rec) -> None:
        target = rec.rec_headers.get_header("WARC-Concurrent-To")
        req = request_of(rec)
        if self.pending is not None and target == self.pending.record_id:
            if self.pending.cap is not None:
                attach_request(self.pending.cap, req)
        elif target:
            self.requests[target] = req

    def _metadata(self, rec) -> None:
        ctype = (rec.rec_headers.get_header("Content-Type") or "").split(";")[0].strip()
        if ctype == META_TYPE:
            refers = rec.rec_headers.get_header("WARC-Refers-To")
            with contextlib.suppress(ValueError):
                self.meta[refers] = json.loads(rec.content_stream().read())
        else:
            self.tally.other += 1

    def _response(self, rec, rtype: str) -> Exchange | None:
        """A response, revisit or resource record, read (or skipped) and left pending."""
        rid = rec.rec_headers.get_header("WARC-Record-ID") or ""
        uri = rec.rec_headers.get_header("WARC-Target-URI") or ""
        scheme = urlsplit(uri).scheme.lower()
        if rtype == "resource":
            return self._resource(rec, uri, rid, scheme)
        local_revisit = rtype == "revisit" and scheme in ("file", "ftp")  # a local file archived again
        if (scheme not in HTTP_SCHEMES and not local_revisit) or (not rec.http_headers and rtype == "response"):
            self.tally.other += 1  # dns:, whois:, a response without HTTP headers
            return None
        status = int(rec.http_headers.get_statuscode() or 0) if rec.http_headers else 0
        location = rec.http_headers.get_header("Location") if rec.http_headers else None
        if rtype == "response" and 300 <= status < 400 and location:
            hop = RedirectHop(uri, status, list(rec.http_headers.headers))
            self.hops[urljoin(uri, location.strip())] = hop
            self.hop_ids[id(hop)] = rid
            rec.raw_stream.read()
            return Exchange(None, rid)  # its request record is not kept: the final one is
        chain = self._chain(uri)
        if self.known(rid):  # imported before, with the redirects that led to it
            self.tally.known += 1
            return Exchange(None, rid)
        return self._exchange(rec, rtype, uri, rid, chain)

    def _chain(self, uri: str) -> list[RedirectHop]:
        """The redirects read so far that led to ``uri``, first hop first (each used once)."""
        chain: list[RedirectHop] = []
        seen = {uri}
        at = uri
        while at in self.hops and self.hops[at].url not in seen:
            hop = self.hops.pop(at)
            chain.insert(0, hop)
            seen.add(hop.url)
            at = hop.url
        return chain

    def _resource(self, rec, uri: str, rid: str, scheme: str) -> Exchange | None:
        if scheme not in (*HTTP_SCHEMES, "file", "ftp"):
            self.tally.other += 1  # urn:text:, urn:pageinfo: (Browsertrix's own) and the like
            return None
        if self.known(rid):
            self.tally.known += 1
            return None
        body, _ = self.spool.read(rec.raw_stream)
        check_whole(rec)
        ctype = rec.rec_headers.get_header("Content-Type")
        cap = Capture(url=uri, body=body, headers=[("Content-Type", ctype)] if ctype else [], source="resource",
                      fetched_at=warc_date(rec.rec_headers.get_header("WARC-Date")), source_record_id=rid)
        return Exchange(cap, rid, digest=rec.rec_headers.get_header("WARC-Payload-Digest"))

    def _exchange(self, rec, rtype: str, uri: str, rid: str, chain: list[RedirectHop]) -> Exchange:
        if rtype == "revisit":
            exchange = self._revisit(rec, uri, rid)
        else:
            cap, note = http_capture(self.spool, rec, uri, rid, self.source)
            if note:
                self.tally.notes.append((uri, note))
            exchange = Exchange(cap, rid, digest=rec.rec_headers.get_header("WARC-Payload-Digest"))
        if chain and exchange.cap is not None:
            exchange.cap.url = chain[0].url
            exchange.cap.final_url = uri
            exchange.cap.redirects = chain
        return exchange

    def _revisit(self, rec, uri: str, rid: str) -> Exchange:
        h = rec.rec_headers
        if rec.http_headers:
            cap, _ = http_capture(self.spool, rec, uri, rid, self.source)
        else:  # a revisit without HTTP headers: the original's are used
            cap = Capture(url=uri, body=b"", status=0, fetched_at=warc_date(h.get_header("WARC-Date")),
                          source=self.source, source_record_id=rid)
        profile = h.get_header("WARC-Profile") or ""
        if cap.status == 304 or profile.endswith("server-not-modified"):
            cap.status, cap.body, cap.raw_body = 304, Body(data=b""), None
            return Exchange(cap, rid)
        return Exchange(cap, rid, revisit={
            "refers_to": h.get_header("WARC-Refers-To"), "uri": h.get_header("WARC-Refers-To-Target-URI"),
            "date": h.get_header("WARC-Refers-To-Date"), "digest": h.get_header("WARC-Payload-Digest")})
