"""The catalog's schema, as numbered migrations applied in order (never edited once released).

Each migration runs in its own transaction and is recorded in ``_migrations``; a catalog written by
a newer nianbao is refused rather than misread.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import sqlite_utils


def m001_initial(db: sqlite_utils.Database) -> None:
    """Captures, blobs, WARC files, runs; documents, reports, revisions; cells, checks, sections."""
    db["runs"].create({
        "id": int, "kind": str, "started_at": str, "ended_at": str, "status": str, "pid": int, "host": str,
        "portals": str, "pages": int, "bytes": int, "new_blobs": int, "new_documents": int,
        "new_reports": int, "not_modified": int, "blocked": int, "errors": int, "error": str, "stats": str,
    }, pk="id", defaults={"pages": 0, "bytes": 0, "new_blobs": 0, "new_documents": 0, "new_reports": 0,
                          "not_modified": 0, "blocked": 0, "errors": 0})
    db["blobs"].create({
        "sha256": str, "size": int, "stored_size": int, "encoding": str, "kind": str, "first_seen": str,
        "examined_by": str, "role": str, "examine_note": str,
    }, pk="sha256", not_null={"size", "stored_size", "encoding", "first_seen"})
    db["warc_files"].create({
        "name": str, "created_at": str, "size": int, "records": int, "closed": int,
    }, pk="name", defaults={"closed": 0})
    db["captures"].create({
        "id": int, "run_id": int, "source": str, "url": str, "final_url": str, "fetched_at": str,
        "status": int, "method": str, "headers": str, "content_type": str, "etag": str,
        "last_modified": str, "sha256": str, "size": int, "kind": str, "filename": str, "referrer": str,
        "link_text": str, "redirects": str, "ip_address": str, "warc_file": str, "warc_offset": int,
        "warc_length": int, "warc_record_id": str, "warc_type": str, "payload_digest": str,
    }, pk="id", not_null={"url", "fetched_at", "source"},
        foreign_keys=[("run_id", "runs", "id"), ("sha256", "blobs", "sha256"),
                      ("warc_file", "warc_files", "name")])
    for cols in (["url"], ["final_url"], ["sha256"], ["payload_digest"], ["run_id"]):
        db["captures"].create_index(cols)
    db["reports"].create({
        "id": int, "agency": str, "agency_key": str, "year": int, "title": str, "template": str,
        "first_seen": str, "updated_at": str, "current_revision_id": int,
    }, pk="id")
    db["reports"].create_index(["agency_key", "year"], unique=True)
    db["reports"].create_index(["year"])
    db["revisions"].create({
        "id": int, "report_id": int, "number": int, "first_seen": str, "primary_document_id": int,
        "text_sha256": str,
    }, pk="id", foreign_keys=[("report_id", "reports", "id")])
    db["revisions"].create_index(["report_id", "number"], unique=True)
    db["documents"].create({
        "id": int, "sha256": str, "kind": str, "report_id": int, "revision_id": int, "first_seen": str,
        "agency": str, "year": int, "title": str, "template": str, "text_sha256": str, "numbers": str,
        "cells_count": int, "failed_checks": int, "parser_version": str, "parsed_at": str, "parsed": str,
        "text": str, "identity": str,
    }, pk="id", foreign_keys=[("sha256", "blobs", "sha256"), ("report_id", "reports", "id"),
                              ("revision_id", "revisions", "id")])
    db["documents"].create_index(["sha256"], unique=True)
    db["documents"].create_index(["report_id"])
    db["documents"].create_index(["year"])
    db["document_bands"].create({"band": str, "document_id": int}, foreign_keys=[
        ("document_id", "documents", "id")])
    db["document_bands"].create_index(["band"])
    db["document_bands"].create_index(["document_id"])
    # "ANY" gives NUMERIC affinity: integers stay integers, money stays decimal.
    db["cells"].create({
        "id": int, "document_id": int, "table_id": str, "row_id": str, "column_id": str, "value": "ANY",
        "raw": str, "label": str, "recovered": str, "parser_version": str,
    }, pk="id", foreign_keys=[("document_id", "documents", "id")])
    db["cells"].create_index(["document_id"])
    db["cells"].create_index(["table_id", "row_id", "column_id"])
    db["checks"].create({
        "id": int, "document_id": int, "rule": str, "ok": int, "detail": str, "parser_version": str,
    }, pk="id", foreign_keys=[("document_id", "documents", "id")])
    db["checks"].create_index(["document_id"])
    db["checks"].create_index(["rule", "ok"])
    db["sections"].create({
        "id": int, "document_id": int, "position": int, "number": str, "heading": str, "text": str,
        "parser_version": str,
    }, pk="id", foreign_keys=[("document_id", "documents", "id")])
    db["sections"].create_index(["document_id"])
    # Plain-SQL entry points: the cells and checks of every report's current primary document.
    db.create_view("report_cells", """
        SELECT r.id AS report_id, r.agency, r.year, d.template, c.table_id, c.row_id, c.column_id,
               c.value, c.raw, c.label, c.recovered, d.sha256, c.parser_version
        FROM reports r
        JOIN revisions v ON v.id = r.current_revision_id
        JOIN documents d ON d.id = v.primary_document_id
        JOIN cells c ON c.document_id = d.id""")
    db.create_view("report_checks", """
        SELECT r.id AS report_id, r.agency, r.year, k.rule, k.ok, k.detail, d.sha256, k.parser_version
        FROM reports r
        JOIN revisions v ON v.id = r.current_revision_id
        JOIN documents d ON d.id = v.primary_document_id
        JOIN checks k ON k.document_id = d.id""")


def m002_capture_host_and_site(db: sqlite_utils.Database) -> None:
    """Captures get the host they came from (indexed: summaries and crawls ask per host) and the
    site's SiteIDCode meta (网站标识码), the provenance a mirror cannot fake."""
    from urllib.parse import urlsplit

    db["captures"].add_column("host", str)
    db["captures"].add_column("site_id", str)
    for row in list(db.query("SELECT id, coalesce(final_url, url) AS u FROM captures")):
        db.execute("UPDATE captures SET host = ? WHERE id = ?", [urlsplit(row["u"]).hostname, row["id"]])
    db["captures"].create_index(["host"])


