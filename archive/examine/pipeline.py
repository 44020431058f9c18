"""Turn stored blobs into documents, reports and revisions: parse (pure, parallel), then place (one transaction).

Everything written here is derived from the originals and carries the parser version, so
``reparse`` can throw it away and rebuild it.
"""

from __future__ import annotations

import ctypes
import functools
import json
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from archive.capture import iso, utcnow
from archive.catalog.db import Catalog
from archive.examine import context, fingerprint
from archive.examine.identity import (
    Decision,
    DocPrint,
    ReportCandidate,
    RevisionCandidate,
    decide_report,
    decide_revision,
)
from archive.extract.formats import REPORT_KINDS
from archive.extract.office import to_docx
from archive.parser import PARSER_VERSION, ParseContext, ParseResult, agency_key, parse
from archive.store.blobs import BlobStore

# Which rendition shows a revision best: structure survives DOCX and HTML, PDF text is flattened.
KIND_RANK = {"docx": 0, "html": 1, "doc": 2, "wps": 2, "text": 3, "pdf": 4, "image": 5}
Progress = Callable[[int, int], None]


@dataclass
class Placed:
    """What examining one blob changed."""

    sha256: str
    document_id: int | None = None
    report_id: int | None = None
    revision_id: int | None = None
    new_document: bool = False
    new_report: bool = False
    new_revision: bool = False
    note: str | None = None


def hints(catalog: Catalog, sha256: str) -> dict:
    """How the blob was first met (name, declared type, URL, the kind the writer decided, link text,
    referrer), what the referring page said (title, site meta, the date it printed for the link), and
    whether a user vouched for it. JSON-ready: a parse task carries it to a worker."""
    row = catalog.one("""SELECT c.content_type, c.filename, c.final_url, b.kind,
                                EXISTS(SELECT 1 FROM captures i WHERE i.sha256 = b.sha256 AND i.source = 'ingest')
                                  AS ingested
                         FROM blobs b LEFT JOIN captures c ON c.sha256 = b.sha256
                         WHERE b.sha256 = ? ORDER BY c.id LIMIT 1""", (sha256,)) or {}
    return {"content_type": row.get("content_type"), "filename": row.get("filename"),
            "url": row.get("final_url"), "kind": row.get("kind"), "assert_report": bool(row.get("ingested")),
            **context.linked_context(catalog, sha256)}


def parse_blob(store_root: str, sha256: str, hint: dict) -> ParseResult:
    """Read one original and parse it (a top-level function, so worker processes can run it)."""
    return parse_blob_bytes(BlobStore(Path(store_root), readonly=True).read(sha256), hint)


def parse_blob_bytes(data: bytes, hint: dict) -> ParseResult:
    """Parse one original with what :func:`hints` knows of it (a parse task does this on a worker)."""
    return parse(data, docx=hint.get("docx"), context=ParseContext.from_dict(hint))


OFFICE_BATCH = 20


def convert_office(store: BlobStore, items: list[tuple[str, dict]]) -> None:
    """Convert the DOC and WPS originals among ``items`` to DOCX, OFFICE_BATCH per LibreOffice call
    (its start-up is most of its cost), and hand each result to the parser through its hint."""
    office = [(sha, hint) for sha, hint in items if hint.get("kind") in ("doc", "wps")]
    for start in range(0, len(office), OFFICE_BATCH):
        chunk = office[start:start + OFFICE_BATCH]
        results = to_docx([(store.read(sha), hint["kind"]) for sha, hint in chunk])
        for (_, hint), res in zip(chunk, results, strict=True):
            if isinstance(res, bytes):
                hint["docx"] = res


