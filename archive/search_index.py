"""Keep the search index in step with the catalog: :func:`sync` indexes what the triggers queued in
``search_dirty``; :func:`rebuild` (``nianbao reindex``) starts over.

The FTS5 table is contentless (the text already lives in ``documents.text``; a copy would double the
archive). SQLite 3.40 cannot delete from a contentless table without the original tokens, so a text
that changes gets a *new* index row and the old one is marked ``stale`` (never returned); a document
that only moves (another revision becomes current, its checks change) just has its facets updated.
``rebuild`` drops the stale rows; :func:`sync` rebuilds by itself when they pass a quarter of the index.
"""

from __future__ import annotations

from collections.abc import Callable

from archive.capture import iso, utcnow
from archive.catalog import Catalog
from archive.search_text import pieces, region_of

BATCH = 500
STALE_REBUILD_SHARE = 0.25

DOC_SQL = """
    SELECT d.id, d.report_id, d.revision_id, d.text, d.text_sha256, d.kind, d.template, d.failed_checks, d.title,
           coalesce(r.agency, d.agency) AS agency, coalesce(r.year, d.year) AS year,
           (r.current_revision_id IS NOT NULL AND r.current_revision_id = d.revision_id) AS current,
           (v.primary_document_id = d.id AND r.current_revision_id = d.revision_id) AS is_primary
    FROM documents d LEFT JOIN reports r ON r.id = d.report_id LEFT JOIN revisions v ON v.id = d.revision_id
    WHERE d.id IN ({marks})"""


def pending(catalog: Catalog) -> int:
    """Documents queued for indexing."""
    return catalog.scalar("SELECT count(*) FROM search_dirty") or 0


def sync(catalog: Catalog, progress: Callable[[int, int], None] | None = None) -> int:
    """Index every queued document; return how many were taken from the queue."""
    if pending(catalog) and _stale_share(catalog) > STALE_REBUILD_SHARE:
        return rebuild(catalog, progress)
    return _drain(catalog, progress)


def rebuild(catalog: Catalog, progress: Callable[[int, int], None] | None = None) -> int:
    """Drop the index and build it again from ``documents`` (and compact it)."""
    with catalog.transaction():
        catalog.conn.execute("DELETE FROM search_docs")
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


def _stale_share(catalog: Catalog) -> float:
    row = catalog.one("SELECT count(*) AS n, coalesce(sum(stale), 0) AS s FROM search_docs")
    return (row["s"] / row["n"]) if row and row["n"] else 0.0


def _index(catalog: Catalog, ids: list[int]) -> None:
    conn = catalog.conn
    docs = {r["id"]: r for r in catalog.rows(DOC_SQL.format(marks=",".join("?" * len(ids))), tuple(ids))}
    now = iso(utcnow())
    marks = ",".join("?" * len(ids))
    lives = {r["document_id"]: r for r in catalog.rows(
        f"SELECT id, document_id, text_sha256 FROM search_docs WHERE document_id IN ({marks}) AND stale = 0",
        tuple(ids))}
    for did in ids:
        live = lives.get(did)
        d = docs.get(did)
        if d is None or not d["text"]:
            if live:
                conn.execute("UPDATE search_docs SET stale = 1 WHERE id = ?", (live["id"],))
            continue
        facets = {"report_id": d["report_id"], "revision_id": d["revision_id"], "current": int(bool(d["current"])),
                  "is_primary": int(bool(d["is_primary"])), "agency": d["agency"], "region": region_of(d["agency"]),
                  "year": d["year"], "template": d["template"], "kind": d["kind"],
                  "failed_checks": d["failed_checks"] or 0, "title": d["title"]}
        if live and live["text_sha256"] == d["text_sha256"]:
            sets = ", ".join(f"{k} = :{k}" for k in facets)
            conn.execute(f"UPDATE search_docs SET {sets} WHERE id = :id", {**facets, "id": live["id"]})
            continue
        if live:
            conn.execute("UPDATE search_docs SET stale = 1 WHERE id = ?", (live["id"],))
        cur = conn.execute(
            f"INSERT INTO search_docs (document_id, text_sha256, indexed_at, {', '.join(facets)}) "
            f"VALUES (?, ?, ?, {', '.join('?' * len(facets))})", (did, d["text_sha256"], now, *facets.values()))
        conn.execute("INSERT INTO search_fts(rowid, body) VALUES (?, ?)", (cur.lastrowid, pieces(d["text"])))