def m003_harvests(db: sqlite_utils.Database) -> None:
    """The scheduler's run history: one row per harvest of one portal, whatever became of it (a crawl
    that crashed before it could open a ``runs`` row is still recorded here, with its reason)."""
    db["harvests"].create({
        "id": int, "portal": str, "trigger": str, "scheduled_for": str, "started_at": str, "ended_at": str,
        "outcome": str, "reason": str, "run_id": int, "pid": int, "host": str, "pages": int, "new_documents": int,
        "new_reports": int, "blocked": int, "errors": int, "seconds": float,
    }, pk="id", foreign_keys=[("run_id", "runs", "id")],
        defaults={"pages": 0, "new_documents": 0, "new_reports": 0, "blocked": 0, "errors": 0})
    db["harvests"].create_index(["portal", "started_at"])


def m004_search(db: sqlite_utils.Database) -> None:
    """The search index (archive/search/index.py): ``search_docs`` (one row per indexed text, its
    facets, ``stale`` once replaced), the contentless FTS5 table ``search_fts`` of its two-character
    pieces, and ``search_dirty``: documents to (re)index, queued by triggers in plain SQL, so every
    writer (ours, Datasette, a script) keeps the index in step without knowing about it."""
    db["search_docs"].create({
        "id": int, "document_id": int, "report_id": int, "revision_id": int, "text_sha256": str, "stale": int,
        "current": int, "is_primary": int, "agency": str, "region": str, "year": int, "template": str,
        "kind": str, "failed_checks": int, "title": str, "indexed_at": str,
    }, pk="id", defaults={"stale": 0, "current": 0, "is_primary": 0, "failed_checks": 0})
    db["search_docs"].create_index(["document_id"])
    db["search_docs"].create_index(["stale", "is_primary", "current", "year"])
    db["search_docs"].create_index(["report_id"])
    db.execute("CREATE VIRTUAL TABLE search_fts USING fts5(body, content='', tokenize='unicode61')")
    db["search_dirty"].create({"document_id": int}, pk="document_id")
    for sql in (
        "CREATE TRIGGER search_doc_ins AFTER INSERT ON documents BEGIN "
        "INSERT OR IGNORE INTO search_dirty(document_id) VALUES (NEW.id); END",
        "CREATE TRIGGER search_doc_upd AFTER UPDATE ON documents BEGIN "
        "INSERT OR IGNORE INTO search_dirty(document_id) VALUES (NEW.id); END",
        "CREATE TRIGGER search_doc_del AFTER DELETE ON documents BEGIN "
        "INSERT OR IGNORE INTO search_dirty(document_id) VALUES (OLD.id); END",
        "CREATE TRIGGER search_rep_upd AFTER UPDATE OF current_revision_id ON reports BEGIN "
        "INSERT OR IGNORE INTO search_dirty(document_id) SELECT id FROM documents WHERE report_id = NEW.id; END",
        "CREATE TRIGGER search_rev_upd AFTER UPDATE OF primary_document_id ON revisions BEGIN "
        "INSERT OR IGNORE INTO search_dirty(document_id) SELECT id FROM documents WHERE report_id = NEW.report_id; "
        "END",
    ):
        db.execute(sql)
    db.execute("INSERT OR IGNORE INTO search_dirty(document_id) SELECT id FROM documents")


