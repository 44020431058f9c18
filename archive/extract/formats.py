"""Tell what a blob is (HTML page, PDF, DOCX, DOC, WPS, image, text) from its bytes first.

Servers mislabel attachments (``application/octet-stream``, ``text/html`` on a PDF), so magic bytes
win; the declared type and the file name only break ties the bytes cannot (DOC vs WPS).
"""

from __future__ import annotations

import io
import zipfile
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

from archive.extract.charset import wide_encoding

REPORT_KINDS = ("html", "pdf", "docx", "doc", "wps", "image", "text")
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MEDIA_TYPES = {
    "html": "text/html", "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "doc": "application/msword", "wps": "application/vnd.ms-works", "text": "text/plain",
    "xml": "application/xml", "zip": "application/zip", "other": "application/octet-stream",
}


def suffix(path: str) -> str:
    """The lower-cased extension of a path's last part, dot included, as ``PurePosixPath(path).suffix`` gives
    it (a leading dot is no extension, a trailing slash is ignored), by string operations: the crawl's spider
    asks it of every link and page, and building a path object per ask was a tenth of the spider's time."""
    name = path.rstrip("/").rpartition("/")[2]
    dot = name.rfind(".")
    return name[dot:].lower() if 0 < dot < len(name) - 1 else ""


def extension(name: str | None) -> str:
    """Lower-case extension of a file name or of a URL's path, without the dot."""
    if not name:
        return ""
    path = urlsplit(name).path if "://" in name else name
    return suffix(unquote(path)).lstrip(".")


def sniff(head: bytes, *, content_type: str | None = None, filename: str | None = None,
          data: bytes | BinaryIO | None = None) -> str:
    """The kind of a document from its first bytes (``data``, the whole content or a seekable reader
    of it, lets ZIPs be opened: the archive decides the kind once, when it stores the bytes)."""
    ext = extension(filename)
    ctype = (content_type or "").split(";")[0].strip().lower()
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"%PDF") or b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(OLE2):
        return "wps" if ext == "wps" or "wps" in ctype or b"W\x00P\x00S" in head[:4096] else "doc"
    if head.startswith(b"PK\x03\x04"):
        if ext == "docx" or b"word/" in head[:4096]:
            return "docx"
        if data is not None:
            try:
                with zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data) as zf:
                    if "word/document.xml" in zf.namelist():
                        return "docx"
            except zipfile.BadZipFile:
                pass
        return "zip"
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"II*\x00", b"MM\x00*", b"BM")) or \
            (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return "image"
    if wide := wide_encoding(head):  # UTF-16/32: the same tests on its text
        stripped = head.decode(wide, "ignore").lstrip("\ufeff \t\r\n").encode("utf-8")
        head = stripped
    low = stripped[:1024].lower()
    if low.startswith((b"<!doctype html", b"<html", b"<head", b"<meta", b"<body", b"<!--", b"<div", b"<p",
                       b"<table", b"<script", b"<title")) or b"<html" in low:
        return "html"
    if low.startswith(b"<?xml"):
        return "html" if b"<html" in head[:4096].lower() else "xml"
    if ctype in ("text/html", "application/xhtml+xml"):
        return "html"
    if _looks_textual(head):
        return "text"
    return "other"


def _looks_textual(head: bytes) -> bool:
    if not head:
        return False
    if b"\x00" in head[:4096]:
        return False
    sample = head[:4096]
    for enc in ("utf-8", "gb18030"):
        try:
            sample.decode(enc)
            return True
        except UnicodeDecodeError as e:
            # A multi-byte character cut at the end of the sample is still text.
            if e.start >= len(sample) - 4:
                return True
    return False
