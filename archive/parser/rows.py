"""Table rows from any source: a grid's rows, or text lines however extraction laid them out.

Text comes in three shapes (see the seeds): one cell per line with blank lines between rows (Word
text), tab-separated rows (PDF text), and lines where cells ran together (``…申请数量801000081``,
``3700000372.没有现成…``). All three become the same thing: label segments, each followed by the
value tokens that belong to it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from archive.extract.grid import Grid, clean
from archive.parser.values import Token, classify

CJK = re.compile(r"[\u4e00-\u9fff]")
# A digit run glued to the item number of the next label: "…政府信息 3700000372.没有现成…".
GLUED_NUMBERING = re.compile(r"(\d+)\s*[.．、]\s*(?=[\u4e00-\u9fff])")
# Item numbers that start a label: "1." "2、" "（一）".
LEADING_NUMBERING = re.compile(r"^\s*\d{1,2}\s*[.．、]\s*(?=[\u4e00-\u9fff“\"])")
# An item number inside a cell starts a new label: "三、本年度办理结果（一）予以公开".
CJK_NUMBERING = re.compile(r"[（(][一二三四五六七八九十]{1,2}[）)]|[一二三四五六七八九十]{1,2}、")
NUMBER_RUN = re.compile(r"[-−]?\d+(?:\.\d+)?(?:万元|元)?")
# A number directly followed by one of these is prose or a date ("4年", "20个工作日"), not a cell.
NOT_A_CELL = re.compile(r"\s*[年月日号条个人次批份项名家亿%％]")


@dataclass
class SourceRow:
    """One row of a table as found: label segments (as written) and its value tokens."""

    segments: list[str] = field(default_factory=list)
    tokens: list[Token] = field(default_factory=list)
    recovered: str | None = None

    @property
    def own(self) -> str:
        """The deepest label: the segment nearest the values."""
        return self.segments[-1] if self.segments else ""

    @property
    def context(self) -> str:
        return "".join(self.segments)


def _pieces(cell: str) -> list[tuple[str, str]]:
    """Split one cell's text into ("label", text) and ("num", raw) pieces, in order."""
    text = unicodedata.normalize("NFKC", cell)
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        glued = GLUED_NUMBERING.match(text, pos)
        if glued and (pos == 0 or not text[pos - 1].isdigit()):
            run = glued.group(1)
            if len(run) > 2 or (len(run) == 2 and run[0] == "0"):
                out.append(("num", run[:-1]))  # the last digit numbers the next label
                out.append(("start", run[-1] + "."))
            else:
                out.append(("start", run + "."))
            pos = glued.end()
            continue
        item = CJK_NUMBERING.match(text, pos)
        if item and pos > 0:
            out.append(("start", item.group(0)))
            pos = item.end()
            continue
        num = NUMBER_RUN.match(text, pos)
        # A minus sign after digits starts a new (negative) cell: 2019's 本年增/减 glued as "12-7".
        if num and (pos == 0 or not text[pos - 1].isdigit() or text[pos] in "-−"):
            if NOT_A_CELL.match(text, num.end()) and not num.group(0).endswith("元"):
                out.append(("label", num.group(0)))
            else:
                out.append(("num", num.group(0)))
            pos = num.end()
            continue
        # text up to the next digit
        nxt = pos + 1
        while nxt < len(text) and not text[nxt].isdigit() and text[nxt] not in "-−":
            nxt += 1
        out.append(("label", text[pos:nxt]))
        pos = nxt
    # Label text joins the label before it, except after an item number, which starts a new label.
    merged: list[tuple[str, str]] = []
    for kind, value in out:
        if kind == "label" and merged and merged[-1][0] in ("label", "start"):
            merged[-1] = ("label" if merged[-1][0] == "label" else "new", merged[-1][1] + value)
        else:
            merged.append(("new" if kind == "start" else kind, value))
    return merged


def _meaningful(label: str) -> bool:
    return bool(CJK.search(label))


def rows_from_text(text: str) -> list[SourceRow]:
    """Rows from extracted text: every label starts a row, values attach to the label before them.

    A label that follows a label with no values yet continues it (a label broken over lines, a group
    label above its items); the deepest segment is kept apart so the row is matched by it first.
    """
    rows: list[SourceRow] = []
    current = SourceRow()
    for line in text.splitlines():
        for cell in line.split("\t"):
            cell = clean(cell)
            if not cell:
                continue
            parts = [p for p in cell.split(" ") if p]
            kinds = [classify(p) for p in parts]
            if all(k in ("number", "blank") for k in kinds):
                current.tokens.extend(Token(p, k) for p, k in zip(parts, kinds, strict=True))
                continue
            for n, (piece_kind, value) in enumerate(_pieces(cell)):
                if piece_kind == "num":
                    current.tokens.append(Token(value, "number"))
                elif _meaningful(value) or value.strip().rstrip(".").isdigit():
                    if current.tokens:
                        rows.append(current)
                        current = SourceRow()
                    if piece_kind == "label" and n > 0 and current.segments:
                        current.segments[-1] += value.strip()  # the same label, after a number in it
                    else:
                        current.segments.append(value.strip())
    if current.segments or current.tokens:
        rows.append(current)
    return rows


def rows_from_grid(grid: Grid, data_cols: dict[int, str] | None = None) -> list[SourceRow]:
    """Rows of a grid. With ``data_cols`` (column index -> column id), cells there are values (an empty
    one is a blank cell) and the others labels; without, any cell that reads as a number is a value."""
    rows: list[SourceRow] = []
    for grid_row in grid:
        row = SourceRow()
        for j, cell in enumerate(grid_row):
            if cell is None:
                continue
            text = clean(cell.text)
            row.recovered = row.recovered or cell.recovered
            if data_cols is not None:
                if j in data_cols:
                    kind = classify(text)
                    row.tokens.append(Token(text, kind if kind != "text" else "text", col=j, recovered=cell.recovered))
                elif text:
                    row.segments.append(text)
                continue
            kind = classify(text)
            if kind in ("number", "blank"):
                row.tokens.append(Token(text, kind, col=j, recovered=cell.recovered))
            elif text:
                row.segments.append(text)
        rows.append(row)
    return rows
