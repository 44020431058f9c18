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

from archive.capture import iso, utcnow
from archive.catalog.db import Catalog
from archive.errors import ArchiveError, CatalogError
from archive.examine.pipeline import examine, pending
from archive.ingest.writer import capture_kind, capture_row
from archive.store.blobs import BlobStore
from archive.store.durability import fsync_path
from archive.store.locks import FileLock
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
    blobs_restored: int = 0  # missing from the store, written back from the WARC payload
    documents: int = 0
    reports: int = 0
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
    """Rebuild ``path``'s catalog from its WARC files and blobs; refuses a sound catalog unless ``force``."""
    path = Path(path)
    db = path / "catalog.db"
    files = sorted((path / "warc").glob("*.warc.gz"))
    with FileLock(path / "locks" / "recover.lock", "recovering the catalog"):
        problem = catalog_problem(db)
        if problem is None and not force:
            raise ArchiveError(f"the catalog {db} is sound (SQLite's check finds nothing wrong): nothing to recover; "
                               f"--force rebuilds it from the WARC files and blobs all the same")
        if not files:
            raise ArchiveError(f"there are no WARC files in {path / 'warc'}: nothing to rebuild a catalog from")
        new = path / RECOVERING
        for p in _files_of(new):
            p.unlink(missing_ok=True)
        result = RecoverResult()
        catalog = Catalog(new)
        try:
            _rebuild(catalog, BlobStore(path / "blobs"), files, result, jobs, progress, parse_progress)
        finally:
            catalog.close()
        for p in _files_of(new)[1:]:  # the WAL was checkpointed into the file: its sidecars hold nothing
            p.unlink()
        stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
        for p in _files_of(db):  # kept, never deleted: it may hold what no WARC does (harvest history)
            aside = p.with_name(p.name.replace("catalog.db", f"catalog-damaged-{stamp}.db"))
            os.replace(p, aside)
            result.set_aside.append(aside.name)
        os.replace(new, db)
        fsync_path(path)
    return result


def _files_of(db: Path) -> list[Path]:
    return [p for p in (db.with_name(db.name + s) for s in SIDECARS) if p.exists()]


def _rebuild(catalog: Catalog, store: BlobStore, files: list[Path], result: RecoverResult, jobs: int | None,
             progress: Progress | None, parse_progress: Progress | None) -> None:
    with catalog.transaction() as d:
        run_id = d["runs"].insert({"kind": "recover", "started_at": iso(utcnow()), "status": "running",
                                   "pid": os.getpid(), "host": socket.gethostname(), "portals": "[]"}).last_pk
    reader = Rebuilder(catalog, store, run_id, result)
    total, done = sum(f.stat().st_size for f in files), 0
    for f in files:
        reader.read_file(f)
        done += f.stat().st_size
        if progress:
            progress(done, total)
    examine(catalog, store, pending(catalog, retry=False), jobs=jobs, progress=parse_progress)
    result.documents = catalog.scalar("SELECT count(*) FROM documents")
    result.reports = catalog.scalar("SELECT count(*) FROM reports")
    with catalog.transaction() as d:
        d["runs"].update(run_id, {"status": "ok", "ended_at": iso(utcnow()), "pages": result.captures,
                                  "new_blobs": result.blobs_restored, "new_documents": result.documents,
                                  "new_reports": result.reports})
    catalog.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


