"""PDFs with a text layer: pdfplumber, whose line clustering keeps mixed-font CJK text in order."""

from __future__ import annotations

import io
import logging

import pdfplumber

from archive.errors import ExtractionError
from archive.extract.base import Extracted
from archive.extract.grid import Grid, from_rows
from archive.extract.ocr import ocr_pdf_pages

MAX_PAGES = 400
SCANNED_CHARS_PER_PAGE = 20


def extract_pdf(data: bytes, *, ocr: bool = True) -> Extracted:
    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    warnings: list[str] = []
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except Exception as e:  # pdfminer raises many private exception types on broken files
        inner = e.args[0] if e.args and isinstance(e.args[0], Exception) else e
        if "Password" in type(inner).__name__:
            raise ExtractionError("the PDF is protected by a password, so its text cannot be read") from e
        raise ExtractionError(f"not a readable PDF ({type(inner).__name__}: {inner})") from e
    pages: list[str] = []
    tables: list[Grid] = []
    scanned: list[int] = []
    with pdf:
        n = len(pdf.pages)
        if n > MAX_PAGES:
            warnings.append(f"the PDF has {n} pages; only the first {MAX_PAGES} were read")
        for i, page in enumerate(pdf.pages[:MAX_PAGES]):
            try:
                if len(page.chars) < SCANNED_CHARS_PER_PAGE and page.images:
                    scanned.append(i)
                    pages.append("")
                    continue
                pages.append(page.extract_text() or "")
                tables.extend(from_rows(t) for t in page.extract_tables() if t)
            except MemoryError:  # over the parse's memory ceiling: the document was not read, say so (not a page)
                raise
            except Exception as e:  # one damaged page must not lose the others
                warnings.append(f"page {i + 1} could not be read ({type(e).__name__}: {e})")
                pages.append("")
            page.flush_cache()
        meta = {"pages": str(n)}
        info = pdf.metadata or {}
        if isinstance(info.get("Title"), str) and info["Title"].strip():
            meta["pdf_title"] = info["Title"].strip()
    method = "pdfplumber"
    if scanned and ocr:
        try:
            texts, grids, more = ocr_pdf_pages(data, scanned)
        except Exception as e:  # OCR failing must not lose the text layer of the other pages
            warnings.append(f"OCR of {len(scanned)} scanned page(s) failed ({type(e).__name__}: {e})")
        else:
            for i, t in zip(scanned, texts, strict=False):
                pages[i] = t
            tables.extend(grids)
            warnings.extend(more)
            meta["ocr_pages"] = ",".join(str(i + 1) for i in scanned)
            method = "pdfplumber+rapidocr" if len(scanned) < n else "rapidocr+opencv"
    elif scanned:
        warnings.append(f"{len(scanned)} page(s) have no text layer (scanned) and OCR was not run")
    return Extracted(text="\n".join(pages), meta=meta, warnings=warnings, tables=tables, method=method)
