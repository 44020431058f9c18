"""Generated annual reports with known numbers, in every form agencies publish them.

Numbers satisfy the template's identities (row totals, 一+二 = (七)+四, (七) = sum of outcomes, 复议
totals), unless a break is asked for, in which case the expected failed checks are computed here,
independently of the parser. Forms: DOCX with the template's merged cells, HTML with rowspan/colspan,
GBK HTML without a charset, text as Word, PDF and flattening tools leave it, and through LibreOffice
PDF, DOC and WPS; a scanned PDF is rendered from the PDF with tilt and noise.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import os
import random
import shutil
import subprocess
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from archive.parser import layout as L

CITIES = "东西南北中上下前后左右新老大小长平安宁和顺"
DEPTS = ("信访局", "司法局", "财政局", "民政局", "教育局", "卫生健康委员会", "生态环境局", "交通运输局")
APPLICANT_HEADERS = ("自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计")
REVIEW_LEAVES = ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")
ACTIVE_HEADER_WORDS = {
    "issued": "本年制发件数", "repealed": "本年废止件数", "in_force": "现行有效件数", "decisions": "本年处理决定数量",
    "fee_amount": "本年收费金额（单位：万元）", "new_made": "本年新制作数量", "new_published": "本年新公开数量",
    "total_published": "对外公开总数量", "prev_year_items": "上一年项目数量", "change": "本年增/减",
    "procurement_items": "采购项目数量", "procurement_amount": "采购总金额",
}
DECISIONS_2019 = "处理决定数量"
BLOCKS = {  # table 二: (block heading, rows) in template order
    "2021": (("第二十条第（一）项", ("rules", "normative_docs")), ("第二十条第（五）项", ("licensing",)),
             ("第二十条第（六）项", ("penalty", "enforcement")), ("第二十条第（八）项", ("fees",))),
    "2019": (("第二十条第（一）项", ("rules", "normative_docs")),
             ("第二十条第（五）项", ("licensing", "other_services")),
             ("第二十条第（六）项", ("penalty", "enforcement")), ("第二十条第（八）项", ("fees",)),
             ("第二十条第（九）项", ("procurement",))),
}


@dataclass
class GenReport:
    agency: str
    year: int
    template: str
    active: dict[tuple[str, str], object] = field(default_factory=dict)
    applications: dict[tuple[str, str], int] = field(default_factory=dict)
    review: dict[tuple[str, str], int] = field(default_factory=dict)
    prose_received: int = 0
    blanks: set[tuple[str, str, str]] = field(default_factory=set)  # cells written as "/"
    padding: int = 0  # extra paragraphs of prose in section 一 (for page-count benchmarks)

    @property
    def title(self) -> str:
        return f"{self.agency}{self.year}年度政府信息公开工作年度报告"

    @property
    def app_rows(self) -> list[L.RowSpec]:
        other = list(L.APPLICATION_ROWS_2021_OTHER) if self.template == "2021" else [L.APPLICATION_ROW_2019_OTHER]
        return [*L.APPLICATION_ROWS_HEAD, *other, *L.APPLICATION_ROWS_TAIL]

    def expected_cells(self) -> dict[tuple[str, str, str], object]:
        out: dict[tuple[str, str, str], object] = {}
        for table, values in (("active", self.active), ("applications", self.applications),
                              ("review_litigation", self.review)):
            for (row, col), v in values.items():
                out[(table, row, col)] = None if (table, row, col) in self.blanks else v
        return out

    def expected_failures(self) -> set[str]:
        """Rules that fail on these numbers, computed here from the definitions in the spec."""
        a = {k: v for k, v in self.applications.items() if ("applications", *k) not in self.blanks}
        fails = set()
        outcomes = [r.id for r in self.app_rows if r.id.startswith("3.") and r.id != "3.7"]
        for col in L.APPLICATION_COLUMNS:
            cells = [a.get((r, col)) for r in ("1", "2", "3.7", "4")]
            if None not in cells and cells[0] + cells[1] != cells[2] + cells[3]:
                fails.add(f"applications.balance.{col}")
            parts = [a.get((r, col)) for r in outcomes]
            if a.get(("3.7", col)) is not None and None not in parts and sum(parts) != a[("3.7", col)]:
                fails.add(f"applications.outcomes.{col}")
        for r in self.app_rows:
            parts = [a.get((r.id, c)) for c in L.APPLICANT_COLUMNS]
            if a.get((r.id, "total")) is not None and None not in parts and sum(parts) != a[(r.id, "total")]:
                fails.add(f"applications.row_total.{r.id}")
        for g in L.REVIEW_ROWS:
            vals = [self.review[(g, c)] for c in L.REVIEW_COLUMNS]
            if sum(vals[:4]) != vals[4]:
                fails.add(f"review_litigation.total.{g}")
        if self.prose_received != a.get(("1", "total")) and \
                self.prose_received != (a.get(("1", "total"), 0) + a.get(("2", "total"), 0)):
            fails.add("text.applications_received")
        if self.blanks:
            fails |= {f"structure.blank_cells.{t}" for t, _, _ in self.blanks}
        return fails


def agency_name(seed: int) -> str:
    return f"{CITIES[seed % 20]}{CITIES[(seed // 20) % 20]}{CITIES[(seed // 400) % 20]}市{DEPTS[seed % len(DEPTS)]}"


def generate(seed: int, template: str | None = None, breaks: tuple[str, ...] = (), blanks: int = 0,
             scale: int = 30, *, year: int | None = None, agency: str | None = None) -> GenReport:
    """A report whose numbers keep every identity, then the asked ``breaks``:
    ``review:<row>``, ``balance:<col>``, ``outcomes:<col>``, ``text``. The template follows the year
    (2019 and 2020 reports use the 2019 template) unless given."""
    rng = random.Random(seed)
    if template is None:
        template = "2021" if (year or 2021) >= 2021 else "2019"
    rep = GenReport(agency or agency_name(seed), year or (2021 if template == "2021" else 2020), template)
    rows = rep.app_rows
    outcome_ids = [r.id for r in rows if r.id.startswith("3.") and r.id != "3.7"]
    for ci, col in enumerate(L.APPLICANT_COLUMNS):
        top = scale if ci == 0 else max(2, scale // 8)
        for rid in outcome_ids:
            rep.applications[(rid, col)] = rng.choice([0, 0, rng.randint(0, top)])
        t = sum(rep.applications[(r, col)] for r in outcome_ids)
        rep.applications[("3.7", col)] = t
        carried_in, carried_out = rng.randint(0, 3), rng.randint(0, 3)
        new = t + carried_out - carried_in
        if new < 0:
            carried_in += new
            new = 0
        rep.applications[("1", col)], rep.applications[("2", col)] = new, carried_in
        rep.applications[("4", col)] = carried_out
    for r in rows:
        rep.applications[(r.id, "total")] = sum(rep.applications[(r.id, c)] for c in L.APPLICANT_COLUMNS)
    for g in L.REVIEW_ROWS:
        vals = [rng.choice([0, rng.randint(0, 9)]) for _ in range(4)]
        for c, v in zip(L.REVIEW_COLUMNS, [*vals, sum(vals)], strict=True):
            rep.review[(g, c)] = v
    for spec in L.ACTIVE_ROWS[template]:
        for col in spec.columns:
            if col in L.MONEY_COLUMNS:
                v: object = round(rng.randint(0, 99999) / 100, 2) if rng.random() < 0.7 else 0
            elif col in L.SIGNED_COLUMNS:
                v = rng.randint(-9, 20)
            else:
                v = rng.randint(0, 300) if rng.random() < 0.6 else 0
            rep.active[(spec.id, col)] = v
    rep.prose_received = rep.applications[("1", "total")]
    for b in breaks:
        kind, _, arg = b.partition(":")
        if kind == "review":
            rep.review[(arg, "total")] += 1
        elif kind in ("balance", "outcomes"):
            row = "4" if kind == "balance" else rows[2].id  # a carry-over, or an outcome row
            rep.applications[(row, arg)] += 1
            rep.applications[(row, "total")] += 1
        elif kind == "text":
            rep.prose_received += 7
    for _ in range(blanks):
        r = rng.choice(rows[2:-2]).id
        rep.blanks.add(("applications", r, rng.choice(L.APPLICANT_COLUMNS[1:])))
    return rep


# -- shared pieces ------------------------------------------------------------------------------

def _fmt(v: object) -> str:
    if isinstance(v, float):
        return f"{v:.2f}".rstrip("0").rstrip(".") if v != int(v) else str(int(v))
    return str(v)


def _cell(rep: GenReport, table: str, row: str, col: str) -> str:
    if (table, row, col) in rep.blanks:
        return "/"
    values = {"active": rep.active, "applications": rep.applications, "review_litigation": rep.review}[table]
    return _fmt(values[(row, col)])


def prose(rep: GenReport) -> dict[str, list[str]]:
    return {
        "一": ["一、总体情况",
               f"{rep.year}年，{rep.agency}认真贯彻落实《中华人民共和国政府信息公开条例》，坚持以公开为常态、不公开为例外。",
               f"（一）主动公开。全年通过门户网站主动公开政府信息{(zlib.crc32(rep.agency.encode()) % 400) + 50}条。",
               f"（二）依申请公开。{rep.year}年共收到政府信息公开申请{rep.prose_received}件，均按时答复。",
               "（三）政府信息管理。严格落实保密审查制度。", "（四）政府信息公开平台建设。持续优化门户网站栏目。",
               "（五）监督保障。将政务公开纳入年度考核。",
               *[f"{i + 1}. 围绕重点领域信息公开，持续推进决策、执行、管理、服务、结果公开，及时回应社会关切，"
                 f"进一步提升政务公开的标准化、规范化水平，全年累计开展专题培训{i % 7 + 1}次。" * 3
                 for i in range(rep.padding)]],
        "五": ["五、存在的主要问题及改进情况",
               "一是公开内容的深度有待加强；二是工作人员业务能力有待提升。下一步将加强培训，提高公开质量。"],
        "六": ["六、其他需要报告的事项", "本年度未收取信息处理费。"],
    }


def active_header(rep: GenReport, spec: L.RowSpec) -> list[str]:
    words = [ACTIVE_HEADER_WORDS[c] for c in spec.columns]
    if rep.template == "2019":
        words = [DECISIONS_2019 if c == "decisions" else w for c, w in zip(spec.columns, words, strict=True)]
    return words


def _active_specs(rep: GenReport) -> dict[str, L.RowSpec]:
    return {s.id: s for s in L.ACTIVE_ROWS[rep.template]}


# -- DOCX -----------------------------------------------------------------------------------------

def to_docx(rep: GenReport) -> bytes:
    """Word's layout of the national template, merged cells and all."""
    from docx import Document
    from docx.oxml.ns import qn

    doc = Document()

    def para(text: str, font: str = "仿宋_GB2312") -> None:
        run = doc.add_paragraph().add_run(text)
        run.font.name = font
        run._element.rPr.rFonts.set(qn("w:eastAsia"), font)

    grids: dict[int, list] = {}

    def at(tbl, r, c):
        # Table.cell() rebuilds the whole cell grid on every call (2 s a document); keep it until a merge
        # changes it. _cells and _column_count are what Table.cell itself uses.
        if id(tbl) not in grids:
            grids[id(tbl)] = tbl._cells
        return grids[id(tbl)][c + r * tbl._column_count]

    def put(tbl, r, c, text, r2=None, c2=None):
        cell = at(tbl, r, c)
        if r2 is not None or c2 is not None:
            cell = cell.merge(at(tbl, r if r2 is None else r2, c if c2 is None else c2))
            grids.pop(id(tbl), None)
        cell.text = text

    para(rep.title, "方正小标宋简体")
    texts = prose(rep)
    for line in texts["一"]:
        para(line)
    para("二、主动公开政府信息情况", "黑体")
    specs = _active_specs(rep)
    blocks = BLOCKS[rep.template]
    nrows = sum(2 + len(rows) for _, rows in blocks)
    t2 = doc.add_table(rows=nrows, cols=4)
    t2.style = "Table Grid"
    r = 0
    for heading, rows in blocks:
        put(t2, r, 0, heading, c2=3)
        header = active_header(rep, specs[rows[0]])
        put(t2, r + 1, 0, "信息内容")
        _spread(put, t2, r + 1, header)
        for k, rid in enumerate(rows):
            put(t2, r + 2 + k, 0, specs[rid].label)
            _spread(put, t2, r + 2 + k, [_cell(rep, "active", rid, c) for c in specs[rid].columns])
        r += 2 + len(rows)
    para("三、收到和处理政府信息公开申请情况", "黑体")
    rows = rep.app_rows
    t3 = doc.add_table(rows=3 + len(rows), cols=10)
    t3.style = "Table Grid"
    put(t3, 0, 0, "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", 2, 2)
    put(t3, 0, 3, "申请人情况", c2=9)
    put(t3, 1, 3, "自然人", r2=2)
    put(t3, 1, 4, "法人或其他组织", c2=8)
    put(t3, 1, 9, "总计", r2=2)
    for k, h in enumerate(APPLICANT_HEADERS[1:6]):
        put(t3, 2, 4 + k, h)
    groups = _label_groups(rows)
    for i, (l1, l2, l3) in enumerate(groups):
        rr = 3 + i
        if l1 is not None and l2 is None:
            put(t3, rr, 0, l1, c2=2)
        elif l1 is not None:
            put(t3, rr, 0, l1, r2=rr + _run(groups, i, lambda g: g[0] is None) - 1)
        if l2 and l3 is None:
            put(t3, rr, 1, l2, c2=2)
        elif l2:
            put(t3, rr, 1, l2, r2=rr + _run(groups, i, lambda g: g[1] == "") - 1)
        if l3 is not None:
            put(t3, rr, 2, l3)
        for k, col in enumerate(L.APPLICATION_COLUMNS):
            put(t3, rr, 3 + k, _cell(rep, "applications", rows[i].id, col))
    para("四、政府信息公开行政复议、行政诉讼情况", "黑体")
    t4 = doc.add_table(rows=4, cols=15)
    t4.style = "Table Grid"
    put(t4, 0, 0, "行政复议", c2=4)
    put(t4, 0, 5, "行政诉讼", c2=14)
    for k, h in enumerate(REVIEW_LEAVES):
        put(t4, 1, k, h, r2=2)
    put(t4, 1, 5, "未经复议直接起诉", c2=9)
    put(t4, 1, 10, "复议后起诉", c2=14)
    for k in range(10):
        put(t4, 2, 5 + k, REVIEW_LEAVES[k % 5])
    for k, (g, c) in enumerate((g, c) for g in L.REVIEW_ROWS for c in L.REVIEW_COLUMNS):
        put(t4, 3, k, _cell(rep, "review_litigation", g, c))
    for key in ("五", "六"):
        for line in texts[key]:
            para(line)
    out = io.BytesIO()
    doc.core_properties.created = doc.core_properties.modified = dt.datetime(2020, 1, 1)
    doc.save(out)
    return _fixed_zip_times(out.getvalue())