def m005_search_v2(db: sqlite_utils.Database) -> None:
    """Search index, second form (archive/search/index.py): two- and four-character pieces of the text
    (``body``, ``quad``), and facets as tokens of a ``meta`` column of the FTS5 table, so a filtered
    search is answered inside FTS5 without a join, and the FTS rowid orders
    by year (``year * 10**10 + document id``). Rows are deleted for real (a contentless table needs the
    indexed text to delete a row: the triggers keep a changed or deleted document's old text in
    ``search_retired`` until the index has let go of it). Everything is indexed again on the next sync."""
    for t in ("search_fts", "search_docs"):
        db.execute(f"DROP TABLE IF EXISTS {t}")
    db["search_docs"].create({
        "fts_rowid": int, "document_id": int, "report_id": int, "revision_id": int, "indexed_sha": str,
        "meta": str, "current": int, "is_primary": int, "agency": str, "region": str, "year": int,
        "template": str, "kind": str, "failed_checks": int, "title": str, "indexed_at": str,
    }, pk="fts_rowid", defaults={"current": 0, "is_primary": 0, "failed_checks": 0})
    db["search_docs"].create_index(["document_id"], unique=True)
    db["search_docs"].create_index(["report_id"])
    # facet counts read this narrow index instead of the rows (which carry titles and agency pieces)
    db["search_docs"].create_index(["fts_rowid", "year", "region", "template", "kind", "failed_checks"],
                                   index_name="search_docs_facets")
    db.execute("CREATE VIRTUAL TABLE search_fts USING fts5(body, quad, meta, content='', tokenize='unicode61')")
    db.execute("INSERT INTO search_fts(search_fts, rank) VALUES ('rank', 'bm25(1.0, 1.0, 0.0)')")
    db["search_retired"].create({"document_id": int, "text": str}, pk="document_id")
    for sql in (
        "CREATE TRIGGER search_doc_retire_upd BEFORE UPDATE OF text ON documents "
        "WHEN OLD.text IS NOT NEW.text AND EXISTS (SELECT 1 FROM search_docs WHERE document_id = OLD.id) BEGIN "
        "INSERT OR IGNORE INTO search_retired(document_id, text) VALUES (OLD.id, OLD.text); END",
        "CREATE TRIGGER search_doc_retire_del BEFORE DELETE ON documents "
        "WHEN EXISTS (SELECT 1 FROM search_docs WHERE document_id = OLD.id) BEGIN "
        "INSERT OR IGNORE INTO search_retired(document_id, text) VALUES (OLD.id, OLD.text); END",
    ):
        db.execute(sql)
    db.execute("INSERT OR IGNORE INTO search_dirty(document_id) SELECT id FROM documents")


