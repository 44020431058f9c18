"""Rebuild the derived data (documents, cells, checks, reports, revisions) from the stored originals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from archive.examine.pipeline import ParseStep, examine, pending
from archive.examine.placement import Placer
from archive.parser import PARSER_VERSION

if TYPE_CHECKING:
    from archive.archive import Archive


@dataclass
class ReparseResult:
    parser_version: str
    parsed: int
    documents: int
    reports: int
    unassigned: int = 0  # documents still in no report (``Archive.unassigned`` says why)
    failed: list[dict] = field(default_factory=list)  # originals parsed now that could not be read, and why
    # originals the store could not give back (missing, damaged): skipped, their documents left as they were
    unreadable: list[dict] = field(default_factory=list)


def reparse(archive: Archive, *, everything: bool = False, failed: bool = False, jobs: int | None = None,
            progress: Callable[[int, int], None] | None = None,
            assign_progress: Callable[[int, int], None] | None = None,
            parse_with: ParseStep | None = None) -> ReparseResult:
    """Parse every blob the current parser has not read (all of them with ``everything``), then
    re-derive reports and revisions in one transaction, settling the documents a page-before-its-PDF
    order left in no report. Safe to interrupt and run again. ``failed``: the originals whose parse failed
    (over a limit, or unreadable), however often it did, and nothing else.

    ``parse_with`` parses another way (see :func:`archive.examine.pipeline.examine`): ``nianbao reparse
    --broker`` passes ``crawler.distributed.remote_parse``'s step (the archive does not import Celery).
    """
    if everything:
        shas = [r["sha256"] for r in archive.catalog.rows("SELECT sha256 FROM blobs ORDER BY first_seen, rowid")]
    else:
        shas = pending(archive.catalog, failed_only=True) if failed else pending(archive.catalog, all_blobs=True)
    placed = examine(archive.catalog, archive.store, shas, jobs=jobs, assign=False, progress=progress,
                     parse_with=parse_with)
    with archive.catalog.transaction():
        Placer(archive.catalog).reassign_all(progress=assign_progress)
    count = archive.catalog.scalar
    asked = set(shas)
    failed = [r for r in archive.catalog.rows(
        "SELECT sha256, kind, examine_note AS reason, parse_failures AS failures FROM blobs WHERE role = 'failed' "
        "ORDER BY first_seen, rowid") if r["sha256"] in asked]
    unreadable = [{"sha256": p.sha256, "reason": p.note} for p in placed if p.unreadable]
    return ReparseResult(PARSER_VERSION, len(shas), count("SELECT count(*) FROM documents"),
                         count("SELECT count(*) FROM reports"),
                         count("SELECT count(*) FROM documents WHERE report_id IS NULL"), failed, unreadable)
