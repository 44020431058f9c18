"""Table cells as tidy rows (each report's current primary document, the ``report_cells`` view): a page
of them for the API, or all of them streamed for the exports, in whichever columns and order the caller
names, so that every output is one query shape with parameters."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from archive.archive import Archive

# The columns of ``report_cells``, named as the CSV export and the parsed JSON name them (migration 15);
# ``table``, ``row`` and ``column`` are SQL keywords, so every name is quoted where SQL is written.
COLUMNS = ("report_id", "agency", "year", "template", "table", "row", "column", "value", "raw", "label",
           "recovered", "sha256", "parser_version")
PAGE_COLUMNS = ("report_id", "agency", "year", "template", "table", "row", "column", "value", "raw",
                "recovered", "sha256")
PAGE_ORDER = ("report_id", "table", "row", "column")
EXPORT_ORDER = ("year", "agency", "report_id", "table", "row", "column")


def _where(year: int | None = None, agency: str | None = None, table: str | None = None, row: str | None = None,
           column: str | None = None, report_id: int | None = None) -> tuple[str | None, list]:
    where, params = [], []
    for col, val in (("year", year), ("table", table), ("row", row), ("column", column),
                     ("report_id", report_id)):
        if val is not None:
            where.append(f'"{col}" = ?')
            params.append(val)
    if agency:
        where.append("agency LIKE ?")
        params.append(f"%{agency}%")
    return (" AND ".join(where) or None), params


def _columns(names: Sequence[str]) -> str:
    if bad := [n for n in names if n not in COLUMNS]:
        raise ValueError(f"report_cells has no column {', '.join(bad)}")
    return ", ".join(f'"{n}"' for n in names)


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
    """Every cell (of ``year``, of one report) as a tuple of ``columns`` (names of :data:`COLUMNS`), in
    ``order`` (default :data:`EXPORT_ORDER`): the rows of the CSV exports, streamed from the database."""
    where, params = _where(year, report_id=report_id)
    for r in archive.catalog.db["report_cells"].rows_where(where, params, select=_columns(columns),
                                                            order_by=_columns(order or EXPORT_ORDER)):
        yield tuple(r.values())