def _die_with_parent(parent: int, nice: int = 0, sig: int = signal.SIGKILL) -> None:
    """Worker initializer: end this worker when the process that started it dies, even by kill -9;
    ``nice`` lowers its CPU priority so background parsing yields to a crawl on the same cores.

    ProcessPoolExecutor has no such guard; an orphaned worker would linger holding pipes open.
    A crawl process asks for SIGTERM instead, so that it stops gracefully and saves what it fetched.
    """
    if nice:
        os.nice(nice)
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(sig))  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def parser_pool(jobs: int, nice: int = 0) -> ProcessPoolExecutor:
    """Worker processes for parsing. spawn, not fork: a forked worker would inherit the writer's WARC
    file lock and hold it after a kill -9 of the writer; workers also end with their parent."""
    return ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_die_with_parent, initargs=(os.getpid(), nice))


def parse_many(store: BlobStore, items: list[tuple[str, dict]], jobs: int,
               pool: ProcessPoolExecutor | None = None) -> Iterator[tuple[str, dict, ParseResult]]:
    """Parse blobs, in worker processes when there are several and ``jobs`` > 1 (or a pool is given,
    which a long-running caller keeps to avoid starting workers each time); order kept."""
    convert_office(store, items)
    if pool is None and (jobs <= 1 or len(items) < 4):
        for sha, hint in items:
            yield sha, hint, parse_blob(str(store.root), sha, hint)
        return
    own = pool is None
    pool = pool or parser_pool(jobs)
    try:
        results = pool.map(parse_blob, [str(store.root)] * len(items), [s for s, _ in items],
                           [h for _, h in items], chunksize=1 if not own else 4)
        for (sha, hint), res in zip(items, results, strict=True):
            yield sha, hint, res
    finally:
        if own:
            pool.shutdown()