def m006_imports(db: sqlite_utils.Database) -> None:
    """WARC imports (archive/ingest/warc_import.py): ``captures.source_record_id`` names the record a capture
    was imported from, so an import repeated, or cut off and run again, adds nothing twice;
    ``imports`` remembers each file imported whole; ``handovers`` each worker hand-over taken in."""
    db["captures"].add_column("source_record_id", str)
    db.execute("CREATE UNIQUE INDEX idx_captures_source_record_id ON captures(source_record_id) "
               "WHERE source_record_id IS NOT NULL")
    db["imports"].create({
        "id": int, "source": str, "first_record_id": str, "size": int, "records": int, "captures": int,
        "run_id": int, "started_at": str, "completed_at": str,
    }, pk="id", foreign_keys=[("run_id", "runs", "id")])
    db["imports"].create_index(["first_record_id", "size"])
    db["handovers"].create({
        "task_id": str, "portal": str, "worker": str, "manifest": str, "status": str, "run_id": int,
        "imported_at": str,
    }, pk="task_id", foreign_keys=[("run_id", "runs", "id")])


def m007_printed_dates(db: sqlite_utils.Database) -> None:
    """Context kept at examine time (archive/examine/context.py): ``blobs.page`` (an HTML page's title,
    site meta, printed date and the dates beside its links), ``documents.context`` (how the document was
    met), ``documents.published`` with its source and every candidate (``published_dates``), so coverage
    reads no original. HTML blobs examined before are marked for examining again (their facts were not
    kept); the documents they link are dated again as each is examined."""
    db["blobs"].add_column("page", str)
    for col in ("context", "published", "published_source", "published_dates"):
        db["documents"].add_column(col, str)
    db["captures"].create_index(["referrer"])
    db.execute("UPDATE blobs SET examined_by = NULL WHERE kind = 'html' AND examined_by IS NOT NULL")


def m008_agency_from(db: sqlite_utils.Database) -> None:
    """``documents.agency_from``: where the parser read the document's agency (its ``provenance``), so the
    identity rule can tell a name the document gives from one only the site gives (SiteName, 主办单位).
    Documents examined before have none and count as naming their agency themselves, as they did."""
    db["documents"].add_column("agency_from", str)


def m009_portal_agency(db: sqlite_utils.Database) -> None:
    """``captures.portal_agency``: the agency named by the portal profile the crawl fetched the capture for,
    handed to the parser as the last-resort agency of a report that names none (issue 13)."""
    db["captures"].add_column("portal_agency", str)


def m010_parse_failures(db: sqlite_utils.Database) -> None:
    """``blobs.parse_failures``: how many parses of the original failed (over a limit, a worker that died,
    a file the parser cannot read), so a failed original is retried on later runs, a bounded number of
    times, instead of blocking every run that parses first (issue 14)."""
    db["blobs"].add_column("parse_failures", int, not_null_default=0)


def m011_old_failures_settled(db: sqlite_utils.Database) -> None:
    """Originals whose parse failed before failures were counted (``parse_failures`` 0 from migration 10)
    are counted as having used the default three attempts: they failed under the parser of their day and
    are left to ``reparse --failed``, not retried by every later run."""
    db.execute("UPDATE blobs SET parse_failures = 3 WHERE role = 'failed' AND parse_failures = 0")


def m012_own_record_ids(db: sqlite_utils.Database) -> None:
    """An index on ``captures.warc_record_id``: an import asks of every record whether it is one of the
    archive's own (its ``export --format warc`` read back), which adds nothing twice (issue 15)."""
    db["captures"].create_index(["warc_record_id"], if_not_exists=True)


def m013_current_lookups(db: sqlite_utils.Database) -> None:
    """Indexes from a document to the revision it is primary of and from a revision to the report it is
    current for: the comparison reads one cell of every report by starting from the cells (issue 15)."""
    db["revisions"].create_index(["primary_document_id"], if_not_exists=True)
    db["reports"].create_index(["current_revision_id"], if_not_exists=True)


