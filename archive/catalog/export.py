"""Streamed exports: JSONL (one parsed report per line), CSV (one tidy row per cell), XLSX (the same rows,
a sheet per table), WARC (every record), WACZ (one report's captures). The command line and the web downloads
write them through the same functions here, so a file is the same whichever way it was asked for."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, BinaryIO, TextIO

from archive.catalog import EXPORT_FORMATS
from archive.catalog.cells import COLUMNS, iter_cells
from archive.catalog.views import iter_reports
from archive.parser import names
from archive.parser.names import region_of

if TYPE_CHECKING:
    from archive.archive import Archive

FORMATS = EXPORT_FORMATS
# the columns of the report_cells view, then (the CSV) the same names with the region and the template's Chinese
# wording beside each id: one set of names for the view, the CSV, the XLSX and the parsed JSON's cells
STORED_COLUMNS = list(COLUMNS)
CSV_COLUMNS = ["report_id", "agency", "region", "year", "template", "table", "table_label", "group", "row",
               "row_label", "column", "column_label", "value", "raw", "label", "recovered", "sha256",
               "parser_version"]
BOM = "\ufeff"  # Excel on Chinese Windows reads a CSV without it as GBK, and the Chinese as mojibake
XLSX_SHEETS = {"active": "二 主动公开", "applications": "三 依申请公开", "review_litigation": "四 复议诉讼"}


@lru_cache(maxsize=4096)
def _labels(table: str, row: str, column: str) -> tuple[str, str, str, str]:
    return (names.table_label(table), names.group_label(table, row), names.row_label(table, row),
            names.column_label(column))


def cell_rows(archive: Archive, *, year: int | None = None, report_id: int | None = None) -> Iterator[tuple]:
    """Every cell of the current reports (of ``year``, or of one report) as a tuple of :data:`CSV_COLUMNS`."""
    regions: dict[str | None, str | None] = {}
    for (rid, agency, yr, template, table, row, column, value, raw, label, recovered, sha, pv) in iter_cells(
            archive, STORED_COLUMNS, year=year, report_id=report_id):
        if agency not in regions:
            regions[agency] = region_of(agency) or ""
        t_label, group, r_label, c_label = _labels(table, row, column)
        yield (rid, agency, regions[agency], yr, template, table, t_label, group, row, r_label, column, c_label,
               value, raw, label, recovered, sha, pv)


def _csv_parts(archive: Archive, *, year: int | None, report_id: int | None,
               every: int = 1000) -> Iterator[tuple[str, int]]:
    """The CSV export in pieces (BOM and header first), each with how many cells it holds (a cell's text
    may hold a line break, so lines are not cells)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    buf.write(BOM)
    w.writerow(CSV_COLUMNS)
    n = 0
    for row in cell_rows(archive, year=year, report_id=report_id):
        w.writerow(row)
        n += 1
        if n == every:
            yield buf.getvalue(), n
            buf.seek(0)
            buf.truncate()
            n = 0
    yield buf.getvalue(), n


def csv_chunks(archive: Archive, *, year: int | None = None, report_id: int | None = None) -> Iterator[str]:
    """The CSV export in pieces, for a file or a streamed download alike."""
    return (text for text, _ in _csv_parts(archive, year=year, report_id=report_id))


def export(archive: Archive, fmt: str, out: TextIO | BinaryIO, *, year: int | None = None,
           report: int | str | None = None) -> int:
    """Write the export to ``out`` (text for jsonl/csv, binary for warc, xlsx and wacz); return how many items
    (WARC records for wacz, which holds one ``report``'s captures: see :mod:`archive.catalog.wacz`)."""
    if fmt == "wacz":
        from archive.catalog.wacz import wacz

        if report is None:
            raise ValueError("a WACZ holds one report's captures: name the report (an id or AGENCY/YEAR)")
        return wacz(archive, report, out)["records"]  # type: ignore[arg-type]
    if fmt == "jsonl":
        return _jsonl(archive, out, year)  # type: ignore[arg-type]
    if fmt == "csv":
        return _csv(archive, out, year)  # type: ignore[arg-type]
    if fmt == "xlsx":
        return _xlsx(archive, out, year)  # type: ignore[arg-type]
    if fmt == "warc":
        return _warc(archive, out)  # type: ignore[arg-type]
    raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")


def _jsonl(archive: Archive, out: TextIO, year: int | None) -> int:
    n = 0
    for rep in iter_reports(archive, year=year):
        out.write(json.dumps(rep, ensure_ascii=False) + "\n")
        n += 1
    return n


def _csv(archive: Archive, out: TextIO, year: int | None) -> int:
    n = 0
    for text, cells in _csv_parts(archive, year=year, report_id=None):
        out.write(text)
        n += cells
    return n


def _xlsx(archive: Archive, out: BinaryIO, year: int | None) -> int:
    """The CSV's rows in a workbook, one sheet per table (openpyxl's write-only mode: rows are not kept)."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    sheets = {}
    for table, title in XLSX_SHEETS.items():
        sheets[table] = wb.create_sheet(title)
        sheets[table].append(CSV_COLUMNS)
    n = 0
    at = CSV_COLUMNS.index("table")
    for row in cell_rows(archive, year=year):
        sheet = sheets.get(row[at])
        if sheet is None:
            sheet = sheets[row[at]] = wb.create_sheet(str(row[at])[:31])
            sheet.append(CSV_COLUMNS)
        sheet.append(list(row))
        n += 1
    wb.save(out)
    return n


def _warc(archive: Archive, out: BinaryIO) -> int:
    """Every WARC file up to its committed size, in creation order: per-record gzip members concatenate."""
    n = 0
    for f in archive.catalog.rows("SELECT name, size FROM warc_files ORDER BY created_at, name"):
        remaining = f["size"]
        with open(archive.warc_dir / f["name"], "rb") as fh:
            while remaining > 0:
                chunk = fh.read(min(1 << 20, remaining))
                if not chunk:
                    raise OSError(f"{f['name']} is shorter than the catalog says; run `nianbao verify`")
                out.write(chunk)
                remaining -= len(chunk)
        n += 1
    return n