def _fixed_zip_times(data: bytes) -> bytes:
    """The same zip with every member dated 1980-01-01: the same report gives the same bytes, so the
    LibreOffice conversions cached by content are found again."""
    import zipfile

    src, dst = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(zipfile.ZipInfo(info.filename, (1980, 1, 1, 0, 0, 0)), src.read(info),
                       compress_type=zipfile.ZIP_DEFLATED)
    return dst.getvalue()


def _run(groups: list, i: int, covered) -> int:
    """How many rows a label starting at row ``i`` spans: itself and the covered rows after it."""
    n = 1
    while i + n < len(groups) and covered(groups[i + n]):
        n += 1
    return n


def _spread(put, tbl, r: int, values: list[str]) -> None:
    """Values over columns 1-3 of table 二: one value spans all three, two split them 1 + 2."""
    if len(values) == 1:
        put(tbl, r, 1, values[0], c2=3)
    elif len(values) == 2:
        put(tbl, r, 1, values[0])
        put(tbl, r, 2, values[1], c2=3)
    else:
        for k, v in enumerate(values):
            put(tbl, r, 1 + k, v)


def _label_groups(rows: list[L.RowSpec]) -> list[tuple[str | None, str | None, str | None]]:
    """(level 1, level 2, level 3) label cells per row of table 三; None where a merge covers it,
    "" for a level-2 cell covered by the group above."""
    out = []
    group_words = {"3.3": "（三）不予公开", "3.4": "（四）无法提供", "3.5": "（五）不予处理", "3.6": "（六）其他处理"}
    seen1, seen2 = False, set()
    for r in rows:
        if r.id in ("1", "2", "4"):
            out.append((r.label, None, None))
        elif r.id in ("3.1", "3.2", "3.7", "3.6"):
            l1 = None if seen1 else "三、本年度办理结果"
            seen1 = True
            out.append((l1, r.label, None))
        else:
            group = r.id.rsplit(".", 1)[0]
            l1 = None if seen1 else "三、本年度办理结果"
            seen1 = True
            l2 = "" if group in seen2 else group_words[group]
            seen2.add(group)
            out.append((l1, l2, r.label))
    return out


