"""Import WARC files into the archive: our workers' hand-overs, and WARCs from other crawlers (Heritrix,
Browsertrix, wget, warcio), picking the reports out of them.

Each HTTP exchange becomes a capture written through the archive's own writer, so the catalog, the blob
store and our WARC files look as if the archive had fetched it: the same payload is the same blob,
a payload the archive already holds becomes a revisit. Reading a WARC's records back into exchanges
(a response with its request, redirects folded into the capture they led to, bodies decoded) is
:mod:`archive.warc.records`; here the exchanges become captures:

- ``revisit`` records resolved to the blob they repeat (by ``WARC-Refers-To``, by the target URI and
  date, or by payload digest), a server-not-modified revisit or a 304 recorded as not modified;
- our own ``metadata`` records (``application/vnd.nianbao.capture+json``), written by the worker that
  fetched and parsed the response they name: their parse results are used instead of parsing again.

Idempotent: every capture keeps the ``WARC-Record-ID`` it came from (``captures.source_record_id``),
so a record is never imported twice, and a file imported whole is skipped at once the next time.
An import cut off half-way and run again gives the same archive.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from archive.capture import Capture, iso, utcnow
from archive.ingest.writer import CONTEXT_FORMAT
from archive.parser import PARSER_VERSION, ParseResult
from archive.store.body import Body
from archive.warc.records import (
    META_TYPE,
    Exchange,
    ExchangeReader,
    Spool,
    first_record_id,
    open_source,
    source_size,
    warc_date,
)

if TYPE_CHECKING:
    from archive.archive import Archive
    from archive.ingest.writer import ArchiveWriter


@dataclass
class ImportResult:
    files: int = 0
    skipped_files: int = 0  # imported whole before
    records: int = 0
    captures: int = 0
    known: int = 0  # records imported before
    already_held: int = 0  # captures the archive held under other record ids (same URL, time and payload)
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


# capture columns a metadata record of ours may carry (a worker's hand-over, the archive's own WARC export)
CONTEXT_COLUMNS = ("link_text", "portal_agency", "user_agency", "user_year")


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
        self.spool = Spool(archive.path / "blobs" / "tmp")
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
        reader = ExchangeReader(self.spool, self.result, meta, source=self.source, known=self._known)
        try:
            with open_source(source) as fh:
                for exchange in reader.read(fh):
                    if exchange is not None:
                        self._finish(exchange)
                    elif progress and time.monotonic() - shown > 0.2:  # a bar redrawn per record would cost more
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

    def _known(self, rid: str) -> bool:
        """A record imported before, or one of the archive's own (its WARC export read back)."""
        return bool(rid) and self.catalog.one("SELECT 1 FROM captures WHERE source_record_id = :r OR "
                                              "warc_record_id = :r", {"r": rid}) is not None

    def _held(self, cap: Capture) -> bool:
        """The archive holds this capture already under another record id: the same URL, fetch time and
        payload (a WARC another tool rewrote from ours, say). The payload is hashed only when URL and time
        match."""
        url, when = cap.final_url or cap.url, iso(cap.fetched_at)
        shas = {r["sha256"] for r in self.catalog.rows(
            "SELECT sha256 FROM captures WHERE (url = :u OR final_url = :u) AND fetched_at = :t AND sha256 IS NOT NULL",
            {"u": url, "t": when})}
        if not shas:
            return False
        digest = hashlib.sha256()
        for chunk in cap.body.chunks():
            digest.update(chunk)
        return digest.hexdigest() in shas

    def _resolve(self, ref: dict) -> dict | None:
        """The capture (sha256, status, headers) whose payload a revisit repeats, or None when the
        archive does not hold it: by record id, by target URI and date, then by payload digest."""
        c = self.catalog
        for key in (ref.get("refers_to"), (ref.get("uri"), iso(warc_date(ref["date"]))) if ref.get("date") else None):
            if key and key in self.added:
                return self.added[key]
        cols = "SELECT sha256, status, headers FROM captures WHERE sha256 IS NOT NULL AND "
        if ref.get("refers_to"):
            row = c.one(cols + "(source_record_id = :r OR warc_record_id = :r)", {"r": ref["refers_to"]})
            if row:
                return row
        if ref.get("uri") and ref.get("date"):
            row = c.one(cols + "(final_url = ? OR url = ?) AND fetched_at = ? ORDER BY id LIMIT 1",
                        (ref["uri"], ref["uri"], iso(warc_date(ref["date"]))))
            if row:
                return row
        digest = ref.get("digest") or ""
        if digest in self.digests:
            return self.added[self.digests[digest]]
        if digest.lower().startswith("sha256:") and len(digest) == 71:
            return c.one(cols + "sha256 = ? ORDER BY id LIMIT 1", (digest[7:].lower(),))
        return None

    def _finish(self, exchange: Exchange) -> None:
        """Add one complete exchange as a capture; a revisit takes the payload of the capture it repeats."""
        cap = exchange.cap
        if exchange.revisit is not None:
            orig = self._resolve(exchange.revisit)
            if orig is not None and not self.archive.store.exists(orig["sha256"]):
                self.writer.commit()  # the original is in this batch: publish it first
            if orig is None or not self.archive.store.exists(orig["sha256"]):
                self.result.notes.append((cap.final_url or cap.url, "a revisit of a record this archive does not "
                                          "hold: not imported (import the WARC holding the original first)"))
                return
            cap.body = Body(data=self.archive.store.read_verified(orig["sha256"]))
            cap.raw_body = None
            if not cap.status:  # no HTTP headers of its own
                cap.status, cap.headers = orig["status"] or 200, json.loads(orig["headers"] or "[]")
        if self._held(cap):
            self.result.already_held += 1
            return
        self._add(cap, exchange.digest)

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
        from archive.examine.pipeline import hints
        from archive.examine.placement import Placer

        placer = Placer(self.catalog)
        rows = {rid: self.catalog.one("SELECT id, sha256, warc_record_id, final_url, url, fetched_at FROM captures "
                                      "WHERE source_record_id = ?", (rid,)) for rid in meta}
        # the context the crawl found goes into our WARC first (for `nianbao recover`), made durable before
        # the catalog says it
        for rid, m in meta.items():
            context = {col: m[col] for col in CONTEXT_COLUMNS if m.get(col)}
            if context and (row := rows[rid]) and row["warc_record_id"]:
                block = json.dumps({"format": CONTEXT_FORMAT, **context}, ensure_ascii=False).encode("utf-8")
                self.writer.warc.write_metadata(row["final_url"] or row["url"], row["warc_record_id"], block,
                                                META_TYPE, row["fetched_at"])
        self.writer.commit()
        with self.catalog.transaction():
            for rid, m in meta.items():
                row = rows[rid]
                if row is None:
                    continue
                for col in CONTEXT_COLUMNS:  # the context the crawl (or a user) gave, kept as it was
                    if m.get(col):
                        self.catalog.conn.execute(f"UPDATE captures SET {col} = ? WHERE id = ?", (m[col], row["id"]))
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
