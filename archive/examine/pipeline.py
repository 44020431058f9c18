"""Turn stored blobs into documents, reports and revisions: parse (pure, parallel), then place (placement.py).

Everything written here is derived from the originals and carries the parser version, so
``reparse`` can throw it away and rebuild it.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from archive.catalog.db import Catalog
from archive.examine import context
from archive.examine.placement import Placed, Placer, Progress
from archive.examine.workers import parser_pool
from archive.extract.office import to_docx
from archive.parser import PARSER_VERSION, ParseContext, ParseResult, parse
from archive.store.blobs import BlobStore


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
