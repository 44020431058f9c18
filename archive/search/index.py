"""Keep the search index in step with the catalog: :func:`sync` indexes what the triggers queued in
``search_dirty``; :func:`rebuild` (``nianbao reindex``) starts over.

The FTS5 table is contentless (the text already lives in ``documents.text``; a copy would double the
archive). It has three columns: ``body`` and ``quad``, the text's two- and four-character pieces
(:mod:`archive.search.text`), and ``meta``, the document's facets as tokens (``zqzy2021``,
``zqzp1`` …: :mod:`archive.search.facets`) plus its agency's pieces, so a filtered search is answered
inside FTS5 without joining a table row by row (at 100,000 reports the join alone cost more than the
whole search budget).
The FTS rowid is ``year * 10**10 + document id``: ordering by rowid is newest year first, at no cost.

Rows are deleted for real, not marked: SQLite 3.40 deletes from a contentless table only when given
the tokens that were indexed, so a document whose text changes or goes has its old text kept by a
trigger in ``search_retired`` until :func:`sync` has used it. If the indexed text cannot be found
(the catalog was edited by hand with the triggers dropped), the index is rebuilt instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from archive.capture import iso, utcnow
from archive.catalog import aliases
from archive.catalog.db import Catalog
from archive.search.facets import meta_tokens
from archive.search.text import pieces, quads, region_of

BATCH = 500
ROWID_YEAR = 10**10

DOC_SQL = """
    SELECT d.id, d.report_id, d.revision_id, d.text, d.kind, d.template, d.failed_checks, d.title,
           coalesce(r.agency, d.agency) AS agency, r.agency_key, coalesce(r.year, d.year) AS year,
           (r.current_revision_id IS NOT NULL AND r.current_revision_id = d.revision_id) AS current,
           (v.primary_document_id = d.id AND r.current_revision_id = d.revision_id) AS is_primary
    FROM documents d LEFT JOIN reports r ON r.id = d.report_id LEFT JOIN revisions v ON v.id = d.revision_id
    WHERE d.id IN ({marks})"""


class _Rebuild(Exception):
    """The text an index row was made from is gone: only a rebuild makes the index exact again."""


def fts_rowid(document_id: int, year: int | None) -> int:
    return (year if year and 0 < year < 10**8 else 0) * ROWID_YEAR + document_id


def text_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def pending(catalog: Catalog) -> int:
    """Documents queued for indexing."""
    return catalog.scalar("SELECT count(*) FROM search_dirty") or 0


def sync(catalog: Catalog, progress: Callable[[int, int], None] | None = None) -> int:
    """Index every queued document; return how many were taken from the queue."""
    try:
        return _drain(catalog, progress)
    except _Rebuild:
        return rebuild(catalog, progress)


def rebuild(catalog: Catalog, progress: Callable[[int, int], None] | None = None) -> int:
    """Drop the index and build it again from ``documents`` (and compact it)."""
    with catalog.transaction():
        catalog.conn.execute("DELETE FROM search_docs")
        catalog.conn.execute("DELETE FROM search_retired")
        catalog.conn.execute("INSERT INTO search_fts(search_fts) VALUES ('delete-all')")
        catalog.conn.execute("INSERT OR IGNORE INTO search_dirty(document_id) SELECT id FROM documents")
    done = _drain(catalog, progress)
    with catalog.transaction():
        catalog.conn.execute("INSERT INTO search_fts(search_fts) VALUES ('optimize')")
    return done


def _drain(catalog: Catalog, progress: Callable[[int, int], None] | None) -> int:
    """Index the queue in batches, one transaction each: a kill -9 loses at most the batch, still queued."""
    total, done = pending(catalog), 0
    while ids := [r["document_id"] for r in catalog.rows("SELECT document_id FROM search_dirty LIMIT ?", (BATCH,))]:
        with catalog.transaction():
            _index(catalog, ids)
            catalog.conn.executemany("DELETE FROM search_dirty WHERE document_id = ?", [(i,) for i in ids])
        done += len(ids)
        if progress:
            progress(done, max(total, done))
    return done


def _index(catalog: Catalog, ids: list[int]) -> None:
    conn = catalog.conn
    marks = ",".join("?" * len(ids))
    docs = {r["id"]: r for r in catalog.rows(DOC_SQL.format(marks=marks), tuple(ids))}
    lives = {r["document_id"]: r for r in catalog.rows(
        f"SELECT fts_rowid, document_id, indexed_sha, meta FROM search_docs WHERE document_id IN ({marks})",
        tuple(ids))}
    retired = {r["document_id"]: r["text"] for r in catalog.rows(
        f"SELECT document_id, text FROM search_retired WHERE document_id IN ({marks})", tuple(ids))}
    now = iso(utcnow())
    merged = aliases.groups(catalog)  # an agency merged under several names: one region, found by any name
    for did in ids:
        live, d = lives.get(did), docs.get(did)
        facets = None
        if d is not None and d["text"]:
            group = merged.get(d["agency_key"]) or {}
            region = region_of(group.get("name") or d["agency"])
            facets = {"fts_rowid": fts_rowid(did, d["year"]), "document_id": did, "report_id": d["report_id"],
                      "revision_id": d["revision_id"], "indexed_sha": text_hash(d["text"]),
                      "current": int(bool(d["current"])), "is_primary": int(bool(d["is_primary"])),
                      "agency": d["agency"], "region": region, "year": d["year"], "template": d["template"],
                      "kind": d["kind"], "failed_checks": d["failed_checks"] or 0, "title": d["title"],
                      "indexed_at": now}
            facets["meta"] = meta_tokens({**facets, "agency_names": group.get("names")})
        if live and facets and (live["fts_rowid"], live["indexed_sha"], live["meta"]) == (
                facets["fts_rowid"], facets["indexed_sha"], facets["meta"]):
            conn.execute("UPDATE search_docs SET report_id = ?, revision_id = ?, title = ? WHERE fts_rowid = ?",
                         (facets["report_id"], facets["revision_id"], facets["title"], live["fts_rowid"]))
        else:
            if live:
                old = _indexed_text(live, d, retired.get(did))
                conn.execute("INSERT INTO search_fts(search_fts, rowid, body, quad, meta) "
                             "VALUES ('delete', ?, ?, ?, ?)",
                             (live["fts_rowid"], pieces(old), quads(old), live["meta"]))
                conn.execute("DELETE FROM search_docs WHERE fts_rowid = ?", (live["fts_rowid"],))
            if facets:
                conn.execute(f"INSERT INTO search_docs ({', '.join(facets)}) VALUES ({', '.join('?' * len(facets))})",
                             tuple(facets.values()))
                conn.execute("INSERT INTO search_fts(rowid, body, quad, meta) VALUES (?, ?, ?, ?)",
                             (facets["fts_rowid"], pieces(d["text"]), quads(d["text"]), facets["meta"]))
        if did in retired:
            conn.execute("DELETE FROM search_retired WHERE document_id = ?", (did,))


def _indexed_text(live: dict, doc: dict | None, retired: str | None) -> str:
    """The exact text an index row was made from: the document's own, or the one the trigger kept."""
    for text in (doc["text"] if doc else None, retired):
        if text and text_hash(text) == live["indexed_sha"]:
            return text
    raise _Rebuild(f"the indexed text of document {live['document_id']} is gone")