class Rebuilder:
    """Reads WARC files back into catalog rows pointing at the records where they are."""

    def __init__(self, catalog: Catalog, store: BlobStore, run_id: int, result: RecoverResult) -> None:
        self.catalog, self.store, self.run_id, self.result = catalog, store, run_id, result
        self.spool = Spool(store.root / "tmp")
        # what earlier records held, for revisits and 304s: by record id, payload digest, (URI, date), URL
        self.by_record: dict[str, dict] = {}
        self.by_digest: dict[str, dict] = {}
        self.by_uri_date: dict[tuple[str, str], dict] = {}
        self.by_url: dict[str, dict] = {}
        self.blobs: dict[str, dict] = {}  # sha256 -> blob row, every file's

    def read_file(self, path: Path) -> None:
        places = self._places(path)
        meta: dict[str, dict] = {}
        reader = ExchangeReader(self.spool, self.result, meta, source="crawl", known=lambda rid: False)
        rows: list[dict] = []
        new_blobs: list[dict] = []
        try:
            with open(path, "rb") as fh, contextlib.redirect_stdout(io.StringIO()):  # warcio prints CRC errors
                for exchange in reader.read(fh):
                    if exchange is not None and exchange.cap is not None:
                        row = self._row(exchange, meta.get(exchange.record_id) or {}, path.name, places, new_blobs)
                        if row is not None:
                            rows.append(row)
        except Exception as e:  # a torn or damaged file: what was read before the damage is kept
            self.result.notes.append((path.name, f"not readable past this point ({type(e).__name__}: {e})"))
        self.store.publish()
        self.spool.clear()
        last = max(places.values(), key=lambda p: p[0], default=None)
        with self.catalog.transaction() as d:
            d["warc_files"].insert({"name": path.name, "created_at": self._created(path), "closed": 1,
                                    "size": last[0] + last[1] if last else 0, "records": len(places)})
            d["blobs"].insert_all(new_blobs, ignore=True)
            d["captures"].insert_all(rows)
        self.result.warc_files += 1
        self.result.captures += len(rows)

    def _places(self, path: Path) -> dict[str, tuple[int, int, str]]:
        """Each whole record's offset, length and type, by record id (a gzip member each)."""
        starts: list[tuple[int, str, str]] = []
        end = path.stat().st_size
        try:
            with open(path, "rb") as fh, contextlib.redirect_stdout(io.StringIO()):
                it = ArchiveIterator(fh)
                for rec in it:
                    starts.append((it.offset, rec.rec_headers.get_header("WARC-Record-ID") or "", rec.rec_type))
                    rec.raw_stream.read()
        except Exception:  # the damage is said by read_file; the records before it keep their places
            end = starts.pop()[0] if starts else 0
        out = {}
        for (offset, rid, rtype), nxt in zip(starts, [s[0] for s in starts[1:]] + [end], strict=True):
            out[rid] = (offset, nxt - offset, rtype)
        return out

    @staticmethod
    def _created(path: Path) -> str:
        with open(path, "rb") as fh, contextlib.redirect_stdout(io.StringIO()):
            for rec in ArchiveIterator(fh):
                return rec.rec_headers.get_header("WARC-Date") or iso(utcnow())
        return iso(utcnow())

    def _row(self, exchange: Exchange, context: dict, name: str, places: dict, new_blobs: list[dict]) -> dict | None:
        cap = exchange.cap
        cap.source_record_id = None  # the reader names the record it read; only an import's foreign one is kept
        for key in ("link_text", "portal_agency", "source", "filename", "source_record_id"):
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
        if cap.status == 304 or exchange.revisit is not None:
            held = self.by_url.get(uri) if cap.status == 304 else self._resolve(exchange.revisit)
            if held is None and cap.status != 304:
                self.result.notes.append((uri, "a revisit of a record no WARC file here holds: left out"))
                return None
            held = held or {"sha256": None, "size": 0, "kind": None, "digest": None, "site_id": None}
            cap.site_id = cap.site_id or held["site_id"]  # a 304 has no body: the crawl read it from the one it kept
            return capture_row(cap, self.run_id, held["sha256"], held["size"], held["kind"], ref,
                               held["digest"] if cap.status == 304 else exchange.revisit.get("digest"))
        h = hashlib.sha256()
        for chunk in cap.body.chunks():
            h.update(chunk)
        sha = h.hexdigest()
        kind = capture_kind(cap, cap.body.head())
        digest = exchange.digest or f"sha256:{sha}"
        held = {"sha256": sha, "size": cap.body.size, "kind": kind, "digest": digest, "site_id": cap.site_id}
        if sha not in self.blobs:
            blob = self.store.stage(cap.body, sha256=sha)  # the stored one, or written back from the WARC
            self.result.blobs_restored += int(blob.new)
            self.blobs[sha] = {"sha256": sha, "size": cap.body.size, "kind": kind, "first_seen": fetched,
                               "stored_size": blob.stored_size, "encoding": blob.encoding}
            new_blobs.append(self.blobs[sha])
            self.result.blobs += 1
        self.by_record[exchange.record_id] = self.by_digest[digest] = held
        self.by_uri_date[(uri, fetched)] = self.by_url[uri] = self.by_url[cap.url] = held
        return capture_row(cap, self.run_id, sha, cap.body.size, kind, ref, digest)

    def _resolve(self, ref: dict) -> dict | None:
        """What a revisit repeats: by the record it names, by target URI and date, then by payload digest."""
        if ref.get("refers_to") in self.by_record:
            return self.by_record[ref["refers_to"]]
        if ref.get("uri") and ref.get("date"):
            key = (ref["uri"], iso(warc_date(ref["date"])))
            if key in self.by_uri_date:
                return self.by_uri_date[key]
        return self.by_digest.get(ref.get("digest") or "")
