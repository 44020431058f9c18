"""What the agency page draws, as plain data: the three tables with the agency's years side by side, each
value marked with its change from the year before, laid out in the template's order."""

from __future__ import annotations

from dataclasses import dataclass, field

from archive.parser import layout as L
from archive.parser.layout import COLUMN_NAMES
from archive.web.report_view import APPLICATION_GROUPS


@dataclass
class YearGrid:
    """One table: a row per (row, column) of the template that any year holds, a column per year."""

    title: str
    note: str = ""
    # (label, indent, cells per year); a group row has cells None
    rows: list[tuple[str, int, list[dict] | None]] = field(default_factory=list)


def _fmt(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _line(values: dict, years: list[int], key: tuple) -> list[dict] | None:
    """The cells of one line across the years, each with its change from the previous year that has one."""
    if not any((y, *key) in values for y in years):
        return None
    out, before = [], None
    for y in years:
        if (y, *key) not in values:
            out.append({"text": "", "missing": True, "delta": None})
            continue
        v = values[(y, *key)]
        delta = None
        if isinstance(v, (int, float)) and isinstance(before, (int, float)) and v != before:
            delta = ("+" if v > before else "−") + _fmt(abs(v - before))
        out.append({"text": "—" if v is None else _fmt(v), "missing": False, "delta": delta})
        before = v
    return out


def year_grids(years: list[int], cells: list[dict], column: str = "total") -> list[YearGrid]:
    """Tables 二, 三 (one applicant column, ``column``) and 四, the years side by side; lines no year holds
    are left out. ``cells`` carry year, table, row, column and value."""
    values = {(c["year"], c["table"], c["row"], c["column"]): c["value"] for c in cells}
    out = []
    g = YearGrid("二、主动公开政府信息情况")
    seen: set[tuple[str, str]] = set()
    for spec in (*L.ACTIVE_ROWS["2021"], *L.ACTIVE_ROWS["2019"]):
        for col in spec.columns:
            if (spec.id, col) in seen:
                continue
            seen.add((spec.id, col))
            if line := _line(values, years, ("active", spec.id, col)):
                g.rows.append((f"{spec.label} · {COLUMN_NAMES.get(col, col)}", 0, line))
    out.append(g)
    g = YearGrid("三、收到和处理政府信息公开申请情况", note=f"申请人：{COLUMN_NAMES.get(column, column)}")
    specs = (*L.APPLICATION_ROWS_HEAD, L.APPLICATION_ROW_2019_OTHER, *L.APPLICATION_ROWS_2021_OTHER,
             *L.APPLICATION_ROWS_TAIL)
    for spec in specs:
        line = _line(values, years, ("applications", spec.id, column))
        if spec.id in APPLICATION_GROUPS and (line or spec.id == "3.1"):
            g.rows.append((*APPLICATION_GROUPS[spec.id], None))
        if line and spec.id == "3.6":  # the 2019 template's single （六）, above the 2021 template's three
            g.rows.append(("（六）其他处理（2019 年模板）", 1, line))
        elif line:
            indent = spec.id.count(".") if spec.id.startswith("3.") else 0
            g.rows.append((spec.label, indent, line))
    out.append(g)
    g = YearGrid("四、政府信息公开行政复议、行政诉讼情况")
    groups = {"review": "行政复议", "litigation_direct": "行政诉讼·未经复议直接起诉",
              "litigation_after_review": "行政诉讼·复议后起诉"}
    for row in L.REVIEW_ROWS:
        for col in L.REVIEW_COLUMNS:
            if line := _line(values, years, ("review_litigation", row, col)):
                g.rows.append((f"{groups[row]} · {COLUMN_NAMES.get(col, col)}", 0, line))
    out.append(g)
    return [g for g in out if any(cells for _, _, cells in g.rows)]
