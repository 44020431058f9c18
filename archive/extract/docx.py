"""DOCX with python-docx: paragraphs and tables in body order, merged cells written once."""

from __future__ import annotations

import docx
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph

from archive.errors import ExtractionError
from archive.extract.base import Extracted
from archive.extract.grid import Grid, GridCell, as_lines, clean
from archive.extract.unpack import read_members, repack

W_T = qn("w:t")


def table_grid(table: Table) -> Grid:
    """Walk the raw ``w:tc`` cells so merges resolve exactly: gridSpan widens a cell, a vMerge
    continuation is the cell above it (python-docx's ``row.cells`` repeats merged text instead)."""
    grid: Grid = []
    origin: dict[int, GridCell] = {}  # grid column -> the cell a vertical merge continues
    for tr in table._tbl.tr_lst:
        row: list[GridCell | None] = [None] * (tr.grid_before or 0)
        for tc in tr.tc_lst:
            span = max(1, tc.grid_span or 1)
            col = len(row)
            if tc.vMerge == "continue":
                above = origin.get(col)
                if above is not None:
                    above.rowspan += 1
                row.extend([None] * span)
                continue
            text = "\n".join("".join(t.text or "" for t in p.iter(W_T)) for p in tc.p_lst)
            cell = GridCell(clean(text), 1, span)
            row.append(cell)
            row.extend([None] * (span - 1))
            for k in range(col, col + span):
                origin[k] = cell
        grid.append(row)
    width = max((len(r) for r in grid), default=0)
    for r in grid:
        r.extend([None] * (width - len(r)))
    return grid


def extract_docx(data: bytes) -> Extracted:
    """Text and tables of a DOCX, its parts inflated within limits first (python-docx would inflate them
    with none: a zip bomb would be in memory before it could be refused)."""
    package = repack(read_members(data))  # ExtractionError in words for a bomb or a broken container
    try:
        document = docx.Document(package)
    except Exception as e:  # python-docx raises KeyError/ValueError/lxml errors on broken parts
        raise ExtractionError(f"not a readable DOCX ({type(e).__name__}: {e})") from e
    lines: list[str] = []
    tables: list[Grid] = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            text = block.text.strip()
            if text:
                lines.append(text)
        elif isinstance(block, Table):
            grid = table_grid(block)
            tables.append(grid)
            lines.extend(as_lines(grid))
    meta = {}
    if document.core_properties.title:
        meta["docx_title"] = document.core_properties.title
    return Extracted(text="\n".join(lines), meta=meta, tables=tables, method="python-docx")
