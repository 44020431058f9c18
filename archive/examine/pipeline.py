"""Turn stored blobs into documents, reports and revisions: parse (pure, parallel), then place (placement.py).

Everything written here is derived from the originals and carries the parser version, so
``reparse`` can throw it away and rebuild it.
"""

from __future__ import annotations

import functools
import logging
import os
import signal
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import BrokenExecutor, CancelledError, Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path

from pebble import ProcessExpired

from archive.catalog.db import Catalog
from archive.errors import BlobError, ParserUnavailable
from archive.examine import context
from archive.examine.placement import Placed, Placer, Progress
from archive.examine.workers import ParseLimits, ParserPool, shared_pool
from archive.extract.office import to_docx
from archive.parser import PARSER_VERSION, ParseContext, ParseResult, parse
from archive.store.blobs import BlobStore

log = logging.getLogger(__name__)


def hints(catalog: Catalog, sha256: str) -> dict:
    """How the blob was first met (name, declared type, URL, the kind the writer decided, link text,
    referrer), what the referring page said (title, site meta, the date it printed for the link), and
    whether a user vouched for it. JSON-ready: a parse task carries it to a worker."""
    row = catalog.one("""SELECT c.content_type, c.filename, c.final_url, b.kind, b.size,
                                EXISTS(SELECT 1 FROM captures i WHERE i.sha256 = b.sha256 AND i.source = 'ingest')
                                  AS ingested
                         FROM blobs b LEFT JOIN captures c ON c.sha256 = b.sha256
                         WHERE b.sha256 = ? ORDER BY c.id LIMIT 1""", (sha256,)) or {}
    return {"content_type": row.get("content_type"), "filename": row.get("filename"),
            "url": row.get("final_url"), "kind": row.get("kind"), "size": row.get("size"),
            "assert_report": bool(row.get("ingested")),
            **context.linked_context(catalog, sha256)}


@dataclass(frozen=True)
class Unreadable:
    """An original the store cannot give back as archived (missing, or its bytes no longer match its
    SHA-256): nothing is parsed or changed for it, and the caller lists it."""

    why: str


def parse_blob(store_root: str, sha256: str, hint: dict) -> ParseResult:
    """Read one original, checked against its SHA-256, and parse it (a top-level function, so worker
    processes can run it). A lost or damaged original raises BlobError: it is not the document's parse."""
    return parse_blob_bytes(BlobStore(Path(store_root), readonly=True).read_verified(sha256), hint)


def parse_blob_bytes(data: bytes, hint: dict) -> ParseResult:
    """Parse one original with what :func:`hints` knows of it (a parse task does this on a worker)."""
    return parse(data, docx=hint.get("docx"), context=ParseContext.from_dict(hint))


OFFICE_BATCH = 20


def convert_office(store: BlobStore, items: list[tuple[str, dict]]) -> None:
    """Convert the DOC and WPS originals among ``items`` to DOCX, OFFICE_BATCH per LibreOffice call
    (its start-up is most of its cost), and hand each result to the parser through its hint."""
    office = []
    for sha, hint in items:
        if hint.get("kind") in ("doc", "wps"):
            try:
                office.append((sha, hint, store.read_verified(sha)))
            except BlobError as e:
                hint["unreadable"] = str(e)
    for start in range(0, len(office), OFFICE_BATCH):
        chunk = office[start:start + OFFICE_BATCH]
        results = to_docx([(data, hint["kind"]) for _, hint, data in chunk])
        for (_, hint, _), res in zip(chunk, results, strict=True):
            if isinstance(res, bytes):
                hint["docx"] = res


def parse_many(store: BlobStore, items: list[tuple[str, dict]], jobs: int,
               pool: ParserPool | None = None) -> Iterator[tuple[str, dict, ParseResult]]:
    """Parse blobs in bounded worker processes (a pool is given by a long-running caller, which keeps it
    to avoid starting workers each time); order kept. A parse that exceeds its limits, or whose worker
    dies, gives a failed result that says why, and the others go on. A parse that says nothing of its
    document (the pool broke under it, an idle pool's time ran out) is left out: it stays to be parsed."""
    convert_office(store, items)
    pool = pool or shared_pool(max(1, jobs))
    futures = [None if "unreadable" in hint else pool.submit(parse_blob, str(store.root), sha, hint,
                                                              size=hint.get("size")) for sha, hint in items]
    judged, unjudged = 0, 0
    try:
        for (sha, hint), future in zip(items, futures, strict=True):
            res = Unreadable(hint["unreadable"]) if future is None else outcome(future, hint, pool.limits,
                                                                                 idle=pool.idle)
            if res is None:
                unjudged += 1
                continue
            judged += 1
            yield sha, hint, res
    finally:
        for future in futures:  # a caller that stopped reading (an error, Ctrl-C) leaves no work queued
            if future is not None:
                future.cancel()
    if unjudged:
        log.warning("%d of %d documents were not parsed this time and stay queued (the parser processes "
                    "stopped under them, or an idle pool ran out of time)", unjudged, len(items))
    if unjudged and not judged and pool.broken:
        raise ParserUnavailable(
            f"the parser processes could not start or keep running, so {unjudged} documents stay queued: is the "
            f"{pool.limits.memory_mb} MB a parse may use too little to load the parser? (NIANBAO_PARSE_MEMORY_MB)")


