"""Archive files a user already has on disk, as if fetched: blob, WARC resource record, capture, parse."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from archive.capture import Capture, display_name, http_date
from archive.errors import CaptureError
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


def ingest(archive: Archive, paths: Iterable[str | Path], *, progress: Callable[[int, int, str], None] | None = None,
           parse_progress: Callable[[int, int], None] | None = None, jobs: int | None = None) -> IngestResult:
    """Ingest the documents among ``paths`` (pages, PDF, Word/WPS, scans, text; other files are listed in
    ``not_documents``, not archived); a file already archived unchanged (same path, size and mtime) is skipped."""
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
            if archive.catalog.scalar(
                    "SELECT 1 FROM captures WHERE url = ? AND last_modified = ? AND size = ? AND source = 'ingest'",
                    (url, mtime, st.st_size)):
                result.skipped += 1
                continue
            cap = Capture(url=url, body=Body(path=path), status=200, source="ingest",
                          filename=display_name(path.name),
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
            result.notes.append((r["filename"], f"archived without a report: {why}"))
    return result
