"""Read-side views of the catalog: totals, the list of reports, one report in full, the agencies,
the capture hosts, and what the web pages read beside them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from archive.catalog import aliases
from archive.errors import NotFound
from archive.parser import agency_key
from archive.parser.explain import explain
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


# Why a document ``d`` is in no report: the identity rule's words, kept with it when it was placed.
NOT_PLACED = "not placed yet (nianbao reparse places it)"
UNASSIGNED_REASON = f"coalesce(json_extract(d.identity, '$.report'), '{NOT_PLACED}')"


def unassigned(archive: Archive, *, limit: int | None = None) -> list[dict]:
    """The documents in no report, oldest first: where each was first fetched, and why it is in none."""
    page = "LIMIT ?" if limit is not None else ""
    return list(archive.catalog.rows(f"""
        SELECT d.id, d.sha256, d.kind, d.year, d.agency, d.title, {UNASSIGNED_REASON} AS reason,
               (SELECT coalesce(k.final_url, k.url) FROM captures k WHERE k.sha256 = d.sha256
                ORDER BY k.fetched_at, k.id LIMIT 1) AS url
        FROM documents d WHERE d.report_id IS NULL ORDER BY d.first_seen, d.id {page}""",
        (limit,) if limit is not None else ()))


def unassigned_reasons(archive: Archive) -> dict[str, int]:
    """How many documents are in no report, by reason, the most common first."""
    return {r["reason"]: r["n"] for r in archive.catalog.rows(f"""
        SELECT {UNASSIGNED_REASON} AS reason, count(*) AS n FROM documents d WHERE d.report_id IS NULL
        GROUP BY reason ORDER BY n DESC, reason""")}


def _report_filter(year: int | None, agency: str | None) -> tuple[str, dict]:
    where, params = [], {}
    if year is not None:
        where.append("r.year = :year")
        params["year"] = year
    if agency:
        where.append("(r.agency LIKE :agency OR r.agency_key LIKE :agency)")
        params["agency"] = f"%{agency}%"
    return ("WHERE " + " AND ".join(where) if where else ""), params


def reports(archive: Archive, *, year: int | None = None, agency: str | None = None, limit: int | None = None,
            offset: int = 0) -> list[dict]:
    """One row per report, newest year first; ``limit``/``offset`` page in SQL (see :func:`count_reports`)."""
    cond, params = _report_filter(year, agency)
    page = ""
    if limit is not None:
        page = "LIMIT :limit OFFSET :offset"
        params.update(limit=limit, offset=offset)
    sql = f"""
        SELECT r.id, r.agency, r.year, r.template, r.title, r.first_seen,
               (SELECT count(*) FROM revisions v WHERE v.report_id = r.id) AS revisions,
               (SELECT count(*) FROM documents d WHERE d.report_id = r.id) AS documents,
               (SELECT group_concat(DISTINCT d.kind) FROM documents d WHERE d.report_id = r.id) AS kinds,
               p.cells_count AS cells, p.failed_checks, p.sha256 AS primary_sha256
        FROM reports r
        LEFT JOIN revisions cur ON cur.id = r.current_revision_id
        LEFT JOIN documents p ON p.id = cur.primary_document_id
        {cond}
        ORDER BY r.year DESC, r.agency, r.id {page}"""
    return list(archive.catalog.rows(sql, params))


def count_reports(archive: Archive, *, year: int | None = None, agency: str | None = None) -> int:
    """How many reports :func:`reports` lists with the same filters (the total beside a page)."""
    cond, params = _report_filter(year, agency)
    return archive.catalog.scalar(f"SELECT count(*) FROM reports r {cond}", params)


def iter_reports(archive: Archive, *, year: int | None = None, order: Sequence[str] | None = None) -> Iterator[dict]:
    """Every report (of ``year``) in full, as :func:`show` gives it, in ``order`` (columns of ``reports``,
    default year, agency, id): what the JSONL exports stream."""
    order = order or ("year", "agency", "id")
    bad = set(order) - {"id", "year", "agency", "agency_key", "first_seen"}
    if bad:
        raise ValueError(f"cannot order reports by {sorted(bad)}")
    ids = [r["id"] for r in archive.catalog.db["reports"].rows_where(
        "year = ?" if year is not None else None, (year,) if year is not None else None, select="id",
        order_by=", ".join(order))]
    for rid in ids:
        yield show(archive, rid)


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
                   (aliases.agency_id(c, m.group(1)), int(m.group(2))))
    if rid is None:
        raise NotFound(f"no report of {m.group(1)} for {m.group(2)}")
    return rid


def _primary_cells(archive: Archive, report_id: int, row: str) -> dict[str, object]:
    return {r["column"]: r["value"] for r in archive.catalog.rows(
        """SELECT "column", value FROM report_cells WHERE report_id = ? AND "table" = 'applications' AND "row" = ?""",
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


def publication(archive: Archive, rep: dict, primary: dict) -> dict:
    """When the report was published and whether that met the law's deadline: the date its primary
    document (else another of its documents) printed, as read at examine time and plausible for its year
    (coverage's test), else the day it was first captured, said as such (``source``); ``status`` on_time,
    late, or unknown when neither is known."""
    from archive.catalog.coverage import PLAUSIBLE, _day, deadline

    due = deadline(rep["agency"], rep["year"]) if rep.get("year") else None
    printed = archive.catalog.one(
        f"SELECT d.published, d.published_source FROM documents d JOIN reports r ON r.id = d.report_id "
        f"WHERE d.report_id = :id AND d.published IS NOT NULL AND {PLAUSIBLE} "
        f"ORDER BY d.id = :primary DESC, d.published LIMIT 1",
        {"id": rep["id"], "primary": primary.get("id"), "today": datetime.now(UTC).date().isoformat()}) or {}
    day, source = printed.get("published"), printed.get("published_source")
    if not day:
        # a file ingested from disk was captured when the user ingested it, which says nothing of publication
        first = archive.catalog.scalar("SELECT min(k.fetched_at) FROM captures k JOIN documents d ON d.sha256 = "
                                       "k.sha256 WHERE d.report_id = ? AND k.source != 'ingest'", (rep["id"],))
        if first:
            day, source = _day(first).isoformat(), "首次抓取之日（页面未印发布日期）：最迟此日已公开"
    status = "unknown" if not (day and due) else ("on_time" if str(day)[:10] <= due.isoformat() else "late")
    return {"published": str(day)[:10] if day else None, "source": source,
            "deadline": due.isoformat() if due else None, "status": status}


def neighbours(archive: Archive, rep: dict) -> dict:
    """The same agency's reports on the year before and after (ids), for going from year to year."""
    out = {}
    for key, year in (("previous", (rep["year"] or 0) - 1), ("next", (rep["year"] or 0) + 1)):
        out[key] = archive.catalog.scalar("SELECT id FROM reports WHERE agency_key = ? AND year = ?",
                                          (rep["agency_key"], year))
    return out


def show(archive: Archive, report: int | str) -> dict:
    """The parsed structure (shared/spec/report-structure.md) of the report's current revision,
    plus ``report_id``, ``documents`` (each with its captures), ``revisions``, ``cross_year_checks``
    (against the agency's previous report), each check's ``explanation`` in Chinese, ``publication``
    (date, source, deadline, on time or late) and ``neighbours`` (the agency's previous and next years)."""
    c = archive.catalog
    rid = find_report(archive, report)
    rep = c.one("SELECT * FROM reports WHERE id = ?", (rid,))
    cur = c.one("SELECT * FROM revisions WHERE id = ?", (rep["current_revision_id"],)) or {}
    primary = c.one("SELECT * FROM documents WHERE id = ?", (cur.get("primary_document_id"),)) or {}
    out = json.loads(primary.get("parsed") or "{}") or {"schema": "nianbao.report/1", "sections": [], "cells": [],
                                                         "checks": [], "warnings": []}
    out["agency"] = rep["agency"] or out.get("agency")  # the report's name (a page may carry only its site's)
    out["year"] = out.get("year") or rep["year"]
    out["template"] = out.get("template") or rep["template"] or "unknown"
    out["title"] = out.get("title") or rep["title"]
    out["report_id"] = rid
    out["agency_id"] = rep["agency_key"]  # the agency's stable id: the same under each name it was merged under
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
    # The report's own checks, as the list, the facet, the checks table and the CSV count them; the
    # cross-year ones need another report and are not stored with it, so they are listed apart, named so.
    out["checks"] = [{**c, "explanation": explain(c)} for c in out.get("checks", [])]
    out["cross_year_checks"] = [{**c, "explanation": explain(c)} for c in cross_year(archive, rep)]
    out["publication"] = publication(archive, rep, primary)
    out["neighbours"] = neighbours(archive, rep)
    out["documents"] = docs
    out["revisions"] = [
        {**v, "documents": [d["sha256"] for d in docs if d["revision"] == v["number"]]}
        for v in c.rows("""SELECT v.number, v.first_seen, v.text_sha256, p.sha256 AS primary_sha256
                           FROM revisions v LEFT JOIN documents p ON p.id = v.primary_document_id
                           WHERE v.report_id = ? ORDER BY v.number""", (rid,))]
    return out


def revision_cells(archive: Archive, report: int | str) -> dict[int, dict[tuple[str, str, str], object]]:
    """Each revision's table cells (of its primary document), by revision number: what changed between
    revisions is read from these, not from the originals."""
    out: dict[int, dict[tuple[str, str, str], object]] = {}
    for r in archive.catalog.rows("""SELECT v.number, c.table_id, c.row_id, c.column_id, c.value, c.raw
                                     FROM revisions v JOIN cells c ON c.document_id = v.primary_document_id
                                     WHERE v.report_id = ?""", (find_report(archive, report),)):
        out.setdefault(r["number"], {})[(r["table_id"], r["row_id"], r["column_id"])] = (
            r["value"] if r["value"] is not None else r["raw"])
    return out


def report(archive: Archive, report: int | str) -> dict:
    """The catalog's row for one report (id or ``AGENCY/YEAR``): its ``agency_key``, current revision, …"""
    return archive.catalog.one("SELECT * FROM reports WHERE id = ?", (find_report(archive, report),))


def agencies(archive: Archive) -> list[dict]:
    """Each agency (by its id, merged names as one) with its name, the years the archive holds a report on, the
    names its reports were written under, and its aliases (``nianbao agencies merge``)."""
    merged = aliases.groups(archive.catalog)
    out = []
    for r in archive.catalog.rows("""SELECT agency_key, max(agency) AS agency, json_group_array(year) AS years,
                                            json_group_array(agency) AS names
                                     FROM (SELECT agency_key, agency, year FROM reports ORDER BY year)
                                     GROUP BY agency_key ORDER BY agency_key"""):
        g = merged.get(r["agency_key"]) or {}
        names = list(dict.fromkeys(n for n in json.loads(r["names"]) if n))
        out.append({"agency": g.get("name") or r["agency"], "agency_key": r["agency_key"],
                    "years": json.loads(r["years"]), "names": names,
                    "aliases": [a["alias_name"] for a in g.get("aliases", [])]})
    return out


def agency(archive: Archive, name: str) -> dict:
    """One agency (by any of its names, or its key): its reports by year, all their cells, and every document of
    them (kind, size, where first captured, which is the current primary), in three queries; ``names`` the names
    its reports were written under and ``aliases`` the names merged into it."""
    merged = aliases.edges(archive.catalog)  # one query: the key followed through them, the names of its group
    key = aliases.root(merged, agency_key(name) or name)
    rows = list(archive.catalog.rows("SELECT id, agency, year, template FROM reports WHERE agency_key = ? "
                                     "ORDER BY year", (key,)))
    if not rows:
        raise NotFound(f"no reports of {name}")
    cells = list(archive.catalog.rows(
        """SELECT report_id, year, "table", "row", "column", value FROM report_cells
           WHERE report_id IN (SELECT id FROM reports WHERE agency_key = ?)""", (key,)))
    docs = list(archive.catalog.rows(
        """SELECT r.year, r.id AS report_id, d.sha256, d.kind, d.title, d.first_seen, b.size,
                  d.id = v.primary_document_id AS "primary", d.published,
                  (SELECT coalesce(k.final_url, k.url) FROM captures k WHERE k.sha256 = d.sha256
                   ORDER BY k.fetched_at LIMIT 1) AS url
           FROM reports r JOIN documents d ON d.report_id = r.id JOIN blobs b ON b.sha256 = d.sha256
           LEFT JOIN revisions v ON v.id = r.current_revision_id
           WHERE r.agency_key = ? ORDER BY r.year, d.first_seen, d.id""", (key,)))
    g = aliases.groups(archive.catalog, merged).get(key) or {}
    return {"agency": g.get("name") or rows[-1]["agency"], "agency_key": key, "reports": rows, "cells": cells,
            "documents": docs, "names": list(dict.fromkeys(r["agency"] for r in rows if r["agency"])),
            "aliases": [a["alias_name"] for a in g.get("aliases", [])]}


def texts(archive: Archive, sha256s: Iterable[str]) -> dict[str, str]:
    """The extracted text of the documents with these digests (``""`` when none was extracted)."""
    wanted = sorted(set(sha256s))
    if not wanted:
        return {}
    marks = ", ".join("?" * len(wanted))
    return {r["sha256"]: r["text"] or "" for r in archive.catalog.rows(
        f"SELECT sha256, text FROM documents WHERE sha256 IN ({marks})", wanted)}


def pending_index(archive: Archive) -> int:
    """Documents waiting to be (re)indexed for search (what a read-only archive cannot catch up on)."""
    return archive.catalog.scalar("SELECT count(*) FROM search_dirty")


def hosts(archive: Archive) -> list[str]:
    """Every host the archive holds captures from."""
    return [r["host"] for r in archive.catalog.rows(
        "SELECT DISTINCT host FROM captures WHERE host IS NOT NULL ORDER BY host")]
