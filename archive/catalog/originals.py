"""An original by its SHA-256: its bytes and what the catalog knows to serve it (its kind, the content
type it was fetched with)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from archive.errors import NotFound

if TYPE_CHECKING:
    from archive.archive import Archive


@dataclass(frozen=True)
class Original:
    sha256: str
    kind: str | None  # html, pdf, docx, …: what the content is, told by the bytes
    content_type: str | None  # as a server sent it (any capture's), for the charset
    data: bytes

    @property
    def charset(self) -> str | None:
        ct = self.content_type or ""
        return ct.split("charset=")[-1].strip() if "charset=" in ct else None


def original(archive: Archive, sha256: str) -> Original:
    """The original with this digest, its bytes checked against it; :class:`NotFound` when the archive holds
    none, :class:`~archive.errors.BlobMissing` or :class:`~archive.errors.BlobCorrupt` when the store lost it."""
    row = archive.catalog.one("SELECT kind FROM blobs WHERE sha256 = ?", (sha256,))
    if row is None:
        raise NotFound(f"no original with SHA-256 {sha256}")
    content_type = archive.catalog.scalar(
        "SELECT content_type FROM captures WHERE sha256 = ? AND content_type IS NOT NULL", (sha256,))
    return Original(sha256, row["kind"], content_type, archive.store.read_verified(sha256))