def outcome(future: Future, hint: dict, limits: ParseLimits, idle: bool = False) -> ParseResult | Unreadable | None:
    """The parse's result, a failed one saying in words what stopped it, or None when what stopped it says
    nothing of the document: the pool broke (a worker died with no task), the parse was cancelled, or the
    time ran out in an idle pool (it runs on CPU time nobody else wants, so its clock is not the document's)."""
    try:
        return future.result()
    except FutureTimeout:
        if idle:
            return None
        why = (f"parsing stopped after {limits.seconds_for(hint.get('size')):.0f} s, the limit for a document of "
               f"{(hint.get('size') or 0) / 1e6:.1f} MB (NIANBAO_PARSE_SECONDS, NIANBAO_PARSE_SECONDS_PER_MB)")
    except ProcessExpired as e:
        code = e.exitcode or 0
        name = signal.Signals(-code).name if code < 0 and -code in signal.Signals._value2member_map_ else None
        why = (f"the parser process died ({name or f'exit status {code}'}), most likely over the "
               f"{limits.memory_mb} MB a parse may use (NIANBAO_PARSE_MEMORY_MB)")
    except (BrokenExecutor, CancelledError):
        return None
    except BlobError as e:  # the store's fault, not the document's: nothing about it changes
        return Unreadable(str(e))
    except Exception as e:  # the parser's own errors are results; this is a worker that could not run it
        why = f"the parser failed: {type(e).__name__}: {e}"
    return ParseResult(kind=hint.get("kind") or "other", report={"warnings": [why]}, is_report=False, error=why)


def pending(catalog: Catalog, *, all_blobs: bool = False, retry: bool = True, failed_only: bool = False,
            limits: ParseLimits | None = None) -> list[str]:
    """Blobs never examined, or (``all_blobs``) examined by another parser version; oldest first. Then, with
    ``retry``, those whose parse failed fewer than ``limits.attempts`` times: each run tries them once more,
    after everything else. ``failed_only``: every failed one (``reparse --failed``)."""
    if failed_only:
        return [r["sha256"] for r in catalog.rows("SELECT sha256 FROM blobs WHERE role = 'failed' "
                                                  "ORDER BY first_seen, rowid")]
    where = "examined_by IS NULL OR examined_by != ?" if all_blobs else "examined_by IS NULL"
    params: tuple = (PARSER_VERSION,) if all_blobs else ()
    shas = [r["sha256"] for r in catalog.rows(f"SELECT sha256 FROM blobs WHERE {where} ORDER BY first_seen, rowid",
                                              params)]
    if retry:
        attempts = (limits or ParseLimits.from_env()).attempts
        seen = set(shas)
        shas += [r["sha256"] for r in catalog.rows(
            "SELECT sha256 FROM blobs WHERE role = 'failed' AND examined_by = ? AND parse_failures < ? "
            "ORDER BY first_seen, rowid", (PARSER_VERSION, attempts)) if r["sha256"] not in seen]
    return shas


ParseStep = Callable[[list[tuple[str, dict]]], Iterable[tuple[str, dict, ParseResult | Unreadable]]]


def examine(catalog: Catalog, store: BlobStore, shas: Iterable[str], *, jobs: int | None = None,
            assign: bool = True, progress: Progress | None = None, batch: int = 50,
            pool: ParserPool | None = None, parse_with: ParseStep | None = None) -> list[Placed]:
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
        if isinstance(item[2], Unreadable):
            placed.append(Placed(item[0], note=item[2].why, unreadable=True))
        else:
            chunk.append(item)
        if len(chunk) >= batch:
            flush()
        if progress:
            progress(i, len(items))
    if chunk:
        flush()
    return placed
