"""Add captures to an archive: blob, WARC record, catalog rows, grouped into crash-safe commits.

Per capture: hash once, stage the blob in a temporary file (on a second thread when it is large), and
append the WARC records. Per batch: one filesystem sync makes the staged blobs and the WARC bytes
durable, the blobs are linked into place, then every row is committed in one transaction. A kill -9
before the commit leaves at most blobs no row points at yet (reused when fetched again) and a WARC
tail that the next writer truncates; after it, everything is durable. Parsing runs after the commit.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from archive.capture import Capture, iso, text_problem, utcnow
from archive.errors import CaptureError
from archive.examine.pipeline import examine, pending
from archive.examine.placement import Placed
from archive.extract.formats import MEDIA_TYPES, sniff
from archive.store.durability import pid_alive
from archive.store.locks import FileLock
from archive.warc.records import META_TYPE
from archive.warc.writer import (
    PROFILE_NOT_MODIFIED,
    Revisit,
    WarcWriter,
    hash_payload,
    headers_bytes,
    hex_to_digest,
    recover,
    response_http_headers,
)

if TYPE_CHECKING:
    from archive.archive import Archive


THREADED_STAGE_MIN = 256 * 1024
WRITERS_LOCK = "writers.lock"
CONTEXT_FORMAT = "nianbao-capture-context/1"


@dataclass
class Added:
    """What one capture did to the archive."""

    sha256: str | None
    kind: str | None
    new_blob: bool
    warc_type: str
    skipped: bool = False


@dataclass
class RunStats:
    pages: int = 0
    bytes: int = 0
    new_blobs: int = 0
    new_documents: int = 0
    new_reports: int = 0
    not_modified: int = 0
    blocked: int = 0
    errors: int = 0
    extra: dict = field(default_factory=dict)


def recover_archive(archive: Archive) -> dict[str, str]:
    """Undo what crashed writers left half done: WARC tails, temp files, runs marked running."""
    cat = archive.catalog
    open_files = {r["name"]: r["size"] for r in cat.rows("SELECT name, size FROM warc_files WHERE closed = 0")}
    known = {r["name"] for r in cat.rows("SELECT name FROM warc_files")}
    actions = recover(archive.warc_dir, open_files, known)
    removed = archive.store.clean_tmp()
    host = socket.gethostname()
    with cat.transaction():
        for name in actions:
            if name in known:
                cat.conn.execute("UPDATE warc_files SET closed = 1 WHERE name = ?", (name,))
        for run in list(cat.rows("SELECT id, pid FROM runs WHERE status = 'running' AND host = ?", (host,))):
            if run["pid"] is None or not pid_alive(run["pid"]):
                cat.conn.execute("UPDATE runs SET status = 'interrupted', ended_at = ? WHERE id = ?",
                                 (iso(utcnow()), run["id"]))
                actions[f"run {run['id']}"] = "marked interrupted"
    if removed:
        actions["blobs/tmp"] = f"removed {removed} partial blob(s)"
    return actions


class ArchiveWriter:
    """One writing session: a crawl run, an ingest, an import. Use as a context manager."""

    def __init__(self, archive: Archive, *, kind: str = "crawl", portals: list[str] | None = None,
                 batch_size: int = 500, batch_seconds: float = 5.0, examine: bool = True,
                 jobs: int | None = None, max_warc_size: int | None = None) -> None:
        self.archive = archive
        self.catalog = archive.catalog
        self.store = archive.store
        self.batch_size = batch_size
        self.batch_seconds = batch_seconds
        self.examine_after = examine
        self.jobs = jobs
        # many writers at once, but none while `nianbao recover` swaps the catalog (it takes this exclusively)
        self._lock = FileLock(archive.path / "locks" / WRITERS_LOCK, "writing to the archive", shared=True).acquire(
            what="writer", kind=kind)
        self.recovered = recover_archive(archive)
        self.stats = RunStats()
        with self.catalog.transaction() as db:
            self.run_id = db["runs"].insert({
                "kind": kind, "started_at": iso(utcnow()), "status": "running", "pid": os.getpid(),
                "host": socket.gethostname(), "portals": json.dumps(portals or [], ensure_ascii=False)}).last_pk
        kwargs = {"max_size": max_warc_size} if max_warc_size else {}
        self.warc = WarcWriter(archive.warc_dir, software=f"nianbao {archive.version}", **kwargs)
        self._blobs: dict[str, dict] = {}  # sha256 -> blob row and the future staging it
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nianbao-blob")
        self._captures: list[dict] = []
        self._digests: dict[str, tuple[str, str]] = {}  # payload digest -> (uri, date) not yet committed
        self._last_commit = time.monotonic()
        self.placed: list[Placed] = []
        self.closed = False

    # -- adding ---------------------------------------------------------------------------------
    def _earlier_payload(self, digest: str) -> tuple[str, str] | None:
        if digest in self._digests:
            return self._digests[digest]
        row = self.catalog.one("""SELECT final_url, fetched_at FROM captures WHERE payload_digest = ?
                                  AND warc_type IN ('response', 'resource') ORDER BY id LIMIT 1""", (digest,))
        return (row["final_url"], row["fetched_at"]) if row else None

    def add(self, cap: Capture) -> Added:
        """Archive one capture; its rows are committed with the current batch."""
        if self.closed:
            raise RuntimeError("this archive writer is closed")
        if problem := text_problem(cap):  # refused before any byte is written: no orphan blob or record
            url = cap.url.encode("utf-8", "backslashreplace").decode()
            raise CaptureError(f"{url} cannot be archived: {problem}")
        if cap.status == 304:
            return self._add_not_modified(cap)
        fetched = iso(cap.fetched_at)
        head = cap.body.head()
        kind = capture_kind(cap, head)
        if cap.source in ("ingest", "resource"):
            sha = _sha256(cap)
            digest = hex_to_digest(sha)
            new = self._stage(sha, cap, kind, fetched)
            earlier = self._earlier_payload(digest)
            if earlier:
                ref = self.warc.write_revisit_resource(cap, digest, Revisit(*earlier))
            else:
                ref = self.warc.write_resource(cap, sha, MEDIA_TYPES.get(kind, "application/octet-stream"))
        else:
            http = response_http_headers(cap)
            digests = hash_payload(cap.raw_body or cap.body, headers_bytes(http))
            sha = digests.payload_hex if cap.raw_body is None else _sha256(cap)
            new = self._stage(sha, cap, kind, fetched)
            digest = digests.payload
            earlier = self._earlier_payload(digest)
            ref = self.warc.write_response(cap, http, digests, Revisit(*earlier) if earlier else None)
        if ref.record_type != "revisit":
            self._digests.setdefault(digest, (cap.final_url or cap.url, fetched))
        self._write_context(cap, ref, fetched)
        size = cap.body.size
        self._captures.append(self._capture_row(cap, sha, size, kind, ref, digest))
        self.stats.pages += 1
        self.stats.bytes += size
        self._maybe_commit()
        return Added(sha, kind, new, ref.record_type)

    def _write_context(self, cap: Capture, ref, fetched: str) -> None:
        """What the crawl knew of a capture and the WARC records do not say (the link's text, the portal's
        agency, a local file's name and that a user gave it, the agency and year the user said it is for, the
        foreign record it was imported from), as a
        metadata record beside it: with the blobs, the WARC files then hold what ``recover`` needs."""
        local = cap.source in ("ingest", "resource")  # a resource record: no HTTP headers of its own
        # the address asked for, where the records do not give it back (a fragment: gkmlpt's #2629 columns)
        asked = cap.redirects[0].url if cap.redirects else (cap.final_url or cap.url)
        context = {k: v for k, v in (("url", cap.url if cap.url != asked else None),
                                     ("link_text", cap.link_text), ("portal_agency", cap.portal_agency),
                                     ("user_agency", cap.user_agency), ("user_year", cap.user_year),
                                     ("source", cap.source if cap.source != "crawl" else None),
                                     ("filename", cap.filename if local else None),
                                     ("headers", cap.headers if local else None),
                                     ("source_record_id", cap.source_record_id)) if v}
        if context:
            block = json.dumps({"format": CONTEXT_FORMAT, **context}, ensure_ascii=False).encode("utf-8")
            self.warc.write_metadata(cap.final_url or cap.url, ref.record_id, block, META_TYPE, fetched, follow=True)

    def _stage(self, sha: str, cap: Capture, kind: str, fetched: str) -> bool:
        """Queue the body for the blob store (written on worker threads while the WARC record is
        written here); return whether the content is new to the store."""
        if sha in self._blobs:
            return False
        new = not self.store.exists(sha)
        future = None
        if new:
            # Large bodies are written on a second thread while this one writes the WARC record (both
            # mostly copy bytes in the kernel, outside the GIL); small ones inline, where handing over
            # the GIL would cost more than it saves.
            if cap.body.size >= THREADED_STAGE_MIN:
                future = self._pool.submit(self.store.stage, cap.body, sha256=sha)
            else:
                future = _done(self.store.stage(cap.body, sha256=sha))
        self._blobs[sha] = {"row": {"sha256": sha, "size": cap.body.size, "kind": kind, "first_seen": fetched},
                            "future": future}
        return new

    def _blob_rows(self) -> list[dict]:
        rows = []
        for sha, entry in self._blobs.items():
            fut = entry["future"]
            if fut is not None:
                blob = fut.result()
                stored, encoding = blob.stored_size, blob.encoding
            else:
                path, encoding = self.store.locate(sha) or (None, "raw")
                stored = os.stat(path).st_size if path else 0
            rows.append({**entry["row"], "stored_size": stored, "encoding": encoding})
        return rows

    def _add_not_modified(self, cap: Capture) -> Added:
        """A 304: nothing new is stored; a server-not-modified revisit points at the last capture."""
        url = cap.final_url or cap.url
        prev = self.catalog.one("""SELECT sha256, kind, size, final_url, fetched_at, payload_digest FROM captures
                                   WHERE (final_url = ? OR url = ?) AND sha256 IS NOT NULL
                                   ORDER BY id DESC LIMIT 1""", (url, url))
        http = response_http_headers(cap)
        revisit = Revisit(prev["final_url"], prev["fetched_at"], PROFILE_NOT_MODIFIED) if prev else None
        ref = self.warc.write_not_modified(cap, http, revisit)
        self._write_context(cap, ref, iso(cap.fetched_at))
        self._captures.append(self._capture_row(cap, prev["sha256"] if prev else None, prev["size"] if prev else 0,
                                                prev["kind"] if prev else None, ref,
                                                prev["payload_digest"] if prev else None))
        self.stats.pages += 1
        self.stats.not_modified += 1
        self._maybe_commit()
        return Added(prev["sha256"] if prev else None, prev["kind"] if prev else None, False,
                     ref.record_type)

    def _capture_row(self, cap: Capture, sha: str | None, size: int, kind: str | None, ref, digest) -> dict:
        return capture_row(cap, self.run_id, sha, size, kind, ref, digest)

    def _maybe_commit(self) -> None:
        if len(self._captures) >= self.batch_size or time.monotonic() - self._last_commit >= self.batch_seconds:
            self.commit()

    # -- committing -----------------------------------------------------------------------------
    def commit(self) -> None:
        """Make the batch durable: directory entries, WARC bytes, then the catalog rows."""
        self._last_commit = time.monotonic()
        self.warc.flush(sync=False)
        current = self.warc.current_path()
        try:
            blob_rows = self._blob_rows()  # waits for the staging threads
            self.store.publish(also_sync=[current] if current else [])
        except BaseException:
            self.store.discard_staged()
            raise
        states = self.warc.drain_states()
        with self.catalog.transaction() as db:
            for st in states:
                db["warc_files"].upsert({"name": st.name, "created_at": st.created_at, "size": st.size,
                                         "records": st.records, "closed": int(st.closed)}, pk="name")
            if blob_rows:
                before = self.catalog.conn.total_changes
                db["blobs"].insert_all(blob_rows, ignore=True)
                self.stats.new_blobs += self.catalog.conn.total_changes - before
            if self._captures:
                db["captures"].insert_all(self._captures)
            self._write_run(db)
        self._blobs.clear()
        self._captures.clear()
        self._digests.clear()

    def _write_run(self, db, **extra) -> None:
        s = self.stats
        db["runs"].update(self.run_id, {
            "pages": s.pages, "bytes": s.bytes, "new_blobs": s.new_blobs, "new_documents": s.new_documents,
            "new_reports": s.new_reports, "not_modified": s.not_modified, "blocked": s.blocked,
            "errors": s.errors, "stats": json.dumps(s.extra, ensure_ascii=False), **extra})

    def examine_pending(self, progress=None) -> list[Placed]:
        """Parse every blob not yet examined (this run's, and any a crash left behind)."""
        placed = examine(self.catalog, self.store, pending(self.catalog), jobs=self.jobs, progress=progress)
        self.stats.new_documents += sum(p.new_document for p in placed)
        self.stats.new_reports += sum(p.new_report for p in placed)
        self.placed.extend(placed)
        return placed

    def close(self, status: str = "ok", error: str | None = None, progress=None) -> RunStats:
        """Commit what is left, parse new blobs, and record the run's outcome."""
        if self.closed:
            return self.stats
        try:
            self.commit()
        finally:
            self._pool.shutdown(wait=True)
        self.warc.close()
        if self.examine_after and status == "ok":
            self.examine_pending(progress)
        states = self.warc.drain_states()
        with self.catalog.transaction() as db:
            for st in states:
                db["warc_files"].upsert({"name": st.name, "created_at": st.created_at, "size": st.size,
                                         "records": st.records, "closed": int(st.closed)}, pk="name")
            self._write_run(db, status=status, ended_at=iso(utcnow()), error=error)
        self.closed = True
        self._lock.release()
        return self.stats

    def __enter__(self) -> ArchiveWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        elif issubclass(exc_type, KeyboardInterrupt):
            self.close(status="interrupted", error="interrupted by the user")
        else:
            self.close(status="failed", error=f"{exc_type.__name__}: {exc}")


def capture_kind(cap: Capture, head: bytes) -> str:
    """The kind, decided once here with the whole content at hand (a ZIP is opened to tell a DOCX,
    from disk if the body is spooled); the parser is handed it and does not sniff again."""
    if not head.startswith(b"PK"):
        return sniff(head, content_type=cap.content_type, filename=cap.filename or cap.final_url)
    with cap.body.open() as fh:
        return sniff(head, content_type=cap.content_type, filename=cap.filename or cap.final_url, data=fh)


def capture_row(cap: Capture, run_id: int | None, sha: str | None, size: int, kind: str | None, ref,
                digest: str | None) -> dict:
    """The catalog row of one capture whose records are at ``ref`` (a writer's, or one ``recover`` read back)."""
    return {
        "run_id": run_id, "source": cap.source, "url": cap.url, "final_url": cap.final_url,
        "fetched_at": iso(cap.fetched_at), "status": cap.status if cap.source not in ("ingest", "resource")
        else None, "method": cap.method if cap.source not in ("ingest", "resource") else None,
        "headers": json.dumps(cap.headers, ensure_ascii=False), "content_type": cap.content_type,
        "etag": cap.etag, "last_modified": cap.last_modified, "sha256": sha, "size": size, "kind": kind,
        "filename": cap.filename, "referrer": cap.referrer, "link_text": cap.link_text,
        "redirects": json.dumps([{"url": h.url, "status": h.status} for h in cap.redirects], ensure_ascii=False)
        if cap.redirects else None,
        "ip_address": cap.ip_address, "host": cap.host or None, "site_id": cap.site_id,
        "portal_agency": cap.portal_agency, "user_agency": cap.user_agency, "user_year": cap.user_year,
        "warc_file": ref.file, "warc_offset": ref.offset,
        "warc_length": ref.length, "warc_record_id": ref.record_id, "warc_type": ref.record_type,
        "payload_digest": digest, "source_record_id": cap.source_record_id,
    }


def _done(value) -> Future:
    fut: Future = Future()
    fut.set_result(value)
    return fut


def _sha256(cap: Capture) -> str:
    h = hashlib.sha256()
    for chunk in cap.body.chunks():
        h.update(chunk)
    return h.hexdigest()
