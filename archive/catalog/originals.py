"""An original by its SHA-256: its bytes and what the catalog knows to serve it (its kind, the content
type it was fetched with, its captures, the report it belongs to and the name to download it under), and
which of a page's link targets the archive holds captures of (to point them at the archived copies)."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from archive.errors import NotFound

if TYPE_CHECKING:
    from archive.archive import Archive

# a download's extension by the document's kind (``text`` is plain text; an image's type is in its content type)
EXTENSIONS = {"html": "html", "pdf": "pdf", "docx": "docx", "doc": "doc", "wps": "wps", "text": "txt", "zip": "zip"}
IMAGE_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/tiff": "tif",
                    "image/bmp": "bmp", "image/webp": "webp"}
UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')  # not allowed (or risky) in a file name on Windows or POSIX
MAX_CAPTURES = 200  # the banner lists an original's captures; a page fetched daily for years says so in a count


@dataclass(frozen=True)
class Original:
    sha256: str
    kind: str | None  # html, pdf, docx, …: what the content is, told by the bytes
    content_type: str | None  # as a server sent it (any capture's), for the charset
    data: bytes
    # the captures that fetched these bytes (id, url, final_url, fetched_at, status), oldest first
    captures: tuple[dict, ...] = field(default=(), repr=False)
    report_id: int | None = None
    agency: str | None = None  # the report's agency and year, else the document's own
    year: int | None = None
    title: str | None = None

    @property
    def charset(self) -> str | None:
        ct = self.content_type or ""
        return ct.split("charset=")[-1].strip() if "charset=" in ct else None

    @property
    def extension(self) -> str:
        if self.kind == "image":
            return IMAGE_EXTENSIONS.get((self.content_type or "").split(";")[0].strip().lower(), "bin")
        return EXTENSIONS.get(self.kind or "", "bin")

    @property
    def download_name(self) -> str:
        """``<机关>_<年度>_<sha8>.<ext>``: the report's agency and year (the document's own when it is in no
        report, ``unknown`` when neither is known), characters unsafe in a file name taken out."""
        return f"{safe_name(self.agency) or 'unknown'}_{self.year or 'unknown'}_{self.sha256[:8]}.{self.extension}"

    def capture(self, capture_id: int | None = None) -> dict | None:
        """The capture ``capture_id`` of these bytes, else the first; None for bytes no capture fetched."""
        chosen = next((c for c in self.captures if c["id"] == capture_id), None) if capture_id else None
        return chosen or (self.captures[0] if self.captures else None)


def safe_name(text: str | None, limit: int = 80) -> str:
    """``text`` fit for a file name: NFC, no path separators, reserved or control characters, no leading dots."""
    if not text:
        return ""
    text = UNSAFE.sub("_", unicodedata.normalize("NFC", text))
    # format characters (bidi overrides, zero-width) could make a name read as another extension
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    text = re.sub(r"\s+", " ", text).strip(" ._")
    return text[:limit].rstrip(" ._")


def original(archive: Archive, sha256: str) -> Original:
    """The original with this digest, its bytes checked against it; :class:`NotFound` when the archive holds
    none, :class:`~archive.errors.BlobMissing` or :class:`~archive.errors.BlobCorrupt` when the store lost it."""
    c = archive.catalog
    row = c.one("SELECT kind FROM blobs WHERE sha256 = ?", (sha256,))
    if row is None:
        raise NotFound(f"no original with SHA-256 {sha256}")
    content_type = c.scalar("SELECT content_type FROM captures WHERE sha256 = ? AND content_type IS NOT NULL",
                            (sha256,))
    captures = tuple(c.rows("""SELECT id, url, final_url, fetched_at, status, source FROM captures
                               WHERE sha256 = ? ORDER BY fetched_at, id LIMIT ?""", (sha256, MAX_CAPTURES)))
    doc = c.one("""SELECT d.agency, d.year, d.title, r.id AS report_id, r.agency AS report_agency,
                          r.year AS report_year, r.title AS report_title
                   FROM documents d LEFT JOIN reports r ON r.id = d.report_id WHERE d.sha256 = ?""", (sha256,)) or {}
    return Original(sha256, row["kind"], content_type, archive.store.read_verified(sha256), captures,
                    report_id=doc.get("report_id"), agency=doc.get("report_agency") or doc.get("agency"),
                    year=doc.get("report_year") or doc.get("year"),
                    title=doc.get("report_title") or doc.get("title"))


@dataclass(frozen=True)
class Held:
    """The capture of a URL a link points at: its bytes' SHA-256 and the capture's id."""

    sha256: str
    capture_id: int
    fetched_at: str


def _when(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def held(archive: Archive, urls: Iterable[str], *, near: str | None = None) -> dict[str, Held]:
    """Which of ``urls`` the archive holds a successful capture of (by the URL asked or the one a redirect
    ended at), in one query whatever their number (the list goes in as one JSON parameter): for each, the
    capture nearest in time to ``near`` (the page's own capture, so a link leads to what it led to then),
    else the newest."""
    wanted = sorted({u for u in urls if u})
    if not wanted:
        return {}
    rows = archive.catalog.rows(
        """SELECT id, url, final_url, sha256, fetched_at FROM captures
           WHERE sha256 IS NOT NULL AND (status IS NULL OR status BETWEEN 200 AND 299)
             AND (url IN (SELECT value FROM json_each(:u)) OR final_url IN (SELECT value FROM json_each(:u)))""",
        {"u": json.dumps(wanted, ensure_ascii=False)})
    target = _when(near)
    asked = set(wanted)
    best: dict[str, tuple[tuple, Held]] = {}
    for r in rows:
        when = _when(r["fetched_at"])
        if target is not None and when is not None:
            try:
                rank: tuple = (abs((when - target).total_seconds()), -r["id"])
            except TypeError:  # one time with a zone, one without
                rank = (0.0, -r["id"])
        else:
            rank = (0.0, -(when.timestamp() if when else 0.0), -r["id"])
        for url in {r["url"], r["final_url"]} & asked:
            if url not in best or rank < best[url][0]:
                best[url] = (rank, Held(r["sha256"], r["id"], r["fetched_at"]))
    return {url: h for url, (_, h) in best.items()}
