"""Import WARC files into the archive: our workers' hand-overs, and WARCs from other crawlers (Heritrix,
Browsertrix, wget, warcio), picking the reports out of them.

Each HTTP exchange becomes a capture written through the archive's own writer, so the catalog, the blob
store and our WARC files look as if the archive had fetched it: the same payload is the same blob,
a payload the archive already holds becomes a revisit. Reading is warcio's; what is ours is folding a
WARC's records back into exchanges:

- a response and its request record (either order, linked by ``WARC-Concurrent-To``);
- redirect responses folded into the capture they led to (``url`` is the first hop, as in a crawl);
- transfer coding removed and content coding decoded (bounded: a zip bomb keeps its raw bytes);
- ``revisit`` records resolved to the blob they repeat (by ``WARC-Refers-To``, by the target URI and
  date, or by payload digest), a server-not-modified revisit or a 304 recorded as not modified;
- our own ``metadata`` records (``application/vnd.nianbao.capture+json``), written by the worker that
  fetched and parsed the response they name: their parse results are used instead of parsing again.

Idempotent: every capture keeps the ``WARC-Record-ID`` it came from (``captures.source_record_id``),
so a record is never imported twice, and a file imported whole is skipped at once the next time.
An import cut off half-way and run again gives the same archive.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO
from urllib.parse import urljoin, urlsplit

import fsspec
from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import BufferedReader, ChunkedDataReader

from archive.capture import Capture, RedirectHop, content_disposition_name, header, iso, site_id_of, utcnow
from archive.errors import TornRecord
from archive.parser import PARSER_VERSION, ParseResult
from archive.store.body import Body

if TYPE_CHECKING:
    from archive.archive import Archive
    from archive.ingest.writer import ArchiveWriter

META_TYPE = "application/vnd.nianbao.capture+json"
SPOOL_OVER = 32 * 2**20  # payloads larger than this go to a temporary file, not memory
MAX_DECODED = 1 << 30  # content decoding stops here: the raw bytes are kept instead (a zip bomb)
HTTP_SCHEMES = ("http", "https")


@dataclass
class ImportResult:
    files: int = 0
    skipped_files: int = 0  # imported whole before
    records: int = 0
    captures: int = 0
    known: int = 0  # records imported before
    other: int = 0  # warcinfo, foreign metadata, dns:, urn: and the like
    bytes: int = 0
    new_blobs: int = 0
    parse_results_used: int = 0
    parsed_here: int = 0
    new_documents: int = 0
    new_reports: int = 0
    run_id: int | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)


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


# -- one exchange out of its records ------------------------------------------------------------

@dataclass
class _Pending:
    """A response-like record read, waiting for its request record (ours come after the response)."""

    cap: Capture | None
    record_id: str
    revisit: dict | None = None  # what a revisit refers to, resolved when the exchange is complete
    digest: str | None = None  # the record's WARC-Payload-Digest, as written


def _date(value: str | None) -> datetime:
    if not value:
        return utcnow()
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return utcnow()
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


class _Spool:
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


def _check_whole(rec) -> None:
    if getattr(rec.raw_stream, "limit", 0) > 0:
        raise TornRecord(f"the record {rec.rec_headers.get_header('WARC-Record-ID')} is cut short "
                         f"({rec.raw_stream.limit:,} bytes missing)")


def _decode(spool: _Spool, entity: Body, encoding: str | None) -> tuple[Body, str | None]:
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


def _http_capture(spool: _Spool, rec, url: str, rid: str, source: str) -> tuple[Capture, str | None]:
    """A Capture from a response (or revisit) record that carries HTTP headers."""
    http = rec.http_headers
    headers = list(http.headers)
    status = int(http.get_statuscode() or 0)
    reason = http.statusline.partition(" ")[2] or None
    stream = rec.raw_stream
    if (header(headers, "Transfer-Encoding") or "").lower().strip() == "chunked":
        stream = ChunkedDataReader(stream)  # falls back to the bytes as they are if not really chunked
    entity, _ = spool.read(stream)
    _check_whole(rec)
    body, note = _decode(spool, entity, header(headers, "Content-Encoding"))
    decoded = body is not entity
    cap = Capture(url=url, body=body, raw_body=entity if decoded else (entity if note else None), status=status,
                  reason=reason, headers=headers, protocol=http.protocol or "HTTP/1.1",
                  fetched_at=_date(rec.rec_headers.get_header("WARC-Date")),
                  ip_address=rec.rec_headers.get_header("WARC-IP-Address"),
                  filename=content_disposition_name(headers), site_id=site_id_of(body.head(8192)),
                  source=source, source_record_id=rid)
    return cap, note


def _attach_request(cap: Capture, req: dict | None) -> None:
    if not req:
        return
    cap.method = req["method"]
    cap.request_headers = req["headers"]
    cap.request_body = req["body"]
    cap.referrer = header(req["headers"], "Referer")


def _request_of(rec) -> dict:
    http = rec.http_headers
    method = (http.protocol or "GET").split(" ")[0] if http else "GET"
    body = rec.raw_stream.read(1 << 20) if rec.raw_stream else b""
    return {"method": method or "GET", "headers": list(http.headers) if http else [], "body": body}


# -- the importer ---------------------------------------------------------------------------------

class Importer:
    """Imports WARC files through one archive writer (one run)."""

    def __init__(self, archive: Archive, writer: ArchiveWriter, result: ImportResult, *,
                 source: str = "import") -> None:
        self.archive = archive
        self.catalog = archive.catalog
        self.writer = writer
        self.result = result
        self.source = source
        self.spool = _Spool(archive.path / "blobs" / "tmp")
        self.digests: dict[str, str] = {}  # payload digest as written in the WARC -> the record id it came in
        # what this import added, by record id and by (URI, date), for revisits of records not committed yet
        self.added: dict[str | tuple[str, str], dict] = {}

    # one file
    def import_file(self, source: str | os.PathLike, size: int, progress: Callable[[int], None] | None = None) -> None:
        name = os.fspath(source)
        try:
            first = first_record_id(source)
        except (OSError, ValueError) as e:
            self.result.errors.append((name, f"cannot read: {e}"))
            return
        if first and self.catalog.one("SELECT 1 FROM imports WHERE first_record_id = ? AND size = ? AND "
                                      "completed_at IS NOT NULL", (first, size)):
            self.result.skipped_files += 1
            return
        with self.catalog.transaction() as db:
            import_id = db["imports"].insert({"source": name, "first_record_id": first, "size": size,
                                              "run_id": self.writer.run_id, "started_at": iso(utcnow())}).last_pk
        meta: dict[str, dict] = {}
        records, captures = self.result.records, self.result.captures
        shown = 0.0
        try:
            with open_source(source) as fh:
                for _ in self._records(fh, name, meta):
                    if progress and time.monotonic() - shown > 0.2:  # a bar redrawn per record would cost more
                        shown = time.monotonic()
                        progress(fh.tell())
        except Exception as e:  # a torn or foreign file: keep what was read, say where it broke
            self.writer.commit()
            self.spool.clear()
            self.result.errors.append((name, f"not a readable WARC past this point ({type(e).__name__}: {e})"))
            return
        self.writer.commit()
        self.spool.clear()
        self._apply_metadata(meta)
        with self.catalog.transaction() as db:
            db["imports"].update(import_id, {"records": self.result.records - records,
                                             "captures": self.result.captures - captures,
                                             "completed_at": iso(utcnow())})
        self.result.files += 1

    def _records(self, fh: BinaryIO, name: str, meta: dict[str, dict]) -> Iterator[None]:
        """Walk the records, turning each finished exchange into a capture."""
        requests: dict[str, dict] = {}  # response record id -> its request, when the request came first
        hops: dict[str, RedirectHop] = {}  # where a redirect pointed -> the hop (with its record id)
        hop_ids: dict[int, str] = {}  # id(hop) -> the record it came from
        pending: _Pending | None = None
        for rec in ArchiveIterator(fh, arc2warc=True):
            self.result.records += 1
            rtype = rec.rec_type
            rid = rec.rec_headers.get_header("WARC-Record-ID") or ""
            uri = rec.rec_headers.get_header("WARC-Target-URI") or ""
            if rtype == "request":
                target = rec.rec_headers.get_header("WARC-Concurrent-To")
                req = _request_of(rec)
                if pending is not None and target == pending.record_id:
                    if pending.cap is not None:
                        _attach_request(pending.cap, req)
                elif target:
                    requests[target] = req
                yield None
                continue
            if rtype == "metadata":
                ctype = (rec.rec_headers.get_header("Content-Type") or "").split(";")[0].strip()
                if ctype == META_TYPE:
                    refers = rec.rec_headers.get_header("WARC-Refers-To")
                    with contextlib.suppress(ValueError):
                        meta[refers] = json.loads(rec.content_stream().read())
                else:
                    self.result.other += 1
                yield None
                continue
            if rtype not in ("response", "revisit", "resource"):
                self.result.other += 1
                yield None
                continue
            # a new exchange starts: the one before is complete
            if pending is not None:
                self._finish(pending, requests)
                pending = None
            scheme = urlsplit(uri).scheme.lower()
            if rtype == "resource":
                pending = self._resource(rec, uri, rid, scheme)
                yield None
                continue
            if scheme not in HTTP_SCHEMES or (not rec.http_headers and rtype == "response"):
                self.result.other += 1  # dns:, whois:, a response without HTTP headers
                yield None
                continue
            status = int(rec.http_headers.get_statuscode() or 0) if rec.http_headers else 0
            location = rec.http_headers.get_header("Location") if rec.http_headers else None
            if rtype == "response" and 300 <= status < 400 and location:
                hop = RedirectHop(uri, status, list(rec.http_headers.headers))
                hops[urljoin(uri, location.strip())] = hop
                hop_ids[id(hop)] = rid
                rec.raw_stream.read()
                pending = _Pending(None, rid)  # its request record is not kept: the final one is
                yield None
                continue
            chain: list[RedirectHop] = []
            seen = {uri}
            at = uri
            while at in hops and hops[at].url not in seen:
                hop = hops.pop(at)
                chain.insert(0, hop)
                seen.add(hop.url)
                at = hop.url
            if self._known(rid):  # imported before, with the redirects that led to it
                self.result.known += 1
                pending = _Pending(None, rid)
            else:
                pending = self._exchange(rec, rtype, uri, rid, chain)
            yield None
        if pending is not None:
            self._finish(pending, requests)
        for hop in hops.values():  # redirects that led nowhere in this file: captures of their own
            hid = hop_ids[id(hop)]
            if self._known(hid):
                continue
            cap = Capture(url=hop.url, body=b"", status=hop.status, headers=hop.headers, source=self.source,
                          source_record_id=hid)
            self._add(cap)

    def _known(self, rid: str) -> bool:
        return bool(rid) and self.catalog.one("SELECT 1 FROM captures WHERE source_record_id = ?", (rid,)) is not None

    def _resource(self, rec, uri: str, rid: str, scheme: str) -> _Pending | None:
        if scheme not in (*HTTP_SCHEMES, "file", "ftp"):
            self.result.other += 1  # urn:text:, urn:pageinfo: (Browsertrix's own) and the like
            return None
        if self._known(rid):
            self.result.known += 1
            return None
        body, _ = self.spool.read(rec.raw_stream)
        _check_whole(rec)
        ctype = rec.rec_headers.get_header("Content-Type")
        cap = Capture(url=uri, body=body, headers=[("Content-Type", ctype)] if ctype else [], source="resource",
                      fetched_at=_date(rec.rec_headers.get_header("WARC-Date")), source_record_id=rid)
        return _Pending(cap, rid, digest=rec.rec_headers.get_header("WARC-Payload-Digest"))

    def _exchange(self, rec, rtype: str, uri: str, rid: str, chain: list[RedirectHop]) -> _Pending:
        source = self.source
        if rtype == "revisit":
            if rec.http_headers:
                cap, _ = _http_capture(self.spool, rec, uri, rid, source)
            else:  # a revisit without HTTP headers: the original's are used
                cap = Capture(url=uri, body=b"", status=0, fetched_at=_date(rec.rec_headers.get_header("WARC-Date")),
                              source=source, source_record_id=rid)
            profile = rec.rec_headers.get_header("WARC-Profile") or ""
            if cap.status == 304 or profile.endswith("server-not-modified"):
                cap.status, cap.body, cap.raw_body = 304, Body(data=b""), None
                pending = _Pending(cap, rid)
            else:
                pending = _Pending(cap, rid, revisit={
                    "refers_to": rec.rec_headers.get_header("WARC-Refers-To"),
                    "uri": rec.rec_headers.get_header("WARC-Refers-To-Target-URI"),
                    "date": rec.rec_headers.get_header("WARC-Refers-To-Date"),
                    "digest": rec.rec_headers.get_header("WARC-Payload-Digest")})
        else:
            cap, note = _http_capture(self.spool, rec, uri, rid, source)
            if note:
                self.result.notes.append((uri, note))
            pending = _Pending(cap, rid, digest=rec.rec_headers.get_header("WARC-Payload-Digest"))
        if chain and pending.cap is not None:
            pending.cap.url = chain[0].url
            pending.cap.final_url = uri
            pending.cap.redirects = chain
        return pending

    def _resolve(self, ref: dict) -> dict | None:
        """The capture (sha256, status, headers) whose payload a revisit repeats, or None when the
        archive does not hold it: by record id, by target URI and date, then by payload digest."""
        c = self.catalog
        for key in (ref.get("refers_to"), (ref.get("uri"), iso(_date(ref["date"]))) if ref.get("date") else None):
            if key and key in self.added:
                return self.added[key]
        cols = "SELECT sha256, status, headers FROM captures WHERE sha256 IS NOT NULL AND "
        if ref.get("refers_to"):
            row = c.one(cols + "(source_record_id = :r OR warc_record_id = :r)", {"r": ref["refers_to"]})
            if row:
                return row
        if ref.get("uri") and ref.get("date"):
            row = c.one(cols + "(final_url = ? OR url = ?) AND fetched_at = ? ORDER BY id LIMIT 1",
                        (ref["uri"], ref["uri"], iso(_date(ref["date"]))))
            if row:
                return row
        digest = ref.get("digest") or ""
        if digest in self.digests:
            return self.added[self.digests[digest]]
        if digest.lower().startswith("sha256:") and len(digest) == 71:
            return c.one(cols + "sha256 = ? ORDER BY id LIMIT 1", (digest[7:].lower(),))
        return None

    def _finish(self, pending: _Pending, requests: dict[str, dict]) -> None:
        cap = pending.cap
        if cap is None:
            return
        if not cap.request_headers:
            _attach_request(cap, requests.pop(pending.record_id, None))
        if pending.revisit is not None:
            orig = self._resolve(pending.revisit)
            if orig is not None and not self.archive.store.exists(orig["sha256"]):
                self.writer.commit()  # the original is in this batch: publish it first
            if orig is None or not self.archive.store.exists(orig["sha256"]):
                self.result.notes.append((cap.final_url or cap.url, "a revisit of a record this archive does not "
                                          "hold: not imported (import the WARC holding the original first)"))
                return
            cap.body = Body(data=self.archive.store.read(orig["sha256"]))
            cap.raw_body = None
            if not cap.status:  # no HTTP headers of its own
                cap.status, cap.headers = orig["status"] or 200, json.loads(orig["headers"] or "[]")
        self._add(cap, pending.digest)

    def _add(self, cap: Capture, digest: str | None = None) -> None:
        added = self.writer.add(cap)
        self.result.captures += 1
        self.result.bytes += cap.body.size
        if added.sha256 and cap.source_record_id:
            entry = {"sha256": added.sha256, "status": cap.status, "headers": json.dumps(cap.headers)}
            self.added[cap.source_record_id] = entry
            self.added[(cap.final_url or cap.url, iso(cap.fetched_at))] = entry
            if digest:
                self.digests[digest] = cap.source_record_id

    # parse results carried by the file
    def _apply_metadata(self, meta: dict[str, dict]) -> None:
        """Use the parse results and capture details our workers wrote beside the responses."""
        if not meta:
            return
        from archive.examine.pipeline import Placer, hints

        placer = Placer(self.catalog)
        with self.catalog.transaction():
            for rid, m in meta.items():
                row = self.catalog.one("SELECT id, sha256 FROM captures WHERE source_record_id = ?", (rid,))
                if row is None:
                    continue
                if m.get("link_text"):
                    self.catalog.conn.execute("UPDATE captures SET link_text = ? WHERE id = ?",
                                              (m["link_text"], row["id"]))
                parsed = m.get("parse")
                if not (parsed and row["sha256"]):
                    continue
                if parsed.get("parser_version") != PARSER_VERSION:
                    continue  # parsed by another parser version: parse it here instead
                if self.catalog.scalar("SELECT examined_by FROM blobs WHERE sha256 = ?", (row["sha256"],)):
                    continue
                placed = placer.apply(row["sha256"], ParseResult.from_dict(parsed), hints(self.catalog, row["sha256"]))
                self.result.parse_results_used += 1
                self.writer.stats.new_documents += placed.new_document
                self.writer.stats.new_reports += placed.new_report


def import_warcs(archive: Archive, sources: Iterable[str | os.PathLike], *, kind: str = "import",
                 portals: list[str] | None = None, source: str = "import", run_stats: dict | None = None,
                 status: str = "ok", examine: bool = True, jobs: int | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 parse_progress: Callable[[int, int], None] | None = None) -> ImportResult:
    """Import WARC files (local paths or fsspec URLs) as one run; parse what carries no parse result.
    ``progress(bytes read, bytes in all)`` follows the (compressed) files as they are read."""
    files = list(sources)
    result = ImportResult()
    sizes: list[int | None] = []
    for f in files:
        try:
            sizes.append(source_size(f))
        except (OSError, ValueError) as e:
            sizes.append(None)
            result.errors.append((os.fspath(f), f"cannot read: {e}"))
    total = sum(s or 0 for s in sizes)
    with archive.writer(kind=kind, portals=portals, examine=False, jobs=jobs) as w:
        result.run_id = w.run_id
        imp = Importer(archive, w, result, source=source)
        done = 0
        for f, size in zip(files, sizes, strict=True):
            if size is None:
                continue
            step = (lambda at, base=done: progress(base + at, total)) if progress else None
            imp.import_file(f, size, step)
            done += size
            if progress:
                progress(done, total)
        w.commit()
        if run_stats:
            w.stats.extra.update(run_stats)
            w.stats.blocked = len(run_stats.get("blocked", []))
            w.stats.errors = len(run_stats.get("failed", []))
        if examine:
            before = len(w.placed)
            w.examine_pending(parse_progress)
            result.parsed_here = len(w.placed) - before
        result.new_blobs = w.stats.new_blobs
        w.close(status=status)
        result.new_documents, result.new_reports = w.stats.new_documents, w.stats.new_reports
    if not result.captures:
        _drop_empty_run(archive, result.run_id)
    return result


def _drop_empty_run(archive: Archive, run_id: int | None) -> None:
    """An import that added nothing leaves nothing behind: not even its run row or an empty WARC file."""
    if run_id is None:
        return
    c = archive.catalog
    if c.scalar("SELECT count(*) FROM captures WHERE run_id = ?", (run_id,)):
        return
    with c.transaction():
        c.conn.execute("UPDATE imports SET run_id = NULL WHERE run_id = ?", (run_id,))
        c.conn.execute("DELETE FROM imports WHERE run_id IS NULL AND completed_at IS NULL")
        c.conn.execute("DELETE FROM runs WHERE id = ?", (run_id,))
