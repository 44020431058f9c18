"""Streamed exports: JSONL (one parsed report per line), CSV (one tidy row per cell), WARC (every record)."""

from __future__ import annotations

import csv
import json
from typing import TYPE_CHECKING, BinaryIO, TextIO

from archive.catalog import EXPORT_FORMATS
from archive.catalog.cells import iter_cells
from archive.catalog.views import iter_reports

if TYPE_CHECKING:
    from archive.archive import Archive

FORMATS = EXPORT_FORMATS
CSV_COLUMNS = ["report_id", "agency", "year", "template", "table", "row", "column", "value", "raw", "label",
               "recovered", "sha256", "parser_version"]


def export(archive: Archive, fmt: str, out: TextIO | BinaryIO, *, year: int | None = None) -> int:
    """Write the export to ``out`` (text for jsonl/csv, binary for warc); return how many items."""
    if fmt == "jsonl":
        return _jsonl(archive, out, year)  # type: ignore[arg-type]
    if fmt == "csv":
        return _csv(archive, out, year)  # type: ignore[arg-type]
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
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    n = 0
    for row in iter_cells(archive, CSV_COLUMNS, year=year):
        w.writerow(row)
        n += 1
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
