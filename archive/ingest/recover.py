"""Rebuild a lost or damaged catalog from what the archive holds twice over: the WARC files (every capture,
with the metadata record the writer puts beside each one that had context the HTTP exchange does not carry)
and the blob store (every original; one the store lost is written back from its WARC payload).

Captures are re-read with the importer's reader (redirects folded, bodies decoded) and cataloged where
their records already are: nothing is rewritten, so the WARC files stay byte for byte as they were. The
parsed data is then derived again, as ``reparse`` would. The new catalog is built beside the old one and
put in its place only when complete; the damaged file is kept under another name. What a catalog holds
and no WARC does is not rebuilt: run and harvest history (one ``recover`` run holds every capture), and
the context of captures written before the writer kept it (link texts of older crawls).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from archive.capture import Capture, iso, utcnow
from archive.catalog import aliases
from archive.catalog.db import Catalog
from archive.errors import ArchiveError, CatalogError, LockHeld
from archive.examine.pipeline import examine, pending
from archive.ingest.writer import WRITERS_LOCK, capture_kind, capture_row
from archive.store.blobs import BlobStore
from archive.store.durability import fsync_path
from archive.store.locks import FileLock
from archive.warc import members
from archive.warc.records import Exchange, ExchangeReader, Spool, warc_date
from archive.warc.writer import WarcRef

RECOVERING = "catalog.recovering.db"
SIDECARS = ("", "-wal", "-shm", "-journal")
Progress = Callable[[int, int], None]


@dataclass
class RecoverResult:
    warc_files: int = 0
    records: int = 0
    other: int = 0  # warcinfo, requests' companions and the like (the reader's tally)
    known: int = 0
    captures: int = 0
    blobs: int = 0
    blobs_restored: int = 0  # missing from the store or damaged there, written back from the WARC payload
    documents: int = 0
    reports: int = 0
    aliases: int = 0  # agency aliases taken from agency-aliases.json (nianbao agencies merge)
    set_aside: list[str] = field(default_factory=list)  # the damaged catalog's files, kept
    notes: list[tuple[str, str]] = field(default_factory=list)  # (file or URL, what could not be recovered)

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items()}


def catalog_problem(path: Path) -> str | None:
    """What is wrong with the catalog file at ``path``, in words; None when SQLite finds it sound."""
    if not path.exists():
        return "there is no catalog.db"
    try:
        catalog = Catalog(path, readonly=True)
    except CatalogError as e:
        return str(e)
    try:
        problems = catalog.problems(quick=True)
    finally:
        catalog.close()
    return "; ".join(problems[:3]) or None


def recover(path: Path | str, *, force: bool = False, jobs: int | None = None, progress: Progress | None = None,
            parse_progress: Progress | None = None) -> RecoverResult:
    """Rebuild ``path``'s catalog from its WARC files and blobs; refuses a sound catalog unless ``force``,
    and waits for no writer: one at work (a crawl, an ingest) must be stopped first."""
    path = Path(path)
    db = path / "catalog.db"
    writers = FileLock(path / "locks" / WRITERS_LOCK, "writing to the archive")
    try:
        writers.acquire(what="recover")
    except LockHeld as e:
        raise ArchiveError(f"a writer is at work on {path} ({e}): stop it before recovering the catalog") from e
    try:
        problem = catalog_problem(db)
        if problem is None and not force:
            raise ArchiveError(f"the catalog {db} is sound (SQLite's check finds nothing wrong): nothing to recover; "
                               f"--force rebuilds it from the WARC files and blobs all the same")
        files = sorted((path / "warc").glob("*.warc.gz"))  # listed under the lock: no writer adds one now
        if not files:
            raise ArchiveError(f"there are no WARC files in {path / 'warc'}: nothing to rebuild a catalog from")
        new = path / RECOVERING
        for p in _files_of(new):
            p.unlink()
        result = RecoverResult()
        catalog = Catalog(new)
        try:
            # the merges of agency names, which no WARC file holds, before any report is filed
            result.aliases = aliases.restore(catalog, path / aliases.FILE)
            _rebuild(catalog, BlobStore(path / "blobs"), files, result, jobs, progress, parse_progress)
        finally:
            catalog.close()
        for p in _files_of(new)[1:]:  # the WAL was checkpointed into the file: its sidecars hold nothing
            p.unlink()
        stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
        # sidecars first: a kill -9 half-way leaves the damaged file with its WAL or both beside it, never apart
        for p in reversed(_files_of(db)):  # kept, never deleted: it may hold what no WARC does (harvest history)
            aside = p.with_name(p.name.replace("catalog.db", f"catalog-damaged-{stamp}.db"))
            os.replace(p, aside)
            result.set_aside.append(aside.name)
        os.replace(new, db)
        fsync_path(path)
    finally:
        writers.release()
    return result


def _files_of(db: Path) -> list[Path]:
    return [p for p in (db.with_name(db.name + s) for s in SIDECARS) if p.exists()]


def _rebuild(catalog: Catalog, store: BlobStore, files: list[Path], result: RecoverResult, jobs: int | None,
             progress: Progress | None, parse_progress: Progress | None) -> None:
    with catalog.transaction() as d:
        run_id = d["runs"].insert({"kind": "recover", "started_at": iso(utcnow()), "status": "running",
                                   "pid": os.getpid(), "host": socket.gethostname(), "portals": "[]"}).last_pk
    total = sum(f.stat().st_size for f in files)
    # first every file's members, CRC-checked: the context records of all of them (one may have landed in the
    # next file) and the byte ranges damage made unreadable
    scans, context, done = {}, {}, 0
    for f in files:
        scans[f] = scanned = members.scan(f)
        for m in scanned.members:
            if m.rec_type == "metadata" and m.refers_to and (found := members.context_of(m)):
                context.setdefault(m.refers_to, {}).update(found)  # several records about one merge, later win
        for start, end in scanned.damaged:
            result.notes.append((f.name, f"bytes {start}-{end} are damaged (a record whose compressed data does "
                                         f"not check): the records in them are lost, the rest is read"))
        done += f.stat().st_size
        if progress:
            progress(done // 2, total)
    reader = Rebuilder(catalog, store, run_id, result, context)
    done = 0
    for f in files:
        reader.read_file(f, scans[f])
        done += f.stat().st_size
        if progress:
            progress(total // 2 + done // 2, total)
    reader.finish()
    examine(catalog, store, pending(catalog, retry=False), jobs=jobs, progress=parse_progress)
    result.documents = catalog.scalar("SELECT count(*) FROM documents")
    result.reports = catalog.scalar("SELECT count(*) FROM reports")
    with catalog.transaction() as d:
        d["runs"].update(run_id, {"status": "ok", "ended_at": iso(utcnow()), "pages": result.captures,
                                  "new_blobs": result.blobs_restored, "new_documents": result.documents,
                                  "new_reports": result.reports})
    catalog.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


Held = dict  # what a capture held: sha256, size, kind, digest, site_id


class Rebuilder:
    """Reads WARC files back into catalog rows pointing at the records where they are. What an earlier
    file held is asked of the catalog being built (indexed), this file's of a dict, so memory stays flat."""

    def __init__(self, catalog: Catalog, store: BlobStore, run_id: int, result: RecoverResult,
                 context: dict[str, dict]) -> None:
        self.catalog, self.store, self.run_id, self.result = catalog, store, run_id, result
        self.context = context
        self.spool = Spool(store.root / "tmp")
        self.deferred: list[tuple[Capture, WarcRef, dict]] = []  # revisits of what a later file holds
        self._file: dict = {}

    def read_file(self, path: Path, scanned: members.Scan) -> None:
        places = {m.record_id: (m.offset, m.length, m.rec_type) for m in scanned.members if m.record_id}
        self._file = {"record": {}, "digest": {}, "uri_date": {}, "url": {}, "blobs": set()}
        reader = ExchangeReader(self.spool, self.result, {}, source="crawl", known=lambda rid: False)
        rows: list[dict] = []
        new_blobs: list[dict] = []

        def take(exchange: Exchange | None) -> None:
            if exchange is not None and exchange.cap is not None:
                row = self._row(exchange, path.name, places, new_blobs)
                if row is not None:
                    rows.append(row)

        stream = io.BufferedReader(members.GoodMembers(path, scanned.members), 1 << 20)
        try:
            with stream, contextlib.redirect_stdout(io.StringIO()):  # warcio prints what it forgives
                for exchange in reader.read(stream):
                    take(exchange)
        except Exception as e:  # a record warcio cannot read although its compressed data checks
            take(reader.flush())
            self.result.notes.append((path.name, f"not readable past this point ({type(e).__name__}: {e})"))
        self.store.publish()
        self.spool.clear()
        end = max((m.offset + m.length for m in scanned.members), default=0)
        with self.catalog.transaction() as d:
            d["warc_files"].insert({"name": path.name, "created_at": self._created(path, scanned), "closed": 1,
                                    "size": end, "records": len(scanned.members)})
            d["blobs"].insert_all(new_blobs, ignore=True)
            d["captures"].insert_all(rows)
        self.result.warc_files += 1
        self.result.captures += len(rows)

    def finish(self) -> None:
        """The revisits whose original was in a file read after theirs (two writers at once)."""
        rows = []
        for cap, ref, revisit in self.deferred:
            held = self._resolve(revisit)
            if held is None:
                self.result.notes.append((cap.final_url or cap.url, "a revisit of a record no WARC file here "
                                          "holds: left out"))
                continue
            rows.append(capture_row(cap, self.run_id, held["sha256"], held["size"], held["kind"], ref,
                                    revisit.get("digest")))
        with self.catalog.transaction() as d:
            d["captures"].insert_all(rows)
        self.result.captures += len(rows)

    @staticmethod
    def _created(path: Path, scanned: members.Scan) -> str:
        first = scanned.members[0] if scanned.members else None
        if first is not None:
            with open(path, "rb") as fh, contextlib.redirect_stdout(io.StringIO()):
                fh.seek(first.offset)
                for rec in ArchiveIterator(fh):
                    return rec.rec_headers.get_header("WARC-Date") or iso(utcnow())
        return iso(utcnow())

    def _row(self, exchange: Exchange, name: str, places: dict, new_blobs: list[dict]) -> dict | None:
        cap = exchange.cap
        context = self.context.get(exchange.record_id) or {}
        cap.source_record_id = None  # the reader names the record it read; only an import's foreign one is kept
        for key in ("url", "link_text", "portal_agency", "user_agency", "user_year", "source", "filename",
                    "source_record_id"):
            if context.get(key):
                setattr(cap, key, context[key])
        if context.get("headers"):
            cap.headers = [tuple(h) for h in context["headers"]]
        uri = cap.final_url or cap.url
        place = places.get(exchange.record_id)
        if place is None:
            self.result.notes.append((uri, "its record could not be located in the file"))
            return None
        ref = WarcRef(name, place[0], place[1], exchange.record_id, place[2], exchange.digest)
        fetched = iso(cap.fetched_at)
        if cap.status == 304:
            held = self._latest(uri) or {"sha256": None, "size": 0, "kind": None, "digest": None, "site_id": None}
            cap.site_id = cap.site_id or held["site_id"]  # a 304 has no body: the crawl read it from the one it kept
            return capture_row(cap, self.run_id, held["sha256"], held["size"], held["kind"], ref, held["digest"])
        if exchange.revisit is not None:
            held = self._resolve(exchange.revisit)
            if held is None:
                self.deferred.append((cap, ref, exchange.revisit))
                return None
            return capture_row(cap, self.run_id, held["sha256"], held["size"], held["kind"], ref,
                               exchange.revisit.get("digest"))
        h = hashlib.sha256()
        for chunk in cap.body.chunks():
            h.update(chunk)
        sha = h.hexdigest()
        kind = capture_kind(cap, cap.body.head())
        digest = exchange.digest or f"sha256:{sha}"
        if sha not in self._file["blobs"] and not self.catalog.one("SELECT 1 FROM blobs WHERE sha256 = ?", (sha,)):
            if self.store.check(sha) == "corrupt":  # the WARC holds the bytes that hash to its name: they replace it
                self.store.locate(sha)[0].unlink()
            blob = self.store.stage(cap.body, sha256=sha)  # the stored one, or written back from the WARC
            self.result.blobs_restored += int(blob.new)
            new_blobs.append({"sha256": sha, "size": cap.body.size, "kind": kind, "first_seen": fetched,
                              "stored_size": blob.stored_size, "encoding": blob.encoding})
            self._file["blobs"].add(sha)
            self.result.blobs += 1
        held = {"sha256": sha, "size": cap.body.size, "kind": kind, "digest": digest, "site_id": cap.site_id}
        f = self._file
        f["record"][exchange.record_id] = f["digest"][digest] = held
        f["uri_date"][(uri, fetched)] = f["url"][uri] = f["url"][cap.url] = held
        return capture_row(cap, self.run_id, sha, cap.body.size, kind, ref, digest)

    def _held(self, where: str, params: tuple) -> Held | None:
        row = self.catalog.one("SELECT sha256, size, kind, payload_digest AS digest, site_id FROM captures "
                               f"WHERE sha256 IS NOT NULL AND {where} ORDER BY id DESC LIMIT 1", params)
        return row

    def _latest(self, uri: str) -> Held | None:
        """What the last capture of this URL held (a 304 repeats it), as the writer looked it up."""
        return self._file["url"].get(uri) or self._held("(final_url = ? OR url = ?)", (uri, uri))

    def _resolve(self, ref: dict) -> Held | None:
        """What a revisit repeats: by the record it names, by target URI and date, then by payload digest (an
        earlier file's by the last two, which the catalog indexes; an identical payload is one blob)."""
        f = self._file
        if ref.get("refers_to") in f.get("record", {}):
            return f["record"][ref["refers_to"]]
        key = (ref["uri"], iso(warc_date(ref["date"]))) if ref.get("uri") and ref.get("date") else None
        if key and key in f.get("uri_date", {}):
            return f["uri_date"][key]
        digest = ref.get("digest") or ""
        if digest in f.get("digest", {}):
            return f["digest"][digest]
        if key:
            found = self._held("final_url = ? AND fetched_at = ? AND warc_type IN ('response', 'resource')", key)
            if found:
                return found
        return self._held("payload_digest = ? AND warc_type IN ('response', 'resource')", (digest,)) if digest else None
