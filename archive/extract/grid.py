"""Tables as rectangular grids: a cell's text sits at its top-left position, covered positions are None.

Every format ends up here (HTML rowspan/colspan, DOCX gridSpan/vMerge, pdfplumber's tables, OCR
boxes placed in ruling-line cells), so one table reader serves them all and a merged cell is never
mistaken for an empty one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

MAX_SPAN = 1000  # a colspan of 10**9 in hostile HTML must not allocate a billion cells
MAX_CELLS = 200_000


@dataclass
class GridCell:
    text: str
    rowspan: int = 1
    colspan: int = 1
    recovered: str | None = None  # "ocr" for text read from an image


Grid = list[list[GridCell | None]]
SPACES = re.compile(r"[\s\u00a0\u3000\u200b]+")


CJK_WRAP = re.compile(r"(?<=[\u3000-\u9fff\uff00-\uffef])\s*\n\s*(?=[\u3000-\u9fff\uff00-\uffef])")


def clean(text: str) -> str:
    """Cell text on one line: a line wrapped inside Chinese text joined with nothing, other runs of
    spaces made one."""
    return SPACES.sub(" ", CJK_WRAP.sub("", text or "")).strip()


def from_spans(rows: Iterable[Iterable[tuple[str, int, int]]]) -> Grid:
    """Build a grid from rows of (text, rowspan, colspan) as HTML writes them (covered cells omitted).

    Follows the HTML table model: each cell takes the first free column of its row, and reserves
    the positions its spans cover in the rows below.
    """
    taken: dict[tuple[int, int], bool] = {}
    placed: list[tuple[int, int, GridCell]] = []
    height = width = 0
    for r, row in enumerate(rows):
        c = 0
        for text, rs, cs in row:
            rs = max(1, min(int(rs or 1), MAX_SPAN))
            cs = max(1, min(int(cs or 1), MAX_SPAN))
            while taken.get((r, c)):
                c += 1
            if len(placed) + rs * cs > MAX_CELLS:
                raise ValueError("the table is larger than any report table")
            for dr in range(rs):
                for dc in range(cs):
                    taken[(r + dr, c + dc)] = True
            placed.append((r, c, GridCell(clean(text), rs, cs)))
            width = max(width, c + cs)
            height = max(height, r + rs)
            c += cs
        height = max(height, r + 1)
    grid: Grid = [[None] * width for _ in range(height)]
    for r, c, cell in placed:
        grid[r][c] = cell
    return grid


def from_rows(rows: Iterable[Iterable[str | None]], recovered: str | None = None) -> Grid:
    """A grid from rows of text where None marks a covered position (pdfplumber's tables)."""
    out: Grid = []
    for row in rows:
        out.append([None if t is None else GridCell(clean(t), recovered=recovered) for t in row])
    width = max((len(r) for r in out), default=0)
    for r in out:
        r.extend([None] * (width - len(r)))
    return out


def texts(grid: Grid) -> list[list[str]]:
    """The grid's text with covered positions as empty strings (for display and tests)."""
    return [[c.text if c is not None else "" for c in row] for row in grid]


def as_lines(grid: Grid) -> list[str]:
    """One tab-separated line per row, each merged cell once: the grid as plain text."""
    return ["\t".join(c.text for c in row if c is not None).rstrip("\t") for row in grid]
