"""Table cells as tidy rows (each report's current primary document, the ``report_cells`` view): a page
of them for the API, or all of them streamed for the exports, in whichever columns and order the caller
names, so that every output is one query shape with parameters."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from archive.archive import Archive

# Output name -> column of ``report_cells``: the exports call table, row and column by their short names.
FIELDS = {"report_id": "report_id", "agency": "agency", "year": "year", "template": "template",
          "table": "table_id", "row": "row_id", "column": "column_id", "value": "value", "raw": "raw",
          "label": "label", "recovered": "recovered", "sha256": "sha256", "parser_version": "parser_version"}
COLUMNS = set(FIELDS.values())
PAGE_COLUMNS = ("report_id", "agency", "year", "template", "table_id", "row_id", "column_id", "value", "raw",
                "recovered", "sha256")
PAGE_ORDER = ("report_id", "table_id", "row_id", "column_id")
EXPORT_ORDER = ("year", "agency", "report_id", "table", "row", "column")


def _where(year: int | None = None, agency: str | None = None, table: str | None = None, row: str | None = None,
           column: str | None = None, report_id: int | None = None) -> tuple[str | None, list]:
    where, params = [], []
    for col, val in (("year", year), ("table_id", table), ("row_id", row), ("column_id", column),
                     ("report_id", report_id)):
        if val is not None:
            where.append(f"{col} = ?")
            params.append(val)
    if agency:
        where.append("agency LIKE ?")
        params.append(f"%{agency}%")
    return (" AND ".join(where) or None), params


def _columns(names: Sequence[str]) -> str:
    cols = [FIELDS.get(n, n) for n in names]
    if bad := [c for c in cols if c not in COLUMNS]:
        raise ValueError(f"report_cells has no column {', '.join(bad)}")
    return ", ".join(cols)


def cells(archive: Archive, *, year: int | None = None, agency: str | None = None, table: str | None = None,
          row: str | None = None, column: str | None = None, limit: int | None = None,
          offset: int = 0) -> list[dict]:
    """Cells matching every filter given (``agency``: name contains), by report, table, row and column;
    ``limit``/``offset`` page in SQL (see :func:`count_cells`)."""
    where, params = _where(year, agency, table, row, column)
    if offset and limit is None:
        limit = -1  # SQLite takes no OFFSET without a LIMIT; -1 is "no limit"
    return list(archive.catalog.db["report_cells"].rows_where(
        where, params, select=_columns(PAGE_COLUMNS), order_by=_columns(PAGE_ORDER), limit=limit,
        offset=offset or None))


def count_cells(archive: Archive, *, year: int | None = None, agency: str | None = None, table: str | None = None,
                row: str | None = None, column: str | None = None) -> int:
    """How many cells :func:`cells` lists with the same filters (the total beside a page)."""
    where, params = _where(year, agency, table, row, column)
    return archive.catalog.db["report_cells"].count_where(where, params)


def iter_cells(archive: Archive, columns: Sequence[str], *, year: int | None = None,
               order: Sequence[str] | None = None, report_id: int | None = None) -> Iterator[tuple]:
    """Every cell (of ``year``, of one report) as a tuple of ``columns`` (names of :data:`FIELDS`), in
    ``order`` (default :data:`EXPORT_ORDER`): the rows of the CSV exports, streamed from the database."""
    where, params = _where(year, report_id=report_id)
    for r in archive.catalog.db["report_cells"].rows_where(where, params, select=_columns(columns),
                                                            order_by=_columns(order or EXPORT_ORDER)):
        yield tuple(r.values())