def m014_user_hints(db: sqlite_utils.Database) -> None:
    """``captures.user_agency`` and ``captures.user_year``: the agency and year a user gave with the files
    ingested (``nianbao ingest --agency --year``), which the parser takes for a document whose own text names
    none (a scan, a report titled only 2024年政府信息公开工作年度报告) (issue 15)."""
    db["captures"].add_column("user_agency", str)
    db["captures"].add_column("user_year", int)


# The views as migration 15 makes them (also made as TEMP views for an older catalog opened read-only).
VIEWS_15 = {
    "report_cells": """
        SELECT r.id AS report_id, r.agency, r.year, d.template, c.table_id AS "table", c.row_id AS "row",
               c.column_id AS "column", c.value, c.raw, c.label, c.recovered, d.sha256, c.parser_version
        FROM reports r
        JOIN revisions v ON v.id = r.current_revision_id
        JOIN documents d ON d.id = v.primary_document_id
        JOIN cells c ON c.document_id = d.id""",
    "report_checks": """
        SELECT r.id AS report_id, r.agency, r.year, d.template, k.rule, k.ok, k.detail, d.sha256, k.parser_version
        FROM reports r
        JOIN revisions v ON v.id = r.current_revision_id
        JOIN documents d ON d.id = v.primary_document_id
        JOIN checks k ON k.document_id = d.id""",
}


def m015_view_names(db: sqlite_utils.Database) -> None:
    """The views name a cell's table, row and column as the CSV and JSON exports do (``table``, ``row``,
    ``column``; SQL keywords, so quoted in queries), and ``report_checks`` carries the template as
    ``report_cells`` does; the ``cells`` table keeps its own names (issue 15)."""
    for name, sql in VIEWS_15.items():
        db.create_view(name, sql, replace=True)


def read_only_views(conn: sqlite3.Connection, version: int) -> None:
    """A catalog older than migration 15 opened read-only (which never migrates) gets the views' new names as
    TEMP views of this connection, which shadow its stored ones: the queries that name ``"table"`` would
    otherwise read the string 'table' (SQLite takes an unknown double-quoted name for a string)."""
    if 1 <= version < 15:
        for name, sql in VIEWS_15.items():
            conn.execute(f"CREATE TEMP VIEW IF NOT EXISTS {name} AS {sql}")


def m016_coverage_covering(db: sqlite_utils.Database) -> None:
    """Covering indexes for coverage, which reads every report's documents and their first capture: a
    document row holds its text and parse, so a lookup that must visit it costs a page read each; the new
    indexes replace the single-column ones they begin with (issue 15: coverage of 10,000 reports)."""
    db["documents"].create_index(["report_id", "published", "published_source", "sha256"], if_not_exists=True,
                                 index_name="idx_documents_report_published")
    db.execute("DROP INDEX IF EXISTS idx_documents_report_id")
    db["captures"].create_index(["sha256", "source", "fetched_at"], if_not_exists=True,
                                index_name="idx_captures_sha256_source")
    db.execute("DROP INDEX IF EXISTS idx_captures_sha256")


def m017_portal_registry(db: sqlite_utils.Database) -> None:
    """The portal registry (issue 16): portals registered in bulk from a CSV or JSONL file, one row each, instead
    of one TOML profile per portal. ``url`` is the start URL (a JSON list when there are several), ``profile``
    the JSON of the optional profile keys the row gave (delay, render, hints …), ``source`` the file it came from."""
    db["portals"].create({
        "name": str, "agency": str, "url": str, "region": str, "level": str, "parent": str, "site_id": str,
        "profile": str, "imported_at": str, "source": str,
    }, pk="name", not_null={"url", "imported_at"})
    db["portals"].create_index(["agency"])
    db["portals"].create_index(["site_id"])