# -- HTML -----------------------------------------------------------------------------------------

def report_html(rep: GenReport) -> str:
    """The report as an article's HTML: paragraphs and the three tables with rowspan/colspan."""
    e = html.escape
    specs = _active_specs(rep)
    t2 = []
    for heading, rows in BLOCKS[rep.template]:
        t2.append(f'<tr><td colspan="4">{e(heading)}</td></tr>')
        header = active_header(rep, specs[rows[0]])
        t2.append("<tr><td>信息内容</td>" + _html_spread(header) + "</tr>")
        for rid in rows:
            vals = [_cell(rep, "active", rid, c) for c in specs[rid].columns]
            t2.append(f"<tr><td>{e(specs[rid].label)}</td>" + _html_spread(vals) + "</tr>")
    rows = rep.app_rows
    t3 = ['<tr><td colspan="3" rowspan="3">（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）</td>'
          '<td colspan="7">申请人情况</td></tr>',
          '<tr><td rowspan="2">自然人</td><td colspan="5">法人或其他组织</td><td rowspan="2">总计</td></tr>',
          "<tr>" + "".join(f"<td>{h}</td>" for h in APPLICANT_HEADERS[1:6]) + "</tr>"]
    groups = _label_groups(rows)
    for i, (l1, l2, l3) in enumerate(groups):
        cells = []
        if l1 is not None and l2 is None:
            cells.append(f'<td colspan="3">{e(l1)}</td>')
        elif l1 is not None:
            cells.append(f'<td rowspan="{_run(groups, i, lambda g: g[0] is None)}">{e(l1)}</td>')
        if l2 and l3 is None:
            cells.append(f'<td colspan="2">{e(l2)}</td>')
        elif l2:
            cells.append(f'<td rowspan="{_run(groups, i, lambda g: g[1] == "")}">{e(l2)}</td>')
        if l3 is not None:
            cells.append(f"<td>{e(l3)}</td>")
        cells += [f"<td>{_cell(rep, 'applications', rows[i].id, c)}</td>" for c in L.APPLICATION_COLUMNS]
        t3.append("<tr>" + "".join(cells) + "</tr>")
    t4 = ['<tr><td colspan="5">行政复议</td><td colspan="10">行政诉讼</td></tr>',
          "<tr>" + "".join(f'<td rowspan="2">{h}</td>' for h in REVIEW_LEAVES)
          + '<td colspan="5">未经复议直接起诉</td><td colspan="5">复议后起诉</td></tr>',
          "<tr>" + "".join(f"<td>{h}</td>" for h in REVIEW_LEAVES * 2) + "</tr>",
          "<tr>" + "".join(f"<td>{_cell(rep, 'review_litigation', g, c)}</td>"
                           for g in L.REVIEW_ROWS for c in L.REVIEW_COLUMNS) + "</tr>"]
    texts = prose(rep)
    ps = lambda lines: "".join(f"<p>{e(x)}</p>" for x in lines)  # noqa: E731
    table = '<table border="1" cellspacing="0">{}</table>'
    return (ps(texts["一"]) + "<p>二、主动公开政府信息情况</p>" + table.format("".join(t2))
            + "<p>三、收到和处理政府信息公开申请情况</p>" + table.format("".join(t3))
            + "<p>四、政府信息公开行政复议、行政诉讼情况</p>" + table.format("".join(t4))
            + ps(texts["五"]) + ps(texts["六"]))


