"""Check the archive against itself: the catalog file (SQLite's own check and its foreign keys), every blob
re-hashed, every WARC file present and as long as committed, every record's digests, and every capture row
pointing at the record it names; files no row names are listed too."""

from __future__ import annotations

import contextlib
import io
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from archive.warc import members
from archive.warc.writer import UNCOMMITTED, locked

if TYPE_CHECKING:
    from archive.archive import Archive

Progress = Callable[[int, int], None]


@dataclass
class VerifyResult:
    blobs_checked: int = 0
    missing: list[str] = field(default_factory=list)
    corrupt: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)  # on disk, in no catalog row (harmless)
    warc_problems: list[str] = field(default_factory=list)
    warc_records_checked: int = 0
    catalog_problems: list[str] = field(default_factory=list)  # SQLite's integrity check, foreign keys
    capture_problems: list[str] = field(default_factory=list)  # rows whose WARC record is not where they say
    unnamed_warcs: list[str] = field(default_factory=list)  # WARC files no row names (a crash's, or a writer's now)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.corrupt or self.warc_problems or self.catalog_problems
                    or self.capture_problems)

    def as_dict(self) -> dict:
        return {"ok": self.ok, "blobs_checked": self.blobs_checked, "missing": self.missing,
                "corrupt": self.corrupt, "orphans": self.orphans, "warc_problems": self.warc_problems,
                "warc_records_checked": self.warc_records_checked, "catalog_problems": self.catalog_problems,
                "capture_problems": self.capture_problems, "unnamed_warcs": self.unnamed_warcs}


def verify(archive: Archive, *, quick: bool = False, warc_records: bool | None = None,
           progress: Progress | None = None, warc_progress: Progress | None = None) -> VerifyResult:
    """Check everything; ``quick`` runs SQLite's quick_check and leaves out the WARC records (files are
    still checked for presence and size). ``warc_records`` overrides whether records are read."""
    res = VerifyResult()
    cat, store = archive.catalog, archive.store
    res.catalog_problems = cat.problems(quick=quick) + _foreign_keys(cat)
    try:
        shas = [r["sha256"] for r in cat.rows("SELECT sha256 FROM blobs ORDER BY sha256")]
        files = list(cat.rows("SELECT name, size FROM warc_files ORDER BY name"))
    except sqlite3.DatabaseError as e:  # too damaged to list what it holds
        res.catalog_problems.append(f"the catalog cannot be read: {e}")
        return res
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
    read_records = (not quick) if warc_records is None else warc_records
    names = {f["name"] for f in files}
    for i, f in enumerate(files, 1):
        path = archive.warc_dir / f["name"]
        if not path.exists():
            n = cat.scalar("SELECT count(*) FROM captures WHERE warc_file = ?", (f["name"],))
            res.warc_problems.append(f"{f['name']}: missing ({n} capture(s) point into it)")
        elif path.stat().st_size < f["size"]:
            res.warc_problems.append(f"{f['name']}: {path.stat().st_size} bytes, the catalog committed {f['size']}")
        elif read_records:
            records = _check_records(path, f["size"], res)
            _check_captures(cat, f["name"], records, res)
        if warc_progress:
            warc_progress(i, len(files))
    for path in sorted((archive.warc_dir / UNCOMMITTED).glob("*.warc.gz")):
        res.unnamed_warcs.append(f"{UNCOMMITTED}/{path.name}: set aside by a writer after a crash, as holding "
                                 f"nothing the catalog committed (kept in case it does; delete it if not wanted)")
    if archive.warc_dir.is_dir():
        for path in sorted(archive.warc_dir.glob("*.warc.gz")):
            if path.name not in names:
                res.unnamed_warcs.append(f"{path.name}: " + ("being written now" if locked(path) else
                                         "no catalog row names it (a writer that crashed before its first "
                                         "commit; the next write sets it aside)"))
    return res


def _foreign_keys(cat) -> list[str]:
    try:
        rows = cat.conn.execute("PRAGMA foreign_key_check").fetchall()
    except sqlite3.DatabaseError as e:
        return [f"foreign keys cannot be checked: {e}"]
    return [f"{table} row {rowid} points at a {parent} row that does not exist" for table, rowid, parent, _ in rows]


def _check_records(path: Path, committed: int, res: VerifyResult) -> dict[int, str]:
    """Every committed record: its gzip member's CRC and length (warcio prints a CRC error and reads on, and
    no WARC digest covers a record's headers), then its digests; return record ids by offset."""
    from warcio.archiveiterator import ArchiveIterator

    scanned = members.scan(path, end=committed)  # only what the catalog committed: a live writer's tail is no damage
    for start, end in scanned.damaged:
        res.warc_problems.append(f"{path.name}: damaged compressed data in bytes {start}-{end}")
    at_file = {}  # where each whole member starts in the stream of them, against where it is in the file
    at = 0
    for m in scanned.members:
        at_file[at] = m.offset
        at += m.length
    read = 0
    with members.GoodMembers(path, scanned.members) as good, contextlib.redirect_stdout(io.StringIO()):
        try:
            it = ArchiveIterator(io.BufferedReader(good, 1 << 20), check_digests=True)
            for record in it:
                record.raw_stream.read()
                read += 1
                res.warc_records_checked += 1
                for p in record.digest_checker.problems:
                    res.warc_problems.append(f"{path.name} @{at_file.get(it.offset, it.offset)}: {p}")
        except Exception as e:  # warcio fails on damaged headers in many ways (ArchiveLoadFailed, AttributeError)
            res.warc_problems.append(f"{path.name}: unreadable after {read} record(s) ({type(e).__name__}: {e})")
    return {m.offset: m.record_id for m in scanned.members}


def _check_captures(cat, name: str, records: dict[int, str], res: VerifyResult) -> None:
    for c in cat.rows("SELECT id, url, warc_offset, warc_record_id FROM captures WHERE warc_file = ? ORDER BY id",
                      (name,)):
        at = records.get(c["warc_offset"])
        if at != c["warc_record_id"]:
            res.capture_problems.append(
                f"capture {c['id']} ({c['url']}) names record {c['warc_record_id']} at {name} @{c['warc_offset']}, "
                + (f"where the file holds {at}" if at else "where the file holds no record"))
