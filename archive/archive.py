"""The archive as one object: a directory holding ``catalog.db``, ``blobs/`` and ``warc/``.

The Python API the CLI and the web app use, name for name: ``stats``, ``reports``, ``show``, ``export``,
``verify``, ``recover``, ``ingest``, ``import_warcs`` (``nianbao import``), ``datasette_metadata``
(``nianbao export --datasette``),
``reparse``, ``coverage``, ``harvests`` (and ``harvest_log``, ``frontier`` for the scheduler), ``search``,
``reindex``; for the web app and the exports also
``count_reports``, ``report``, ``cells``/``count_cells``, ``iter_cells``, ``iter_reports``, ``agencies``,
``agency``, ``original``, ``held``, ``archived_page``, ``wacz``, ``texts``, ``pending_index`` and ``hosts``;
``unassigned`` and ``unassigned_reasons`` for the documents in no report (``nianbao reports --unassigned``, a
crawl's summary); ``merge_agencies``, ``unmerge_agency``, ``agency_aliases``, ``agency_id`` and ``suggest_merges``
for one agency under several names (``nianbao agencies``); ``import_portals`` and ``registered_portals``
for the portal registry (``nianbao portals import|export``).
``writer()`` is what the crawler's pipeline uses.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from archive.catalog import EXPORT_FORMATS  # noqa: F401  (the CLI offers these)
from archive.catalog.db import Catalog
from archive.errors import ArchiveError, CatalogError
from archive.store.blobs import BlobStore

if TYPE_CHECKING:
    from archive.catalog.originals import Original

DEFAULT_DIR = "nianbao-archive"
ENV_VAR = "NIANBAO_ARCHIVE"


def default_path() -> Path:
    """``$NIANBAO_ARCHIVE``, else ``./nianbao-archive``."""
    return Path(os.environ.get(ENV_VAR) or DEFAULT_DIR)


def nianbao_version() -> str:
    try:
        return metadata.version("nianbao")
    except metadata.PackageNotFoundError:
        return "0+unknown"


class Archive:
    """Open (creating if needed) the archive at ``path``; ``readonly`` never writes."""

    def __init__(self, path: Path | str | None = None, *, readonly: bool = False) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.readonly = readonly
        if readonly and not (self.path / "catalog.db").exists():
            raise ArchiveError(f"there is no archive at {self.path} (no catalog.db); "
                               f"create one with `nianbao ingest` or a crawl, or pass --archive")
        if not readonly:
            self.path.mkdir(parents=True, exist_ok=True)
            if not (self.path / "catalog.db").exists() and any((self.path / "warc").glob("*.warc.gz")):
                # a new catalog here would take the WARC files for a crash's leftovers and remove them
                raise CatalogError(f"the archive at {self.path} holds WARC files but no catalog.db: rebuild the "
                                   f"catalog from them with `nianbao recover --archive {self.path}`")
        self.catalog = Catalog(self.path / "catalog.db", readonly=readonly)
        self.store = BlobStore(self.path / "blobs", readonly=readonly)
        self.warc_dir = self.path / "warc"
        self.version = nianbao_version()

    @classmethod
    def open(cls, path: Path | str | None = None, *, readonly: bool = False) -> Archive:
        return cls(path, readonly=readonly)

    def close(self) -> None:
        self.catalog.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- writing --------------------------------------------------------------------------------
    def writer(self, **kwargs):
        """A writing session (see :class:`archive.ingest.writer.ArchiveWriter`)."""
        from archive.ingest.writer import ArchiveWriter

        if self.readonly:
            raise ArchiveError("this archive was opened read-only")
        return ArchiveWriter(self, **kwargs)

    def ingest(self, paths, **kwargs):
        """Archive files from disk as if fetched (see :mod:`archive.ingest.files`); ``agency=`` and ``year=`` say
        whose reports they are and for which year, where their text does not."""
        from archive.ingest.files import ingest

        res = ingest(self, paths, **kwargs)
        self.reindex(only_pending=True)
        return res

    def import_warcs(self, sources, **kwargs):
        """Import WARC files (ours, our workers' hand-overs, other crawlers'): see :mod:`archive.ingest.warc_import`."""
        from archive.ingest.warc_import import import_warcs

        res = import_warcs(self, sources, **kwargs)
        self.reindex(only_pending=True)
        return res

    @staticmethod
    def recover(path: Path | str, **kwargs):
        """Rebuild a lost or damaged catalog from the WARC files and blobs (see :mod:`archive.ingest.recover`),
        then the search index; a static method, since such an archive cannot be opened."""
        from archive.ingest.recover import recover

        res = recover(path, **kwargs)
        with Archive.open(path) as a:
            a.reindex()
        return res

    def reparse(self, **kwargs):
        from archive.examine.reparse import reparse

        res = reparse(self, **kwargs)
        self.reindex(only_pending=True)
        return res

    # -- reading --------------------------------------------------------------------------------
    def stats(self) -> dict:
        from archive.catalog.views import stats

        return stats(self)

    def reports(self, *, year: int | None = None, agency: str | None = None, limit: int | None = None,
                offset: int = 0) -> list[dict]:
        """One row per report, newest year first; ``limit``/``offset`` page in SQL."""
        from archive.catalog.views import reports

        return reports(self, year=year, agency=agency, limit=limit, offset=offset)

    def count_reports(self, *, year: int | None = None, agency: str | None = None) -> int:
        """How many reports ``reports`` lists with these filters."""
        from archive.catalog.views import count_reports

        return count_reports(self, year=year, agency=agency)

    def unassigned(self, *, limit: int | None = None) -> list[dict]:
        """The documents in no report (no year, or no agency and nothing to join), each with its first
        URL and the reason in words; oldest first."""
        from archive.catalog.views import unassigned

        return unassigned(self, limit=limit)

    def unassigned_reasons(self) -> dict[str, int]:
        """How many documents are in no report, by reason (what `nianbao reports` ends with)."""
        from archive.catalog.views import unassigned_reasons

        return unassigned_reasons(self)

    def show(self, report: int | str) -> dict:
        from archive.catalog.views import show

        return show(self, report)

    def report(self, report: int | str) -> dict:
        """The catalog row of one report (id or ``AGENCY/YEAR``), e.g. its ``agency_key``; NotFound if none."""
        from archive.catalog.views import report as report_row

        return report_row(self, report)

    def compare(self, metric: str, **kwargs) -> dict:
        """Agencies × years for one cell (``applications/1/total``) or named share; see catalog/compare.py."""
        from archive.catalog.compare import compare

        return compare(self, metric, **kwargs)

    def compare_metrics(self) -> list[tuple[str, str]]:
        """The metrics the comparison offers first, with their Chinese labels (any cell may be asked too)."""
        from archive.catalog.compare import metrics

        return metrics()

    def revision_cells(self, report: int | str) -> dict:
        """Each revision's table cells by revision number (for what changed between revisions)."""
        from archive.catalog.views import revision_cells

        return revision_cells(self, report)

    def cells(self, *, year: int | None = None, agency: str | None = None, table: str | None = None,
              row: str | None = None, column: str | None = None, limit: int | None = None,
              offset: int = 0) -> list[dict]:
        """Cells as tidy rows (``agency``: name contains), by report, table, row, column; paged in SQL."""
        from archive.catalog.cells import cells

        return cells(self, year=year, agency=agency, table=table, row=row, column=column, limit=limit, offset=offset)

    def count_cells(self, *, year: int | None = None, agency: str | None = None, table: str | None = None,
                    row: str | None = None, column: str | None = None) -> int:
        """How many cells ``cells`` lists with these filters."""
        from archive.catalog.cells import count_cells

        return count_cells(self, year=year, agency=agency, table=table, row=row, column=column)

    def iter_cells(self, columns: Sequence[str], *, year: int | None = None,
                   order: Sequence[str] | None = None) -> Iterator[tuple]:
        """Every cell (of ``year``) as a tuple of ``columns``, streamed: what the CSV exports write."""
        from archive.catalog.cells import iter_cells

        return iter_cells(self, columns, year=year, order=order)

    def iter_reports(self, *, year: int | None = None, order: Sequence[str] | None = None) -> Iterator[dict]:
        """Every report (of ``year``) as ``show`` gives it, streamed: what the JSONL exports write."""
        from archive.catalog.views import iter_reports

        return iter_reports(self, year=year, order=order)

    def agencies(self) -> list[dict]:
        """Each agency with the years the archive holds a report on."""
        from archive.catalog.views import agencies

        return agencies(self)

    def agency(self, name: str) -> dict:
        """One agency's reports by year and their cells; NotFound if it has none."""
        from archive.catalog.views import agency

        return agency(self, name)

    # -- one agency under several names (see :mod:`archive.catalog.aliases`) -----------------------
    def merge_agencies(self, canonical: str, alias: str, *, reason: str | None = None) -> dict:
        """Record that ``alias`` names the agency ``canonical`` (the first name is kept): its reports, coverage
        and comparisons follow; refused in words for the same name, a cycle, or a year both names hold."""
        from archive.catalog import aliases

        self._writable("merge agencies")
        res = aliases.merge(self.catalog, canonical, alias, reason=reason)
        aliases.save(self.catalog, self.path / aliases.FILE)
        self.reindex(only_pending=True)
        return res

    def unmerge_agency(self, alias: str) -> dict:
        """Forget that ``alias`` is another agency's name: its reports are its own again."""
        from archive.catalog import aliases

        self._writable("unmerge agencies")
        res = aliases.unmerge(self.catalog, alias)
        aliases.save(self.catalog, self.path / aliases.FILE)
        self.reindex(only_pending=True)
        return res

    def agency_aliases(self) -> list[dict]:
        """Every alias recorded: both names as written, the agency id it resolves to, who merged, when, why."""
        from archive.catalog import aliases

        return aliases.listing(self.catalog)

    def agency_ids(self, names) -> dict[str, str | None]:
        """The agency id of each name, through the aliases (one read for a registry's worth of names)."""
        from archive.catalog import aliases

        return aliases.ids(self.catalog, names)

    def agency_id(self, name: str) -> str | None:
        """The stable id of the agency a name belongs to (its normalised name, resolved through the aliases)."""
        from archive.catalog import aliases

        return aliases.agency_id(self.catalog, name)

    def suggest_merges(self) -> list[dict]:
        """Pairs of agencies that may be one (a name ending with the other; one SiteIDCode): proposed, never merged."""
        from archive.catalog import aliases

        return aliases.suggest(self.catalog)

    def _writable(self, what: str) -> None:
        if self.readonly:
            raise ArchiveError(f"cannot {what}: this archive was opened read-only")

    def original(self, sha256: str) -> Original:
        """An original's bytes with its kind and the content type it was fetched with; NotFound if none."""
        from archive.catalog.originals import original

        return original(self, sha256)

    def held(self, urls, *, near: str | None = None) -> dict:
        """Which of ``urls`` the archive holds a capture of, each with the capture nearest ``near`` (one query)."""
        from archive.catalog.originals import held

        return held(self, urls, near=near)

    def archived_page(self, orig: Original, *, capture_id: int | None = None, href_for, img_for=None):
        """An HTML original with its links to what the archive holds pointed at the archived copies
        (``href_for(Held)``, ``img_for(Held)`` give their addresses); resolved against its capture
        ``capture_id``'s URL (else its first capture's). See :mod:`archive.catalog.rewrite`."""
        from archive.catalog.rewrite import rewrite

        cap = orig.capture(capture_id) or {}
        return rewrite(orig.data, orig.content_type, cap.get("final_url") or cap.get("url") or "",
                       lambda urls: self.held(urls, near=cap.get("fetched_at")), href_for, img_for=img_for)

    def wacz(self, report: int | str, out) -> dict:
        """A report's captures as a WACZ 1.1.1 package (for replayweb.page) written to ``out``: a path (written
        beside it and renamed) or a binary file. See :mod:`archive.catalog.wacz`."""
        from archive.catalog.wacz import wacz

        return wacz(self, report, out)

    def texts(self, sha256s) -> dict[str, str]:
        """The extracted text of the documents with these digests."""
        from archive.catalog.views import texts

        return texts(self, sha256s)

    def pending_index(self) -> int:
        """Documents waiting to be indexed for search."""
        from archive.catalog.views import pending_index

        return pending_index(self)

    def hosts(self) -> list[str]:
        """Every host the archive holds captures from."""
        from archive.catalog.views import hosts

        return hosts(self)

    def export(self, fmt: str, out, **kwargs) -> int:
        from archive.catalog.export import export

        return export(self, fmt, out, **kwargs)

    def csv_chunks(self, *, year: int | None = None, report_id: int | None = None):
        """The CSV export in pieces, for a streamed download (the same file ``export("csv", …)`` writes; of one
        report with ``report_id``)."""
        from archive.catalog.export import csv_chunks

        return csv_chunks(self, year=year, report_id=report_id)

    def datasette_metadata(self) -> dict:
        """Datasette's ``metadata.json`` for ``catalog.db`` (``nianbao export --datasette``): every public table,
        view and column described in Chinese and English, internal tables hidden, canned queries."""
        from archive.catalog.descriptions import datasette_metadata

        return datasette_metadata(self)

    def verify(self, **kwargs):
        from archive.catalog.verify import verify

        return verify(self, **kwargs)

    def coverage(self, portals=None, **kwargs) -> list:
        """Per agency and year, for every report however it arrived and every profile's agency: on time,
        late or missing (see :mod:`archive.catalog.coverage`)."""
        from archive.catalog.coverage import coverage

        return coverage(self, portals, **kwargs)

    def coverage_matrix(self, portals=None, *, verdicts: list | None = None, **kwargs) -> list[dict]:
        """Region × year: agencies judged and how many of each status, with the on-time share (of
        ``verdicts`` already judged, else of those ``coverage`` gives)."""
        from archive.catalog.coverage import coverage, matrix

        return matrix(verdicts if verdicts is not None else coverage(self, portals, **kwargs))

    def coverage_csv(self, portals=None, *, matrix: bool = False, **kwargs) -> str:
        """The verdicts, or the region × year matrix, as CSV (UTF-8 with a BOM, for Excel)."""
        from archive.catalog.coverage import MATRIX_COLUMNS, VERDICT_COLUMNS, to_csv

        if matrix:
            return to_csv(self.coverage_matrix(portals, **kwargs), MATRIX_COLUMNS)
        return to_csv([v.as_dict() for v in self.coverage(portals, **kwargs)], VERDICT_COLUMNS)

    @property
    def harvest_log(self):
        """The harvest history as the crawler and the scheduler keep it (begin, finish, recover, last …)."""
        from archive.catalog.harvests import HarvestLog

        return HarvestLog(self.catalog)

    @property
    def frontier(self):
        """The scheduler's per-portal due times (sync, due, record, failing …): the scheduler computes, this keeps."""
        from archive.catalog.frontier import Frontier

        return Frontier(self.catalog)

    def harvests(self, portal: str | None = None, limit: int = 50) -> list[dict]:
        """The scheduler's harvest history, newest first."""
        from archive.catalog.harvests import history

        return history(self.catalog, portal, limit)

    # -- the portal registry ------------------------------------------------------------------------
    def import_portals(self, rows, *, source: str | None = None, replace: bool = False) -> dict:
        """Store registry rows checked already (``nianbao portals import`` checks them): all of them in one
        transaction or none; with ``replace``, rows of names not given are removed. Returns what changed."""
        from archive.catalog.registry import import_rows

        return import_rows(self.catalog, rows, source=source, replace=replace)

    def registered_portals(self) -> list[dict]:
        """Every row of the portal registry, by name."""
        from archive.catalog.registry import rows

        return rows(self.catalog)

    def registry_stamp(self) -> tuple:
        """A value that changes whenever the registry does (the scheduler re-reads it only then)."""
        from archive.catalog.registry import stamp

        return stamp(self.catalog)

    def search(self, query: str = "", **kwargs):
        """Ranked full-text hits with snippets and facets (see :mod:`archive.search.query`)."""
        from archive.search.query import search

        if not self.readonly:
            self.reindex(only_pending=True)
        return search(self, query, **kwargs)

    def reindex(self, *, only_pending: bool = False, progress=None) -> int:
        """Bring the search index in step with the catalog (``only_pending``), or rebuild it."""
        from archive.search.index import rebuild, sync

        if self.readonly:
            raise ArchiveError("the search index cannot be updated on an archive opened read-only")
        return sync(self.catalog, progress) if only_pending else rebuild(self.catalog, progress)

    def read_blob(self, sha256: str) -> bytes:
        """The original's bytes, checked against its SHA-256 (BlobMissing, BlobCorrupt)."""
        return self.store.read_verified(sha256)

    def has_blob(self, sha256: str) -> bool:
        """Whether the original is in the blob store (a catalog row alone does not say it is whole)."""
        return self.store.exists(sha256)

    # -- what the crawler asks (see :mod:`archive.catalog.runs`, :mod:`archive.catalog.lookup`) ---------
    def crawl_lookup(self, hosts: list[str] | None = None):
        """Validators and last captures for a crawl of ``hosts`` (conditional requests, resuming)."""
        from archive.catalog.lookup import CrawlLookup

        return CrawlLookup(self.catalog, hosts)

    def resumable_runs(self, portals) -> list[int]:
        """Interrupted crawl runs of these portal names whose captures a new crawl serves again."""
        from archive.catalog.runs import resumable

        return resumable(self.catalog, portals)

    def run(self, run_id: int | None) -> dict | None:
        """One run's row (status, counts, its ``stats`` JSON)."""
        from archive.catalog.runs import get

        return get(self.catalog, run_id)

    def run_rows(self, run_id: int | None, hosts: list[str]):
        """A run's captures on these hosts, and the documents the hosts brought (a crawl summary's rows)."""
        from archive.catalog.runs import portal_rows

        return portal_rows(self.catalog, run_id, hosts)

    def latest_crawl_run(self, *, portal: str | None = None, since: str | None = None) -> int | None:
        """The newest crawl run (of ``portal``, begun since ``since``)."""
        from archive.catalog.runs import latest_crawl

        return latest_crawl(self.catalog, portal=portal, since=since)

    def imported_handovers(self) -> set[str]:
        """Task ids of the worker hand-overs already imported."""
        from archive.catalog.runs import imported_handovers

        return imported_handovers(self.catalog)