def to_html(rep: GenReport, *, charset: str | None = "utf-8") -> bytes:
    """A CMS article page; tables with rowspan/colspan; GBK when asked (``charset=None``: undeclared)."""
    e = html.escape
    body = report_html(rep)
    meta = f'<meta charset="{charset}">' if charset else ""
    page = (f'<!DOCTYPE html><html><head>{meta}<title>{e(rep.title)}</title></head><body>'
            f'<div class="nav"><a href="/">首页</a> <a href="/zwgk/">政务公开</a></div>'
            f'<h1>{e(rep.title)}</h1><div class="TRS_Editor" id="zoom">{body}</div>'
            f'<div class="footer">主办单位：人民政府办公室</div></body></html>')
    return page.encode("gb18030" if charset in (None, "gb2312", "gbk") else "utf-8")


def _html_spread(values: list[str]) -> str:
    if len(values) == 1:
        return f'<td colspan="3">{html.escape(values[0])}</td>'
    if len(values) == 2:
        return f'<td>{html.escape(values[0])}</td><td colspan="2">{html.escape(values[1])}</td>'
    return "".join(f"<td>{html.escape(v)}</td>" for v in values)


# -- text -----------------------------------------------------------------------------------------

def to_text(rep: GenReport, layout: str) -> str:
    """The report as text: ``cells`` (one cell per line, blank lines between rows, as Word's text),
    ``tabs`` (a row per line, cells tab-separated, as PDF text), ``glued`` (a row's numbers run
    together, as flattened HTML)."""
    specs = _active_specs(rep)
    texts = prose(rep)

    def row(cells: list[str]) -> list[str]:
        if layout == "cells":
            return ["\t" + c for c in cells] + [""]
        if layout == "tabs":
            return ["\t".join(cells)]
        label = [c for c in cells if not _is_value(c)]
        values = [c for c in cells if _is_value(c)]
        return ["".join(label) + "".join(values)]

    out = [rep.title, *texts["一"], "二、主动公开政府信息情况"]
    for heading, rows in BLOCKS[rep.template]:
        out += row([heading])
        out += row(["信息内容", *active_header(rep, specs[rows[0]])])
        for rid in rows:
            out += row([specs[rid].label, *[_cell(rep, "active", rid, c) for c in specs[rid].columns]])
    out += ["三、收到和处理政府信息公开申请情况"]
    out += row(["（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", "申请人情况"])
    out += row(["自然人", "法人或其他组织", "总计"])
    out += row(list(APPLICANT_HEADERS[1:6]))
    for (l1, l2, l3), spec in zip(_label_groups(rep.app_rows), rep.app_rows, strict=True):
        labels = [x for x in (l1, l2, l3) if x]
        out += row([*labels, *[_cell(rep, "applications", spec.id, c) for c in L.APPLICATION_COLUMNS]])
    out += ["四、政府信息公开行政复议、行政诉讼情况"]
    out += row(["行政复议", "行政诉讼"])
    out += row([*REVIEW_LEAVES, "未经复议直接起诉", "复议后起诉"])
    out += row(list(REVIEW_LEAVES * 2))
    values = [_cell(rep, "review_litigation", g, c) for g in L.REVIEW_ROWS for c in L.REVIEW_COLUMNS]
    out += row(values) if layout != "glued" else ["".join(values)]
    out += texts["五"] + texts["六"]
    return "\n".join(out) + "\n"


