"""What the report page draws, as plain data: the three tables laid out like the template (with the
cells a failed check names marked), the text diff between revisions, and the agency chart as SVG."""

from __future__ import annotations

import difflib
import html
from dataclasses import dataclass, field

from archive.parser import layout as L
from archive.parser import names
from archive.parser.layout import COLUMN_NAMES


@dataclass
class Grid:
    """A table as rows of cells; ``bad`` marks cells a failed check names."""

    title: str
    header: list[list[tuple[str, int, int]]]  # rows of (text, colspan, rowspan)
    # (label, indent, cells); a group row (三、本年度办理结果, （三）不予公开 …) has cells None: a label over its items
    rows: list[tuple[str, int, list[dict] | None]] = field(default_factory=list)
    width: int = 0  # columns in all, label column included (a group row spans them)


def _cell(cells: dict, key: tuple, bad: set) -> dict:
    c = cells.get(key)
    text = "" if c is None else (c["raw"] if c.get("value") is None else _fmt(c["value"]))
    return {"text": text, "bad": key in bad, "recovered": bool(c and c.get("recovered")), "missing": c is None}


def _fmt(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def failed_cells(report: dict) -> set[tuple[str, str, str]]:
    """(table, row, column) of every cell a failed check is about."""
    out: set[tuple[str, str, str]] = set()
    rows = [r.id for r in (*L.APPLICATION_ROWS_HEAD, L.APPLICATION_ROW_2019_OTHER, *L.APPLICATION_ROWS_2021_OTHER,
                           *L.APPLICATION_ROWS_TAIL)]
    for chk in report.get("checks", []):
        if chk.get("ok"):
            continue
        parts = chk["rule"].split(".")
        if parts[:2] in (["applications", "balance"], ["applications", "outcomes"]) and len(parts) == 3:
            out |= {("applications", r, parts[2]) for r in rows}
        elif parts[:2] == ["applications", "row_total"] and len(parts) >= 3:
            row = ".".join(parts[2:])
            out |= {("applications", row, c) for c in L.APPLICATION_COLUMNS}
        elif parts[:2] == ["review_litigation", "total"] and len(parts) == 3:
            out |= {("review_litigation", parts[2], c) for c in L.REVIEW_COLUMNS}
        elif parts[:2] in (["text", "applications_received"], ["cross_year", "carried_over"]):
            out.add(("applications", "1" if parts[1] == "applications_received" else "2",
                     parts[2] if len(parts) > 2 else "total"))
    return out


# The template's group rows of table 三, each drawn above the row it heads (the same in 2019 and 2021, but
# for （六）, a group over three rows in 2021 and a row of its own in 2019).
APPLICATION_GROUPS = {"3.1": ("三、本年度办理结果", 0), "3.3.1": ("（三）不予公开", 1), "3.4.1": ("（四）无法提供", 1),
                      "3.5.1": ("（五）不予处理", 1), "3.6.1": ("（六）其他处理", 1)}


def other_rows(report: dict, rows: set[str]) -> tuple:
    """Table 三's （六） as the report has it: the 2019 single row, or the 2021 three; by the cells the report
    holds, and by its template when it holds neither."""
    single = "3.6" in rows
    split = any(r.startswith("3.6.") for r in rows)
    if single != split:
        return (L.APPLICATION_ROW_2019_OTHER,) if single else L.APPLICATION_ROWS_2021_OTHER
    return (L.APPLICATION_ROW_2019_OTHER,) if report.get("template") == "2019" else L.APPLICATION_ROWS_2021_OTHER


def application_rows(report: dict, cells: dict, bad: set) -> list[tuple[str, int, list[dict] | None]]:
    """Table 三 as the template lays it out, group rows included; a row the report holds that the layout has
    no place for (both forms of （六）, say) follows, under its id, so no value the data has goes unshown."""
    held = {k[1] for k in cells if k[0] == "applications"}
    specs = (*L.APPLICATION_ROWS_HEAD, *other_rows(report, held), *L.APPLICATION_ROWS_TAIL)
    out: list[tuple[str, int, list[dict] | None]] = []
    for spec in specs:
        if spec.id in APPLICATION_GROUPS:
            out.append((*APPLICATION_GROUPS[spec.id], None))
        indent = spec.id.count(".") if spec.id.startswith("3.") else 0
        out.append((spec.label, indent, [_cell(cells, ("applications", spec.id, c), bad)
                                         for c in L.APPLICATION_COLUMNS]))
    placed = {s.id for s in specs}
    labels = {s.id: ("（六）其他处理 " if s.id.startswith("3.6.") else "") + s.label
              for s in (L.APPLICATION_ROW_2019_OTHER, *L.APPLICATION_ROWS_2021_OTHER)}
    for row in sorted(held - placed):
        out.append((labels.get(row, row), 1, [_cell(cells, ("applications", row, c), bad)
                                              for c in L.APPLICATION_COLUMNS]))
    return out


def grids(report: dict) -> list[Grid]:
    """Tables 二, 三 and 四 of the report, in the template's layout (only the tables it has)."""
    cells = {(c["table"], c["row"], c["column"]): c for c in report.get("cells", [])}
    bad = failed_cells(report)
    template = "2019" if report.get("template") == "2019" else "2021"
    out = []
    if any(k[0] == "active" for k in cells):
        g = Grid("二、主动公开政府信息情况", [[("信息内容", 1, 1), ("", 3, 1)]])
        for spec in L.ACTIVE_ROWS[template]:
            g.rows.append((spec.label, 0, [{**_cell(cells, ("active", spec.id, col), bad),
                                            "label": COLUMN_NAMES.get(col, col)} for col in spec.columns]))
        out.append(g)
    if any(k[0] == "applications" for k in cells):
        head = [[("", 1, 3), ("申请人情况", 7, 1)],
                [("自然人", 1, 2), ("法人或其他组织", 5, 1), ("总计", 1, 2)],
                [(COLUMN_NAMES[c], 1, 1) for c in L.APPLICANT_COLUMNS[1:]]]
        g = Grid("三、收到和处理政府信息公开申请情况", head, width=1 + len(L.APPLICATION_COLUMNS))
        g.rows = application_rows(report, cells, bad)
        out.append(g)
    if any(k[0] == "review_litigation" for k in cells):
        names = [COLUMN_NAMES.get(c, c) for c in L.REVIEW_COLUMNS]
        head = [[("行政复议", 5, 1), ("行政诉讼", 10, 1)],
                [("", 5, 1), ("未经复议直接起诉", 5, 1), ("复议后起诉", 5, 1)],
                [(n, 1, 1) for n in names * 3]]
        g = Grid("四、政府信息公开行政复议、行政诉讼情况", head)
        g.rows.append(("", 0, [_cell(cells, ("review_litigation", grp, c), bad)
                               for grp in L.REVIEW_ROWS for c in L.REVIEW_COLUMNS]))
        out.append(g)
    return out


def _squeeze(line: str) -> str:
    return "".join(line.split())


def text_diff(old: str, new: str, context: int = 2) -> list[tuple[str, str]]:
    """Changed lines between two revisions' texts: ("-" | "+" | " " | "@", line). Lines are compared with
    their whitespace removed and blank lines left out, so a re-wrapped or re-spaced text (a PDF and its DOCX,
    a re-export) shows only what was reworded."""
    a = [ln for ln in old.splitlines() if _squeeze(ln)]
    b = [ln for ln in new.splitlines() if _squeeze(ln)]
    out: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(None, [_squeeze(x) for x in a], [_squeeze(x) for x in b], autojunk=False)
    for group in matcher.get_grouped_opcodes(context):
        out.append(("@", f"第 {group[0][1] + 1} 行起"))
        for op, i1, i2, j1, j2 in group:
            if op == "equal":
                out += [(" ", ln) for ln in b[j1:j2]]
                continue
            out += [("-", ln) for ln in a[i1:i2]]
            out += [("+", ln) for ln in b[j1:j2]]
    return out


def cell_changes(old: dict, new: dict) -> list[dict]:
    """The cells whose value differs between two revisions (one side may lack the cell), in table order,
    with the template's wording of each."""
    out = []
    for key in sorted(set(old) | set(new)):
        if old.get(key) == new.get(key):
            continue
        table, row, column = key
        out.append({"table": table, "row": row, "column": column, "old": old.get(key), "new": new.get(key),
                    "where": " · ".join(x for x in (names.table_label(table)[:2].rstrip("、"),
                                                     names.group_label(table, row), names.row_label(table, row),
                                                     names.column_label(column)) if x)})
    return out


SERIES = (("applications", "1", "total", "本年新收申请", "#1f6feb"),
          ("applications", "3.1", "total", "予以公开", "#2da44e"),
          ("review_litigation", "review", "total", "行政复议", "#cf222e"),
          ("review_litigation", "litigation_direct", "total", "行政诉讼（直接起诉）", "#8250df"))


def chart_svg(points: dict[int, dict[tuple[str, str, str], float]], width: int = 640, height: int = 240) -> str:
    """A line chart of the key figures over the years, as inline SVG (no script, no CDN)."""
    years = sorted(points)
    if not years:
        return ""
    values = [points[y].get(s[:3]) for y in years for s in SERIES]
    top = max([v for v in values if isinstance(v, (int, float))] or [1]) or 1
    left, right, topm, bottom = 48, 12, 16, 40
    w, h = width - left - right, height - topm - bottom

    def x(i: int) -> float:
        return left + (w * i / max(1, len(years) - 1) if len(years) > 1 else w / 2)

    def y(v: float) -> float:
        return topm + h - h * v / top

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="关键数据逐年变化" class="chart">',
             f'<line x1="{left}" y1="{topm + h}" x2="{left + w}" y2="{topm + h}" stroke="#888"/>',
             f'<text x="{left - 6}" y="{topm + 4}" text-anchor="end" font-size="11">{_fmt(top)}</text>',
             f'<text x="{left - 6}" y="{topm + h}" text-anchor="end" font-size="11">0</text>']
    for i, yr in enumerate(years):
        parts.append(f'<text x="{x(i):.1f}" y="{topm + h + 16}" text-anchor="middle" font-size="11">{yr}</text>')
    for k, (t, r, c, label, color) in enumerate(SERIES):
        pts = [(x(i), y(points[yr][(t, r, c)])) for i, yr in enumerate(years)
               if isinstance(points[yr].get((t, r, c)), (int, float))]
        if len(pts) > 1:
            d = " ".join(f"{px:.1f},{py:.1f}" for px, py in pts)
            parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{d}"/>')
        for px, py in pts:
            parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{color}"/>')
        parts.append(f'<rect x="{left + k * 150}" y="{height - 14}" width="10" height="10" fill="{color}"/>'
                     f'<text x="{left + k * 150 + 14}" y="{height - 5}" font-size="11">{html.escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)
