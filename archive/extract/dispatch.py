"""Pick the extractor for a document kind."""

from __future__ import annotations

from archive.errors import ExtractionError
from archive.extract.base import Extracted
from archive.extract.charset import decode_text
from archive.extract.docx import extract_docx
from archive.extract.html import extract_html
from archive.extract.office import to_docx
from archive.extract.pdf import extract_pdf


def extract(data: bytes, kind: str, content_type: str | None = None) -> Extracted:
    """Text of a document of the given kind (see :mod:`archive.extract.formats`)."""
    if kind == "html":
        return extract_html(data, content_type)
    if kind == "pdf":
        return extract_pdf(data)
    if kind == "docx":
        return extract_docx(data)
    if kind in ("doc", "wps"):
        (converted,) = to_docx([(data, kind)])
        if isinstance(converted, ExtractionError):
            raise converted
        ext = extract_docx(converted)
        ext.method = "libreoffice+python-docx"
        return ext
    if kind in ("text", "xml"):
        text, enc = decode_text(data)
        return Extracted(text=text, meta={"encoding": enc}, method="text")
    return Extracted(text="", warnings=[f"no text extractor for {kind} documents in this parser version"],
                     method="none")