def _is_value(c: str) -> bool:
    return c == "/" or c.replace(".", "", 1).lstrip("-").isdigit()


# -- through LibreOffice, and scanned -------------------------------------------------------------

def libreoffice(docx: bytes, fmt: str) -> bytes:
    """Convert DOCX bytes with LibreOffice (``pdf`` or ``doc``)."""
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    assert exe, "LibreOffice is needed to generate PDF and DOC test documents (scripts/install.sh installs it)"
    target = {"pdf": "pdf", "doc": 'doc:MS Word 97'}[fmt]
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp, "report.docx")
        src.write_bytes(docx)
        subprocess.run([exe, f"-env:UserInstallation=file://{tmp}/profile", "--headless", "--norestore",
                        "--convert-to", target, "--outdir", tmp, str(src)], check=True, capture_output=True,
                       timeout=180)
        return Path(tmp, f"report.{fmt}").read_bytes()


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    d = base / "nianbao" / "generated"
    d.mkdir(parents=True, exist_ok=True)
    return d


def libreoffice_many(docxs: list[bytes], fmt: str) -> list[bytes]:
    """Convert many DOCX at once (one LibreOffice start-up), caching results on disk by content."""
    import hashlib

    keys = [hashlib.sha256(d).hexdigest()[:32] for d in docxs]
    out: dict[str, bytes] = {}
    todo = []
    for k, d in zip(keys, docxs, strict=True):
        cached = cache_dir() / f"{k}.{fmt}"
        if cached.exists():
            out[k] = cached.read_bytes()
        elif k not in dict(todo):
            todo.append((k, d))
    if todo:
        exe = shutil.which("soffice") or shutil.which("libreoffice")
        assert exe, "LibreOffice is needed to generate PDF and DOC documents (scripts/install.sh installs it)"
        target = {"pdf": "pdf", "doc": "doc:MS Word 97"}[fmt]
        with tempfile.TemporaryDirectory() as tmp:
            for k, d in todo:
                Path(tmp, f"{k}.docx").write_bytes(d)
            # a long batch now and then skips a file without a word: the missed ones get a second batch
            for _attempt in range(2):
                missing = [k for k, _ in todo if k not in out]
                if not missing:
                    break
                subprocess.run([exe, f"-env:UserInstallation=file://{tmp}/profile", "--headless", "--norestore",
                                "--convert-to", target, "--outdir", tmp,
                                *[str(Path(tmp, f"{k}.docx")) for k in missing]],
                               check=True, capture_output=True, timeout=120 + 20 * len(missing))
                for k in missing:
                    made = Path(tmp, f"{k}.{fmt}")
                    if made.exists():
                        data = made.read_bytes()
                        (cache_dir() / f"{k}.{fmt}").write_bytes(data)
                        out[k] = data
        if lost := [k for k, _ in todo if k not in out]:
            raise RuntimeError(f"LibreOffice did not convert {len(lost)} of {len(todo)} documents to {fmt}")
    return [out[k] for k in keys]


