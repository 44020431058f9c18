"""Read-side views of the catalog: totals, the list of reports, one report in full."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from archive.errors import NotFound
from archive.parser import agency_key
from archive.parser.layout import APPLICATION_COLUMNS

if TYPE_CHECKING:
    from archive.archive import Archive


def stats(archive: Archive) -> dict:
    """Counts and sizes of everything in the archive."""
    c = archive.catalog
    one = c.one("""SELECT
        (SELECT count(*) FROM blobs) AS blobs,
        (SELECT coalesce(sum(size), 0) FROM blobs) AS bytes,
        (SELECT coalesce(sum(stored_size), 0) FROM blobs) AS stored_bytes,
        (SELECT count(*) FROM captures) AS captures,
        (SELECT count(*) FROM documents) AS documents,
        (SELECT count(*) FROM documents WHERE report_id IS NULL) AS unassigned_documents,
        (SELECT count(*) FROM reports) AS reports,
        (SELECT count(*) FROM revisions) AS revisions,
        (SELECT count(*) FROM cells) AS cells,
        (SELECT count(*) FROM checks WHERE ok = 0) AS failed_checks,
        (SELECT count(*) FROM warc_files) AS warc_files,
        (SELECT coalesce(sum(size), 0) FROM warc_files) AS warc_bytes,
        (SELECT count(*) FROM runs) AS runs,
        (SELECT count(*) FROM blobs WHERE examined_by IS NULL) AS pending_parse""")
    one["archive"] = str(archive.path)
    one["schema_version"] = c.version()
    one["kinds"] = {r["kind"]: r["n"] for r in c.rows(
        "SELECT coalesce(kind, '?') AS kind, count(*) AS n FROM documents GROUP BY kind ORDER BY n DESC")}
    return one


def reports(archive: Archive, *, year: int | None = None, agency: str | None = None) -> list[dict]:
    """One row per report, newest year first."""
    where, params = [], {}
    if year is not None:
        where.append("r.year = :year")
        params["year"] = year
    if agency:
        where.append("(r.agency LIKE :agency OR r.agency_key LIKE :agency)")
        params["agency"] = f"%{agency}%"
    sql = f"""
        SELECT r.id, r.agency, r.year, r.template, r.title, r.first_seen,
               (SELECT count(*) FROM revisions v WHERE v.report_id = r.id) AS revisions,
               (SELECT count(*) FROM documents d WHERE d.report_id = r.id) AS documents,
               (SELECT group_concat(DISTINCT d.kind) FROM documents d WHERE d.report_id = r.id) AS kinds,
               p.cells_count AS cells, p.failed_checks, p.sha256 AS primary_sha256
        FROM reports r
        LEFT JOIN revisions cur ON cur.id = r.current_revision_id
        LEFT JOIN documents p ON p.id = cur.primary_document_id
        {"WHERE " + " AND ".join(where) if where else ""}
        ORDER BY r.year DESC, r.agency, r.id"""
    return list(archive.catalog.rows(sql, params))


def find_report(archive: Archive, report: int | str) -> int:
    """A report id from an id, or from ``AGENCY/YEAR`` (e.g. ``安康市信访局/2021``)."""
    c = archive.catalog
    text = str(report).strip()
    if text.isdigit():
        if c.scalar("SELECT 1 FROM reports WHERE id = ?", (int(text),)):
            return int(text)
        raise NotFound(f"no report with id {text}")
    m = re.fullmatch(r"(.+?)\s*[/:]\s*((?:19|20)\d{2})", text)
    if not m:
        raise NotFound(f"{text!r} is neither a report id nor AGENCY/YEAR")
    rid = c.scalar("SELECT id FROM reports WHERE agency_key = ? AND year = ?",
                   (agency_key(m.group(1)), int(m.group(2))))
    if rid is None:
        raise NotFound(f"no report of {m.group(1)} for {m.group(2)}")
    return rid


def _primary_cells(archive: Archive, report_id: int, row: str) -> dict[str, object]:
    return {r["column_id"]: r["value"] for r in archive.catalog.rows(
        "SELECT column_id, value FROM report_cells WHERE report_id = ? AND table_id = 'applications' AND row_id = ?",
        (report_id, row))}


def cross_year(archive: Archive, rep: dict) -> list[dict]:
    """``cross_year.carried_over.<column>``: row 2 this year equals row 4 of the agency's previous
    report. Evaluated here because it needs two reports; not listed when either cell is missing."""
    prev = archive.catalog.scalar("SELECT id FROM reports WHERE agency_key = ? AND year = ?",
                                  (rep["agency_key"], (rep["year"] or 0) - 1))
    if prev is None:
        return []
    now, before = _primary_cells(archive, rep["id"], "2"), _primary_cells(archive, prev, "4")
    out = []
    for col in APPLICATION_COLUMNS:
        a, b = now.get(col), before.get(col)
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            out.append({"rule": f"cross_year.carried_over.{col}", "ok": a == b,
                        "detail": f"{rep['year']} row 2 = {a}; {rep['year'] - 1} row 4 = {b} (report {prev})"})
    return out


def show(archive: Archive, report: int | str) -> dict:
    """The parsed structure (shared/spec/report-structure.md) of the report's current revision,
    plus ``report_id``, ``documents`` (each with its captures) and ``revisions``."""
    c = archive.catalog
    rid = find_report(archive, report)
    rep = c.one("SELECT * FROM reports WHERE id = ?", (rid,))
    cur = c.one("SELECT * FROM revisions WHERE id = ?", (rep["current_revision_id"],)) or {}
    primary = c.one("SELECT * FROM documents WHERE id = ?", (cur.get("primary_document_id"),)) or {}
    out = json.loads(primary.get("parsed") or "{}") or {"schema": "nianbao.report/1", "sections": [], "cells": [],
                                                         "checks": [], "warnings": []}
    out["agency"] = out.get("agency") or rep["agency"]
    out["year"] = out.get("year") or rep["year"]
    out["template"] = out.get("template") or rep["template"] or "unknown"
    out["title"] = out.get("title") or rep["title"]
    out["report_id"] = rid
    out["revision"] = cur.get("number")
    out["source_sha256"] = primary.get("sha256")
    out["parser_version"] = primary.get("parser_version")
    docs = []
    for d in c.rows("""SELECT d.id, d.sha256, d.kind, d.agency, d.year, d.title, d.parser_version, d.first_seen,
                              d.identity, v.number AS revision, b.size
                       FROM documents d LEFT JOIN revisions v ON v.id = d.revision_id
                       JOIN blobs b ON b.sha256 = d.sha256
                       WHERE d.report_id = ? ORDER BY d.first_seen, d.id""", (rid,)):
        d["identity"] = json.loads(d["identity"] or "{}")
        d["captures"] = list(c.rows("""SELECT url, final_url, fetched_at, status, source, referrer, link_text,
                                              warc_file, warc_offset, warc_type
                                       FROM captures WHERE sha256 = ? ORDER BY fetched_at, id""", (d["sha256"],)))
        docs.append(d)
    out["checks"] = [*out.get("checks", []), *cross_year(archive, rep)]
    out["documents"] = docs
    out["revisions"] = [
        {**v, "documents": [d["sha256"] for d in docs if d["revision"] == v["number"]]}
        for v in c.rows("""SELECT v.number, v.first_seen, v.text_sha256, p.sha256 AS primary_sha256
                           FROM revisions v LEFT JOIN documents p ON p.id = v.primary_document_id
                           WHERE v.report_id = ? ORDER BY v.number""", (rid,))]
    return out
