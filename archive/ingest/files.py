"""Archive files a user already has on disk, as if fetched: blob, WARC resource record, capture, parse."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from archive.capture import Capture, display_name, http_date
from archive.errors import CaptureError, HintError
from archive.extract.formats import sniff, suffix
from archive.store.body import Body

if TYPE_CHECKING:
    from archive.archive import Archive


@dataclass
class IngestResult:
    files: int = 0
    new_blobs: int = 0
    skipped: int = 0
    new_documents: int = 0
    new_reports: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)  # files not archived
    not_documents: list[tuple[str, str]] = field(default_factory=list)  # left out on purpose: (file, what it is)
    notes: list[tuple[str, str]] = field(default_factory=list)  # archived, but not (fully) understood
    run_id: int | None = None


def expand(paths: Iterable[str | Path]) -> list[Path]:
    """Files named, and files under directories named (hidden ones skipped), in a stable order."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.is_file() and not any(
                part.startswith(".") for part in f.relative_to(p).parts))
        else:
            out.append(p)
    return out


# A report arrives as a page, a PDF, a Word or WPS file, a scan, or plain text: what each needs its name to say
# besides its bytes (a .py or .json file is text too, and a .js page fragment may look like HTML).
TEXT_SUFFIXES = frozenset({"", ".txt", ".text"})
PAGE_SUFFIXES = frozenset({"", ".htm", ".html", ".shtml", ".xhtml", ".mht", ".jsp", ".asp", ".aspx", ".php",
                           ".txt"})
# a name that says document is taken at its word even when the bytes do not (a cut-short or damaged download
# is the user's to keep; its parse fails in words)
DOCUMENT_SUFFIXES = frozenset({".pdf", ".doc", ".docx", ".wps", ".rtf", ".odt", ".ofd", ".htm", ".html", ".shtml",
                               ".jpg", ".jpeg", ".png", ".tif", ".tiff", ".gif", ".bmp", ".webp"})
SNIFF_BYTES = 8192


def not_a_document(path: Path) -> str | None:
    """Why ``path`` is not a document a report could be (in words), or None when it may be one: decided by
    its bytes (:func:`archive.extract.formats.sniff`), with its name breaking the ties text leaves."""
    ext = suffix(path.name)
    if ext in DOCUMENT_SUFFIXES:
        return None
    with path.open("rb") as f:
        head = f.read(SNIFF_BYTES)
    if not head:
        return "an empty file"
    kind = sniff(head, filename=path.name)
    if kind in ("pdf", "docx", "doc", "wps", "image"):
        return None
    if kind == "html":
        return None if ext in PAGE_SUFFIXES else f"a {ext} file, not a page or document"
    if kind == "text":
        return None if ext in TEXT_SUFFIXES else f"a {ext} text file (source code, data or notes), not a report"
    if kind == "zip":
        return "a ZIP archive (unpack it and ingest the files inside)"
    return f"not a document format ({kind}{', ' + ext if ext else ''})"


YEARS = (1990, 2100)  # the years a user may say files report on (the disclosure regulation dates from 2007)


def user_hints(agency: str | None, year: int | None) -> tuple[str | None, int | None]:
    """The agency and year a user gives with files to ingest, checked: a name that is not empty once its spaces
    are stripped, a year 1990-2100. Raises HintError in words."""
    if agency is not None:
        agency = agency.strip()
        if not agency:
            raise HintError("the agency given is empty: give its name, e.g. --agency 安康市信访局")
        if len(agency) > 100:
            raise HintError(f"the agency given is {len(agency)} characters long: give the agency's name only")
        try:
            agency.encode("utf-8")
        except UnicodeEncodeError as e:
            raise HintError(f"the agency given is not text ({e.reason})") from e
    if year is not None and (isinstance(year, bool) or not isinstance(year, int) or not YEARS[0] <= year <= YEARS[1]):
        raise HintError(f"{year} is not a year a report can be for: give one from {YEARS[0]} to {YEARS[1]}, "
                        f"e.g. --year 2023")
    return agency, year