@functools.lru_cache(maxsize=4096)
def _bands(key: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(fingerprint.lsh_bands(list(key)))


def bands_of(nums: list[str]) -> tuple[str, ...]:
    """LSH band keys, computed once per number sequence (a document is placed and searched with them)."""
    return _bands(tuple(nums))


def _docprint(row: dict) -> DocPrint:
    return DocPrint(kind=row["kind"], agency_key=agency_key(row.get("agency")), year=row.get("year"),
                    numbers=json.loads(row.get("numbers") or "[]"), text_sha256=row.get("text_sha256"),
                    id=row.get("id"))


class Placer:
    """Writes parse results and applies the identity rule (see :mod:`archive.examine.identity`)."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.db = catalog.db

    # -- documents ------------------------------------------------------------------------------
    def apply(self, sha256: str, res: ParseResult, hint: dict, *, assign: bool = True) -> Placed:
        """Record one parse result (inside the caller's transaction)."""
        now = iso(utcnow())
        out = Placed(sha256)
        is_doc = res.is_report or (hint.get("assert_report") and res.kind in REPORT_KINDS)
        note = res.error or ("; ".join(res.report.get("warnings", [])[:3]) or None)
        role = "report" if is_doc else ("failed" if res.error else "not_report")
        self.db["blobs"].update(sha256, {"examined_by": res.parser_version, "role": role, "examine_note": note,
                                         "kind": res.kind, "page": json.dumps(res.page, ensure_ascii=False)
                                         if res.page else None})
        if res.page:  # documents this page links, examined before it, can be dated now
            context.redate_linked_from(self.catalog, sha256)
        existing = self.catalog.one("SELECT * FROM documents WHERE sha256 = ?", (sha256,))
        if not is_doc:
            if existing:
                self._drop_document(existing)
            out.note = note
            return out
        rep = res.report
        cells, checks = rep.get("cells", []), rep.get("checks", [])
        first_seen = self.catalog.scalar("SELECT first_seen FROM blobs WHERE sha256 = ?", (sha256,)) or now
        row = {
            "sha256": sha256, "kind": res.kind, "first_seen": first_seen, "agency": rep.get("agency"),
            "year": rep.get("year"), "title": rep.get("title"), "template": rep.get("template"),
            "text_sha256": res.text_sha256, "numbers": json.dumps(res.numbers),
            "cells_count": len(cells), "failed_checks": sum(1 for c in checks if not c.get("ok")),
            "parser_version": res.parser_version, "parsed_at": now,
            "parsed": json.dumps(rep, ensure_ascii=False), "text": res.text,
            "context": context.document_context(self.catalog, sha256, res.context.to_dict() if res.context else {}),
            **context.document_dates(self.catalog, sha256, res.kind, res.page, rep.get("year")),
        }
        if existing:
            doc_id = existing["id"]
            self.db["documents"].update(doc_id, row)
            for t in ("cells", "checks", "sections", "document_bands"):
                self.catalog.conn.execute(f"DELETE FROM {t} WHERE document_id = ?", (doc_id,))
        else:
            doc_id = self.db["documents"].insert(row).last_pk
            out.new_document = True
        out.document_id = doc_id
        pv = res.parser_version
        self.db["cells"].insert_all({
            "document_id": doc_id, "table_id": c["table"], "row_id": c["row"], "column_id": c["column"],
            "value": c.get("value"), "raw": c.get("raw"), "label": c.get("label"),
            "recovered": c.get("recovered"), "parser_version": pv} for c in cells)
        self.db["checks"].insert_all({
            "document_id": doc_id, "rule": c["rule"], "ok": int(bool(c["ok"])), "detail": c.get("detail"),
            "parser_version": pv} for c in checks)
        self.db["sections"].insert_all(({
            "document_id": doc_id, "position": i, "number": s.get("number"), "heading": s.get("heading"),
            "text": s.get("text"), "parser_version": pv} for i, s in enumerate(rep.get("sections", []))))
        self.db["document_bands"].insert_all(
            {"band": b, "document_id": doc_id} for b in bands_of(res.numbers))
        if assign:
            same_print = existing and existing["report_id"] and (
                (existing["agency"], existing["year"], existing["numbers"], existing["kind"])
                == (row["agency"], row["year"], row["numbers"], row["kind"]))
            if same_print:
                out.report_id, out.revision_id = existing["report_id"], existing["revision_id"]
                self._refresh_revision(existing["revision_id"])
                self._refresh_report(existing["report_id"])
            else:
                self.assign(doc_id, out)
        return out

    def _drop_document(self, doc: dict) -> None:
        for t in ("cells", "checks", "sections", "document_bands"):
            self.catalog.conn.execute(f"DELETE FROM {t} WHERE document_id = ?", (doc["id"],))
        self.catalog.conn.execute("DELETE FROM documents WHERE id = ?", (doc["id"],))
        self._refresh_revision(doc["revision_id"])
        self._refresh_report(doc["report_id"])

    # -- identity -------------------------------------------------------------------------------
    def _report_candidates(self, doc: DocPrint) -> list[ReportCandidate]:
        if doc.year is None:
            return []
        ids: list[int] = []
        if doc.agency_key:
            ids += [r["id"] for r in self.catalog.rows(
                """SELECT id FROM reports WHERE year = :y AND agency_key IS NOT NULL
                   AND (agency_key = :k OR instr(agency_key, :k) > 0 OR instr(:k, agency_key) > 0)
                   LIMIT 50""", {"y": doc.year, "k": doc.agency_key})]
        bands = bands_of(doc.numbers)
        if bands:
            marks = ",".join("?" * len(bands))
            ids += [r["report_id"] for r in self.catalog.rows(
                f"""SELECT DISTINCT d.report_id FROM document_bands b JOIN documents d ON d.id = b.document_id
                    JOIN reports r ON r.id = d.report_id
                    WHERE b.band IN ({marks}) AND r.year = ? AND d.id != ? LIMIT 50""",
                (*bands, doc.year, doc.id or -1))]
        out = []
        for rid in dict.fromkeys(ids):
            rep = self.catalog.one("SELECT id, agency_key, year FROM reports WHERE id = ?", (rid,))
            docs = [_docprint(d) for d in self.catalog.rows(
                "SELECT id, kind, agency, year, numbers, text_sha256 FROM documents WHERE report_id = ? AND id != ?",
                (rid, doc.id or -1))]
            out.append(ReportCandidate(rep["id"], rep["agency_key"], rep["year"], docs))
        return out

    def _revision_candidates(self, report_id: int, doc_id: int) -> list[RevisionCandidate]:
        revs = []
        for r in self.catalog.rows("SELECT id, number FROM revisions WHERE report_id = ?", (report_id,)):
            docs = [_docprint(d) for d in self.catalog.rows(
                "SELECT id, kind, agency, year, numbers, text_sha256 FROM documents "
                "WHERE revision_id = ? AND id != ?", (r["id"], doc_id))]
            revs.append(RevisionCandidate(r["id"], r["number"], docs))
        return revs

    def assign(self, doc_id: int, out: Placed | None = None) -> Placed:
        """Place one document under a report and revision, creating them as the rule says."""
        row = self.catalog.one("SELECT * FROM documents WHERE id = ?", (doc_id,))
        out = out or Placed(row["sha256"], document_id=doc_id)
        doc = _docprint(row)
        old_report, old_revision = row["report_id"], row["revision_id"]
        decision = decide_report(doc, self._report_candidates(doc))
        report_id = decision.target
        if decision.create:
            report_id = self._create_report(row)
            out.new_report = True
        revision_id, rev_decision = None, None
        if report_id is not None:
            rev_decision = decide_revision(doc, self._revision_candidates(report_id, doc_id))
            revision_id = rev_decision.target
            if rev_decision.create:
                number = (self.catalog.scalar("SELECT max(number) FROM revisions WHERE report_id = ?",
                                              (report_id,)) or 0) + 1
                revision_id = self.db["revisions"].insert({
                    "report_id": report_id, "number": number, "first_seen": row["first_seen"]}).last_pk
                out.new_revision = True
        self.db["documents"].update(doc_id, {
            "report_id": report_id, "revision_id": revision_id,
            "identity": json.dumps(_explain(decision, rev_decision), ensure_ascii=False)})
        out.report_id, out.revision_id = report_id, revision_id
        self._refresh_revision(revision_id)
        self._refresh_report(report_id)
        if old_revision and old_revision != revision_id:
            self._refresh_revision(old_revision)
        if old_report and old_report != report_id:
            self._refresh_report(old_report)
        return out

    def _create_report(self, row: dict) -> int:
        key = agency_key(row["agency"])
        found = self.catalog.scalar("SELECT id FROM reports WHERE agency_key = ? AND year = ?", (key, row["year"]))
        if found:
            return found
        return self.db["reports"].insert({
            "agency": row["agency"], "agency_key": key, "year": row["year"], "title": row["title"],
            "template": row["template"], "first_seen": row["first_seen"], "updated_at": iso(utcnow())}).last_pk

    def reassign_all(self, progress: Progress | None = None) -> None:
        """Re-derive every report and revision from the documents, oldest first (after a reparse).

        Report rows are kept and matched again by agency and year, so report ids stay stable.
        """
        self.catalog.conn.execute("UPDATE documents SET report_id = NULL, revision_id = NULL")
        self.catalog.conn.execute("UPDATE reports SET current_revision_id = NULL")
        self.catalog.conn.execute("DELETE FROM revisions")
        ids = [r["id"] for r in self.catalog.rows("SELECT id FROM documents ORDER BY first_seen, id")]
        for i, doc_id in enumerate(ids, 1):
            self.assign(doc_id)
            if progress:
                progress(i, len(ids))
        self.catalog.conn.execute(
            "DELETE FROM reports WHERE id NOT IN (SELECT report_id FROM documents WHERE report_id IS NOT NULL)")

    # -- derived fields -------------------------------------------------------------------------
    def _refresh_revision(self, revision_id: int | None) -> None:
        if revision_id is None:
            return
        docs = list(self.catalog.rows(
            "SELECT id, kind, cells_count, first_seen, text_sha256 FROM documents WHERE revision_id = ?",
            (revision_id,)))
        if not docs:
            self.catalog.conn.execute("UPDATE reports SET current_revision_id = NULL WHERE current_revision_id = ?",
                                      (revision_id,))
            self.catalog.conn.execute("DELETE FROM revisions WHERE id = ?", (revision_id,))
            return
        primary = min(docs, key=lambda d: (KIND_RANK.get(d["kind"], 9), -(d["cells_count"] or 0),
                                           d["first_seen"], d["id"]))
        self.db["revisions"].update(revision_id, {
            "primary_document_id": primary["id"], "text_sha256": primary["text_sha256"],
            "first_seen": min(d["first_seen"] for d in docs)})

    def _refresh_report(self, report_id: int | None) -> None:
        if report_id is None:
            return
        current = self.catalog.one(
            "SELECT id, primary_document_id FROM revisions WHERE report_id = ? ORDER BY number DESC LIMIT 1",
            (report_id,))
        if not current:
            if not self.catalog.scalar("SELECT 1 FROM documents WHERE report_id = ?", (report_id,)):
                self.catalog.conn.execute("DELETE FROM reports WHERE id = ?", (report_id,))
            return
        primary = self.catalog.one("SELECT agency, title, template FROM documents WHERE id = ?",
                                   (current["primary_document_id"],))
        named = primary["agency"] or self.catalog.scalar(
            "SELECT agency FROM documents WHERE report_id = ? AND agency IS NOT NULL ORDER BY first_seen LIMIT 1",
            (report_id,))
        first = self.catalog.scalar("SELECT min(first_seen) FROM documents WHERE report_id = ?", (report_id,))
        fields = {"current_revision_id": current["id"], "title": primary["title"], "template": primary["template"],
                  "first_seen": first, "updated_at": iso(utcnow())}
        if named:
            fields["agency"] = named
        self.db["reports"].update(report_id, fields)


def _explain(report: Decision, revision: Decision | None) -> dict:
    out = {"report": report.reason}
    if revision is not None:
        out["revision"] = revision.reason
    return out


def pending(catalog: Catalog, *, all_blobs: bool = False) -> list[str]:
    """Blobs never examined, or (``all_blobs``) examined by another parser version; oldest first."""
    where = "examined_by IS NULL OR examined_by != ?" if all_blobs else "examined_by IS NULL"
    params = (PARSER_VERSION,) if all_blobs else ()
    return [r["sha256"] for r in catalog.rows(f"SELECT sha256 FROM blobs WHERE {where} ORDER BY first_seen, rowid",
                                              params)]


ParseStep = Callable[[list[tuple[str, dict]]], Iterable[tuple[str, dict, ParseResult]]]


def examine(catalog: Catalog, store: BlobStore, shas: Iterable[str], *, jobs: int | None = None,
            assign: bool = True, progress: Progress | None = None, batch: int = 50,
            pool: ProcessPoolExecutor | None = None, parse_with: ParseStep | None = None) -> list[Placed]:
    """Parse the given blobs and place them, committing every ``batch`` blobs.

    ``parse_with(items)`` parses another way (the workers of a distributed reparse): it takes
    ``(sha256, hint)`` pairs and yields ``(sha256, hint, result)`` as results come, in any order,
    leaving out what failed; by default they are parsed here, in ``jobs`` processes.
    """
    items = [(sha, hints(catalog, sha)) for sha in shas]
    jobs = jobs if jobs is not None else min(2, os.cpu_count() or 1)
    parse_items = parse_with or functools.partial(parse_many, store, jobs=jobs, pool=pool)
    placer = Placer(catalog)
    placed: list[Placed] = []
    chunk: list[tuple[str, dict, ParseResult]] = []

    def flush() -> None:
        with catalog.transaction():
            placed.extend(placer.apply(sha, res, hint, assign=assign) for sha, hint, res in chunk)
        chunk.clear()

    for i, item in enumerate(parse_items(items), 1):
        chunk.append(item)
        if len(chunk) >= batch:
            flush()
        if progress:
            progress(i, len(items))
    if chunk:
        flush()
    return placed
