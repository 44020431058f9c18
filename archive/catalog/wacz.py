"""A report's captures as a WACZ package (``nianbao export --format wacz``, ``/api/reports/{id}/captures.wacz``):
every capture of every document of the report, all revisions, their WARC records copied as they are
(:mod:`archive.warc.wacz` writes the package). The pages are the HTML captures, then the current primary
document's first capture when it is a file."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from archive.catalog.views import find_report
from archive.errors import NotFound
from archive.store.durability import fsync_path
from archive.warc.wacz import Page, Span, write_wacz

if TYPE_CHECKING:
    from archive.archive import Archive


def _selection(archive: Archive, rid: int) -> tuple[dict, list[Span], list[Page]]:
    c = archive.catalog
    rep = c.one("SELECT id, agency, year, title, current_revision_id FROM reports WHERE id = ?", (rid,))
    primary = c.scalar("""SELECT d.sha256 FROM revisions v JOIN documents d ON d.id = v.primary_document_id
                          WHERE v.id = ?""", (rep["current_revision_id"],))
    # only records inside the part of their file the catalog says was committed
    rows = list(c.rows("""SELECT c.id, c.url, c.final_url, c.fetched_at, c.status, c.warc_file, c.warc_offset,
                                 c.warc_length, c.warc_type, c.sha256, d.kind
                          FROM documents d JOIN captures c ON c.sha256 = d.sha256
                          JOIN warc_files w ON w.name = c.warc_file
                          WHERE d.report_id = ? AND c.warc_offset IS NOT NULL AND c.warc_length > 0
                            AND c.warc_offset + c.warc_length <= w.size
                          ORDER BY c.fetched_at, c.id""", (rid,)))
    spans, seen = [], set()
    for r in rows:
        key = (r["warc_file"], r["warc_offset"])
        if key not in seen:
            seen.add(key)
            spans.append(Span(archive.warc_dir / r["warc_file"], r["warc_offset"], r["warc_length"]))
    title = rep["title"] or f"{rep['agency'] or ''} {rep['year'] or ''}年政府信息公开工作年度报告".strip()
    shown = [r for r in rows if r["warc_type"] in ("response", "resource", "revisit") and (r["status"] or 200) < 300]
    # the HTML captures (a page replays better than a file as the package's main page), then the primary
    # document's first capture when it is a file (PDF, DOCX …)
    pages = [r for r in shown if r["kind"] == "html"]
    first_primary = next((r for r in shown if r["sha256"] == primary), None)
    if first_primary is not None and first_primary["kind"] != "html":
        pages.append(first_primary)
    return rep, spans, [Page(r["final_url"] or r["url"], r["fetched_at"], title) for r in pages]


def wacz(archive: Archive, report: int | str, out: Path | str | BinaryIO) -> dict:
    """Write report ``report``'s captures as a WACZ to ``out``: a path is written beside itself, made durable
    and renamed into place (a crash leaves the old file or none, never half a package); a binary file
    (seekable) is written as it is. NotFound when the report has no capture with a WARC record."""
    rid = find_report(archive, report)
    rep, spans, pages = _selection(archive, rid)
    if not spans:
        raise NotFound(f"report {rid} ({rep['agency']} {rep['year']}) has no capture with a WARC record")
    title = f"{rep['agency'] or '?'} {rep['year'] or '?'} 年度报告的抓取记录（nianbao）"

    def write(fh: BinaryIO) -> dict:
        res = write_wacz(fh, spans, pages, title=title, software=f"nianbao {archive.version}",
                         description=f"report {rid}: every capture of its documents, as archived")
        return {"report_id": rid, "agency": rep["agency"], "year": rep["year"], **res}

    if not isinstance(out, str | os.PathLike):
        return write(out)
    final = Path(out)
    tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            res = write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    fsync_path(final.parent)
    return res