def to_scanned_pdf(pdf: bytes, *, seed: int = 0, pages: int | None = None) -> bytes:
    """Render each page at 200 dpi, tilt it by up to 0.8°, add noise, and wrap the images as a PDF
    with no text layer (what a scanner gives)."""
    import cv2
    import numpy as np
    import pypdfium2 as pdfium
    from PIL import Image

    rng = np.random.default_rng(seed)
    doc = pdfium.PdfDocument(pdf)
    images = []
    for i in range(len(doc) if pages is None else min(pages, len(doc))):
        gray = doc[i].render(scale=200 / 72, grayscale=True).to_numpy()
        gray = gray[:, :, 0] if gray.ndim == 3 else gray
        h, w = gray.shape
        m = cv2.getRotationMatrix2D((w / 2, h / 2), float(rng.uniform(-0.8, 0.8)), 1.0)
        gray = cv2.warpAffine(gray, m, (w, h), borderValue=255)
        noisy = np.clip(gray.astype(np.float32) * 0.93 + 12 + rng.normal(0, 8, gray.shape), 0, 255).astype(np.uint8)
        images.append(Image.fromarray(cv2.GaussianBlur(noisy, (3, 3), 0.6)))
    doc.close()
    out = io.BytesIO()
    images[0].save(out, "PDF", resolution=200, save_all=True, append_images=images[1:])
    return out.getvalue()