def m018_frontier(db: sqlite_utils.Database) -> None:
    """The scheduler's frontier (archive/catalog/frontier.py): one row per scheduled portal with its next due
    time (UTC ISO, indexed: a wave asks for the earliest due ones), its last success and attempt, consecutive
    failures and back-off, and the schedule it was computed from, so 100,000 portals need no job each; and
    ``harvests.outcome`` indexed (the start looks for crawls cut off, among millions of finished ones)."""
    db["frontier"].create({
        "portal": str, "signature": str, "next_due": str, "last_ok": str, "last_attempt": str, "failures": int,
        "backoff_until": str, "last_outcome": str,
    }, pk="portal", not_null={"signature", "next_due"}, defaults={"failures": 0})
    db["frontier"].create_index(["next_due", "portal"])  # the pick's order, read off the index
    db["frontier"].create_index(["failures"])
    db["harvests"].create_index(["outcome"], if_not_exists=True)


def m019_agency_aliases(db: sqlite_utils.Database) -> None:
    """``agency_aliases``: one agency under two names (洪泽区人民政府 / 淮安市洪泽区人民政府). Each row says that the
    name ``alias_key`` is the agency ``canonical_key`` (itself possibly an alias: chains resolve to their root),
    with both names as written, who merged them, when and why (archive/catalog/aliases.py). Reports are filed
    under the root's key, so every reader follows a merge with no join (issue 16)."""
    db["agency_aliases"].create({
        "alias_key": str, "canonical_key": str, "alias_name": str, "canonical_name": str, "merged_at": str,
        "merged_by": str, "reason": str,
    }, pk="alias_key", not_null={"canonical_key", "alias_name", "canonical_name", "merged_at"}, if_not_exists=True)
    db["agency_aliases"].create_index(["canonical_key"], if_not_exists=True)


def m020_placement_lookups(db: sqlite_utils.Database) -> None:
    """Placing a document reads its revision's documents and the reports of its year by name: without
    ``documents(revision_id)`` the first read every document, and ``reports(year, agency_key)`` lets the second
    read the index alone, so placing a report does not slow as a national archive grows (bench/handovers.py)."""
    db["documents"].create_index(["revision_id"], if_not_exists=True)
    db["reports"].create_index(["year", "agency_key"], if_not_exists=True)


def m021_agency_apart(db: sqlite_utils.Database) -> None:
    """``agency_apart``: two names a person unmerged (``nianbao agencies unmerge``) are two agencies: the portal
    registry's word does not merge them again and ``agencies suggest`` no longer proposes them; a person's
    ``agencies merge`` of the pair deletes the row (archive/catalog/aliases.py)."""
    db["agency_apart"].create({"key_a": str, "key_b": str, "name_a": str, "name_b": str, "at": str, "by": str,
                               "was": str}, pk=("key_a", "key_b"), if_not_exists=True)


MIGRATIONS: list[tuple[int, str, Callable[[sqlite_utils.Database], None]]] = [
    (1, "initial", m001_initial),
    (2, "capture host and SiteIDCode", m002_capture_host_and_site),
    (3, "harvest history", m003_harvests),
    (4, "search index", m004_search),
    (5, "search index: facets in FTS5, real deletes", m005_search_v2),
    (6, "WARC imports and worker hand-overs", m006_imports),
    (7, "printed dates and page facts kept at examine time", m007_printed_dates),
    (8, "where a document's agency was read", m008_agency_from),
    (9, "the portal profile's agency on captures", m009_portal_agency),
    (10, "failed parses counted", m010_parse_failures),
    (11, "failures from before counting left to reparse --failed", m011_old_failures_settled),
    (12, "the archive's own WARC record ids indexed", m012_own_record_ids),
    (13, "current revision and primary document indexed", m013_current_lookups),
    (14, "the agency and year a user gave with ingested files", m014_user_hints),
    (15, "the views name table, row and column as the exports do", m015_view_names),
    (16, "covering indexes for coverage", m016_coverage_covering),
    (17, "the portal registry", m017_portal_registry),
    (18, "the scheduler's frontier: per-portal due times", m018_frontier),
    (19, "one agency under several names", m019_agency_aliases),
    (20, "indexes for placing documents at national scale", m020_placement_lookups),
    (21, "agencies a person unmerged are kept apart", m021_agency_apart),
]
LATEST = MIGRATIONS[-1][0]
