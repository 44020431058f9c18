"""Hand-overs: what a worker fetched and parsed, packed as WARC for the one process that owns the catalog.

A worker crawls a portal into a scratch archive of its own (the same writer, parser and WARC as any
crawl). :func:`pack` turns that into one WARC file in the shared location: the scratch WARC files as
they are (the HTTP exchanges, byte for byte), then one ``metadata`` record per response naming it
(``WARC-Refers-To``) with what the worker learnt of it: the link text it was found under and the parse
result of its body. The manifest is written last; until it exists the hand-over is not there.

The owner's :func:`import_handover` imports it (:mod:`archive.ingest.warc_import`), uses the parse results
instead of parsing again, and records the task, so a hand-over is taken in once, however often asked.
"""

from __future__ import annotations

import json
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from archive.capture import iso, utcnow
from archive.ingest.warc_import import ImportResult, import_warcs
from archive.parser import PARSER_VERSION, ParseContext, ParseResult, empty_report
from archive.store.body import CHUNK
from archive.store.shared import SharedStore
from archive.warc.records import META_TYPE
from archive.warc.writer import WarcWriter

if TYPE_CHECKING:
    from archive.archive import Archive

FORMAT = 1
DATA = "data.warc.gz"
MANIFEST = "manifest.json"


def parse_record(catalog, sha256: str) -> dict | None:
    """The parse result the scratch catalog holds for a blob, as :meth:`ParseResult.to_dict` writes it;
    None when it was never parsed (a stopped crawl: the owner parses it)."""
    blob = catalog.one("SELECT kind, examined_by, role, examine_note, page FROM blobs WHERE sha256 = ?", (sha256,))
    if not blob or not blob["examined_by"]:
        return None
    page = json.loads(blob["page"] or "null") or {}
    doc = catalog.one("SELECT kind, parsed, text, numbers, text_sha256, parser_version, context, published, "
                      "published_source FROM documents WHERE sha256 = ?", (sha256,))
    if doc:
        ctx = json.loads(doc["context"] or "null")
        return ParseResult(kind=doc["kind"], report=json.loads(doc["parsed"] or "{}"), is_report=True,
                           text=doc["text"] or "", numbers=json.loads(doc["numbers"] or "[]"),
                           text_sha256=doc["text_sha256"], parser_version=doc["parser_version"],
                           context=ParseContext.from_dict(ctx) if ctx is not None else None,
                           published=doc["published"], published_source=doc["published_source"],
                           page=page).to_dict()
    report = empty_report()
    failed = blob["role"] == "failed"
    if blob["examine_note"] and not failed:
        report["warnings"] = [blob["examine_note"]]
    return ParseResult(kind=blob["kind"], report=report, is_report=False,
                       error=blob["examine_note"] if failed else None, parser_version=blob["examined_by"],
                       page=page).to_dict()


def _metadata_file(scratch: Archive, directory: Path) -> Path | None:
    """One WARC of metadata records, one per response-like capture of the scratch archive."""
    c = scratch.catalog
    given: set[str] = set()
    writer = WarcWriter(directory, prefix="nianbao-meta", software=f"nianbao {scratch.version}", durable=False)
    rows = c.rows("""SELECT warc_record_id, final_url, url, fetched_at, sha256, link_text, portal_agency,
                            user_agency, user_year FROM captures
                     WHERE warc_type IN ('response', 'revisit', 'resource') ORDER BY id""")
    wrote = False
    for r in rows:
        parse = None
        if r["sha256"] and r["sha256"] not in given:
            parse = parse_record(c, r["sha256"])
            given.add(r["sha256"])
        if parse is None and not (r["link_text"] or r["user_agency"] or r["user_year"]):
            continue  # (a portal agency matters where the blob is parsed)
        block = json.dumps({"format": FORMAT, "sha256": r["sha256"], "link_text": r["link_text"],
                            "portal_agency": r["portal_agency"], "user_agency": r["user_agency"],
                            "user_year": r["user_year"], "parse": parse}, ensure_ascii=False).encode("utf-8")
        writer.write_metadata(r["final_url"] or r["url"], r["warc_record_id"], block, META_TYPE, r["fetched_at"])
        wrote = True
    path = writer.current_path()
    writer.close()
    return path if wrote else None


