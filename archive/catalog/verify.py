"""Check the archive against itself: every blob re-hashed, every WARC file present and whole."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from archive.archive import Archive


@dataclass
class VerifyResult:
    blobs_checked: int = 0
    missing: list[str] = field(default_factory=list)
    corrupt: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)  # on disk, in no catalog row (harmless)
    warc_problems: list[str] = field(default_factory=list)
    warc_records_checked: int = 0

    @property
    def ok(self) -> bool:
        return not (self.missing or self.corrupt or self.warc_problems)

    def as_dict(self) -> dict:
        return {"ok": self.ok, "blobs_checked": self.blobs_checked, "missing": self.missing,
                "corrupt": self.corrupt, "orphans": self.orphans, "warc_problems": self.warc_problems,
                "warc_records_checked": self.warc_records_checked}


def verify(archive: Archive, *, warc_records: bool = False,
           progress: Callable[[int, int], None] | None = None) -> VerifyResult:
    """Re-hash every catalogued blob; with ``warc_records`` also re-check every WARC record's digests."""
    res = VerifyResult()
    cat, store = archive.catalog, archive.store
    shas = [r["sha256"] for r in cat.rows("SELECT sha256 FROM blobs ORDER BY sha256")]
    for i, sha in enumerate(shas, 1):
        state = store.check(sha)
        if state == "missing":
            res.missing.append(sha)
        elif state == "corrupt":
            res.corrupt.append(sha)
        res.blobs_checked += 1
        if progress:
            progress(i, len(shas))
    known = set(shas)
    res.orphans = [s for s in store if s not in known]
    for f in cat.rows("SELECT name, size FROM warc_files ORDER BY name"):
        path = archive.warc_dir / f["name"]
        if not path.exists():
            res.warc_problems.append(f"{f['name']}: missing")
        elif path.stat().st_size < f["size"]:
            res.warc_problems.append(f"{f['name']}: {path.stat().st_size} bytes, the catalog committed {f['size']}")
        elif warc_records:
            res.warc_problems += _check_records(path, f["size"], res)
    return res


def _check_records(path, committed: int, res: VerifyResult) -> list[str]:
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    problems = []
    with open(path, "rb") as fh:
        try:
            it = ArchiveIterator(fh, check_digests=True)
            for record in it:
                if it.offset >= committed:
                    break
                record.raw_stream.read()
                res.warc_records_checked += 1
                for p in record.digest_checker.problems:
                    problems.append(f"{path.name} @{it.offset}: {p}")
        except ArchiveLoadFailed as e:
            problems.append(f"{path.name}: {e}")
    return problems
