"""PDFs with a text layer: pdfplumber, whose line clustering keeps mixed-font CJK text in order."""

from __future__ import annotations

import io
import logging
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

import pdfplumber
from pdfminer import pdftypes
from pdfminer.lzw import LZWDecoder

from archive.errors import ExtractionError
from archive.extract.base import Extracted
from archive.extract.grid import Grid, from_rows
from archive.extract.ocr import ocr_pdf_pages
from archive.extract.unpack import MB, inflate

MAX_PAGES = 400
SCANNED_CHARS_PER_PAGE = 20
# Inflating a PDF's streams, bounded (read at call time, so a test may lower them). A page's content stream is
# rarely over 1 MB; the largest streams pdfminer decodes for text are embedded CJK fonts, up to 20-30 MB.
# Images are never decoded for text. Decoded streams stay cached in the document, so all of them count too,
# well below the 2-8 GB a parse may use.
MAX_STREAM = 128 * MB
MAX_STREAMS = 1024 * MB

# pdfminer.pdftypes inflates every FlateDecode stream with one unbounded zlib.decompress(data) (a 100 KB stream
# can hold 100 MB), a damaged one byte by byte into a growing bytes (quadratic) and LZW likewise, with no
# option to limit any of it. While a PDF is read here, that module is given bounded stand-ins for the three;
# the first reader installs them, the last puts the originals back, and each thread counts its own document.
_readers = 0
_readers_lock = threading.Lock()
_originals: dict[str, object] = {}
_spent = threading.local()  # .bytes: what this thread's document has inflated so far


class _BoundedZlib:
    """What pdfminer.pdftypes calls of zlib, with ``decompress`` counted against the limits above."""

    error = zlib.error

    @staticmethod
    def decompress(data: bytes, wbits: int = zlib.MAX_WBITS, bufsize: int = 0) -> bytes:
        return _counted(inflate(data, wbits, whole=True))

    def __getattr__(self, name: str) -> object:  # anything else pdfminer may come to use, as zlib has it
        return getattr(zlib, name)


def _counted(pieces: Iterator[tuple[bytes, int]] | Iterator[bytes]) -> bytes:
    """Join a stream's inflated pieces, refusing it in words once it or the document passes a limit."""
    out: list[bytes] = []
    size, before = 0, getattr(_spent, "bytes", 0)
    for piece in pieces:
        part = piece[0] if isinstance(piece, tuple) else piece
        size += len(part)
        if size > MAX_STREAM:
            raise ExtractionError(f"a compressed stream in the PDF inflates past {MAX_STREAM // MB} MB: "
                                  f"refused as a compression bomb")
        if before + size > MAX_STREAMS:
            raise ExtractionError(f"the PDF's compressed streams inflate past {MAX_STREAMS // MB} MB in all: "
                                  f"refused as a compression bomb")
        out.append(part)
    _spent.bytes = before + size
    return b"".join(out)


def _decompress_corrupted(data: bytes) -> bytes:
    """pdfminer's fallback for a stream zlib refused, as it behaves (an error only in the last 3 bytes, the
    checksum, is forgiven) but bounded and linear: all but those bytes at once, then those one by one."""
    d = zlib.decompressobj()
    head = _counted(inflate(data[:-3], d=d))
    tail = []
    try:
        for i in range(max(0, len(data) - 3), len(data)):
            tail.append(d.decompress(data[i:i + 1]))  # one byte inflates to about a KB at most
    except zlib.error:
        logging.getLogger("pdfminer.pdftypes").warning("Data-loss while decompressing corrupted data")
    return head + _counted(iter(tail))


def _lzwdecode(data: bytes) -> bytes:
    """pdfminer's LZW decoding (one 9-12 bit code may give up to 4 KB), counted."""
    return _counted(LZWDecoder(io.BytesIO(data)).run())


@contextmanager
def bounded_streams() -> Iterator[None]:
    """pdfminer inflating within MAX_STREAM / MAX_STREAMS while this thread reads one PDF (see above)."""
    global _readers
    with _readers_lock:
        if _readers == 0:
            _originals.update(zlib=pdftypes.zlib, decompress_corrupted=pdftypes.decompress_corrupted,
                              lzwdecode=pdftypes.lzwdecode)
            pdftypes.zlib = _BoundedZlib()  # type: ignore[assignment]
            pdftypes.decompress_corrupted = _decompress_corrupted
            pdftypes.lzwdecode = _lzwdecode
        _readers += 1
    outer = getattr(_spent, "bytes", None)
    _spent.bytes = 0
    try:
        yield
    finally:
        _spent.bytes = outer
        with _readers_lock:
            _readers -= 1
            if _readers == 0:
                for name, original in _originals.items():
                    setattr(pdftypes, name, original)


def _inner(e: Exception) -> Exception:
    """The exception pdfplumber wrapped (PdfminerException(e)), else ``e``."""
    return e.args[0] if e.args and isinstance(e.args[0], Exception) else e


def extract_pdf(data: bytes, *, ocr: bool = True) -> Extracted:
    """Text and tables of a PDF, its streams inflated within limits; scanned pages through OCR."""
    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    with bounded_streams():
        try:
            pages, tables, scanned, meta, warnings = _text_layer(data)
        except Exception as e:  # a bomb found anywhere pdfplumber wraps it fails the document, in its words
            inner = _inner(e)
            if inner is not e and isinstance(inner, ExtractionError):
                raise inner from e
            raise
    n = int(meta["pages"])
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


def _text_layer(data: bytes) -> tuple[list[str], list[Grid], list[int], dict[str, str], list[str]]:
    """pdfplumber's pass: each page's text (blank for a scanned page, listed), tables, metadata, warnings."""
    warnings: list[str] = []
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except Exception as e:  # pdfminer raises many private exception types on broken files
        inner = _inner(e)
        if isinstance(inner, ExtractionError):
            raise
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
                if isinstance(_inner(e), ExtractionError):  # but a bomb fails the document, as MemoryError does
                    raise
                warnings.append(f"page {i + 1} could not be read ({type(e).__name__}: {e})")
                pages.append("")
            page.flush_cache()
        meta = {"pages": str(n)}
        info = pdf.metadata or {}
        if isinstance(info.get("Title"), str) and info["Title"].strip():
            meta["pdf_title"] = info["Title"].strip()
    return pages, tables, scanned, meta, warnings