def pack(scratch: Archive, shared: SharedStore, task_id: str, *, portal: str, run_id: int | None,
         extra: dict | None = None) -> dict:
    """Publish the scratch archive's crawl as the hand-over of ``task_id``; return its manifest."""
    c = scratch.catalog
    run = c.one("SELECT status, stats, started_at, ended_at, pages FROM runs WHERE id = ?",
                (run_id,)) if run_id else None
    files = [scratch.warc_dir / r["name"] for r in c.rows("SELECT name FROM warc_files ORDER BY created_at, name")]
    with tempfile.TemporaryDirectory(prefix="nianbao-handover-") as tmp:
        meta = _metadata_file(scratch, Path(tmp))
        parts = [*(f for f in files if f.exists()), *([meta] if meta else [])]

        def chunks() -> Iterator[bytes]:
            for f in parts:  # gzip members one after another: still one valid WARC file
                with open(f, "rb") as fh:
                    while chunk := fh.read(CHUNK):
                        yield chunk

        size, sha = shared.write_stream(chunks(), "handover", task_id, DATA)
    manifest = {
        "format": FORMAT, "task_id": task_id, "portal": portal, "worker": socket.gethostname(),
        "parser_version": PARSER_VERSION, "packed_at": iso(utcnow()),
        "status": run["status"] if run else "failed", "stats": json.loads(run["stats"] or "{}") if run else {},
        "started_at": run["started_at"] if run else None, "ended_at": run["ended_at"] if run else None,
        "pages": run["pages"] if run else 0, "files": [{"name": DATA, "size": size, "sha256": sha}],
        **(extra or {}),
    }
    shared.write_json(manifest, "handover", task_id, MANIFEST)
    return manifest


def manifest_of(shared: SharedStore, task_id: str) -> dict | None:
    """The hand-over of a task, if it is complete."""
    try:
        return shared.read_json("handover", task_id, MANIFEST)
    except FileNotFoundError:
        return None


def complete_handovers(shared: SharedStore) -> list[str]:
    """Task ids whose hand-over is complete (its manifest written)."""
    return [t for t in shared.listdir("handover") if shared.exists("handover", t, MANIFEST)]


def import_handover(archive: Archive, shared: SharedStore, task_id: str, *, jobs: int | None = None,
                    remove: bool = False, parse_progress=None) -> tuple[dict, ImportResult | None]:
    """Import one complete hand-over as a crawl run of its portal, or of its portals when the task was a
    batch (once: a repeat returns the first run). With ``remove`` the hand-over's files are deleted once imported."""
    c = archive.catalog
    manifest = manifest_of(shared, task_id)
    if manifest is None:
        raise FileNotFoundError(f"no complete hand-over for task {task_id} in {shared.url}")
    done = c.one("SELECT run_id FROM handovers WHERE task_id = ?", (task_id,))
    result = None
    if done is None:
        sources = [shared.uri("handover", task_id, f["name"]) for f in manifest["files"]]
        status = manifest.get("status") or "ok"
        result = import_warcs(archive, sources, kind="crawl", portals=manifest.get("portals") or [manifest["portal"]],
                              source="crawl",
                              run_stats=manifest.get("stats") or {}, status=status, jobs=jobs,
                              parse_progress=parse_progress)
        run_id = result.run_id if result.captures else _earlier_run(archive, sources)
        with c.transaction() as db:
            db["handovers"].insert({"task_id": task_id, "portal": manifest["portal"], "worker": manifest.get("worker"),
                                    "manifest": json.dumps(manifest, ensure_ascii=False), "status": status,
                                    "run_id": run_id, "imported_at": iso(utcnow())}, replace=True)
        manifest["run_id"] = run_id
    else:
        manifest["run_id"] = done["run_id"]
    if remove:
        shared.remove("handover", task_id)
    return manifest, result


def _earlier_run(archive: Archive, sources: list[str]) -> int | None:
    """The run that imported these files before (an import repeated after a crash)."""
    from archive.warc.records import first_record_id, source_size

    for s in sources:
        row = archive.catalog.one("SELECT run_id FROM imports WHERE first_record_id = ? AND size = ? AND "
                                  "run_id IS NOT NULL ORDER BY id LIMIT 1", (first_record_id(s), source_size(s)))
        if row:
            return row["run_id"]
    return None