def ingest(archive: Archive, paths: Iterable[str | Path], *, agency: str | None = None, year: int | None = None,
           progress: Callable[[int, int, str], None] | None = None,
           parse_progress: Callable[[int, int], None] | None = None, jobs: int | None = None) -> IngestResult:
    """Ingest the documents among ``paths`` (pages, PDF, Word/WPS, scans, text; other files are listed in
    ``not_documents``, not archived); a file already archived unchanged (same path, size and mtime) is skipped,
    unless it comes with a hint it did not have.

    ``agency`` and ``year`` are what the user says the files are for, kept with each capture: the parser takes
    them for a document whose own text names no agency or year (a scan; a report titled only
    ``2024年政府信息公开工作年度报告``); a text that names others keeps its own, with a warning. HintError, and
    nothing archived, when either is not one a report could have."""
    agency, year = user_hints(agency, year)
    files = expand(paths)
    result = IngestResult()
    with archive.writer(kind="ingest", jobs=jobs) as w:
        result.run_id = w.run_id
        for i, path in enumerate(files, 1):
            shown = display_name(str(path))  # a GBK name on Linux, in words a terminal and the catalog take
            if progress:
                progress(i, len(files), display_name(path.name))
            try:
                st = path.stat()
                if not path.is_file():
                    raise OSError("not a regular file")
                if (why := not_a_document(path)) is not None:
                    result.not_documents.append((shown, why))
                    continue
            except OSError as e:
                result.errors.append((shown, f"cannot read: {e.strerror or e}"))
                continue
            url = path.resolve().as_uri()
            mtime = http_date(datetime.fromtimestamp(st.st_mtime, UTC))
            if _held(archive, url, mtime, st.st_size, agency, year):
                result.skipped += 1
                continue
            cap = Capture(url=url, body=Body(path=path), status=200, source="ingest",
                          filename=display_name(path.name), user_agency=agency, user_year=year,
                          headers=[("Content-Length", str(st.st_size)), ("Last-Modified", mtime)])
            try:
                w.add(cap)
            except OSError as e:
                result.errors.append((shown, f"cannot read: {e.strerror or e}"))
                continue
            except CaptureError as e:  # this file only: the rest of the batch is archived
                result.errors.append((shown, str(e)))
                continue
            result.files += 1
        w.commit()
        if agency or year:  # a file archived before is read again with the hint it comes with now
            with archive.catalog.transaction() as db:
                db.execute("""UPDATE blobs SET examined_by = NULL WHERE examined_by IS NOT NULL AND sha256 IN (
                                  SELECT sha256 FROM captures WHERE run_id = ?)""", [w.run_id])
        result.new_blobs = w.stats.new_blobs
        w.close(progress=parse_progress)
        result.new_documents = w.stats.new_documents
        result.new_reports = w.stats.new_reports
    for r in archive.catalog.rows(
            """SELECT c.filename, b.role, b.examine_note, d.id AS doc, d.report_id FROM captures c
               JOIN blobs b ON b.sha256 = c.sha256 LEFT JOIN documents d ON d.sha256 = c.sha256
               WHERE c.run_id = ? ORDER BY c.id""", (result.run_id,)):
        if r["role"] == "failed":
            result.notes.append((r["filename"], f"archived, but unreadable: {r['examine_note']}"))
        elif r["doc"] is not None and r["report_id"] is None:
            why = r["examine_note"] or "no agency and year could be read"
            tip = "" if agency and year else " (--agency and --year say whose report it is and for which year)"
            result.notes.append((r["filename"], f"archived without a report: {why}{tip}"))
    return result


def _held(archive: Archive, url: str, mtime: str, size: int, agency: str | None, year: int | None) -> bool:
    """The file is archived already, unchanged, with the hints given now (each the latest it was given)."""
    row = archive.catalog.one(
        """SELECT count(*) AS n,
                  (SELECT user_agency FROM captures WHERE url = :u AND last_modified = :m AND size = :s
                   AND source = 'ingest' AND user_agency IS NOT NULL ORDER BY id DESC LIMIT 1) AS agency,
                  (SELECT user_year FROM captures WHERE url = :u AND last_modified = :m AND size = :s
                   AND source = 'ingest' AND user_year IS NOT NULL ORDER BY id DESC LIMIT 1) AS year
           FROM captures WHERE url = :u AND last_modified = :m AND size = :s AND source = 'ingest'""",
        {"u": url, "m": mtime, "s": size})
    return bool(row and row["n"]) and agency in (None, row["agency"]) and year in (None, row["year"])
