"""Table rows that PDF and page text mangle, recovered by the template's arithmetic only where it leaves
one reading: a row that lost numbers (column identity), two rows' numbers on one line (a label set
above its numbers), and table 四 flattened into one run of digits."""

from __future__ import annotations

import pytest

from archive.parser import layout as L
from archive.parser import parse
from archive.parser.tables import read_review
from spiders.demo.generator import GenReport, generate, to_text


def cells(res) -> dict:
    return {(c["table"], c["row"], c["column"]): c for c in res.report["cells"]}


def row_values(rep: GenReport, rid: str) -> list[int]:
    return [rep.applications[(rid, c)] for c in L.APPLICATION_COLUMNS]


def line_of(lines: list[str], rid: str) -> int:
    label = next(s.label for s in (*L.APPLICATION_ROWS_HEAD, *L.APPLICATION_ROWS_2021_OTHER,
                                   L.APPLICATION_ROW_2019_OTHER, *L.APPLICATION_ROWS_TAIL) if s.id == rid)
    return next(i for i, line in enumerate(lines) if line.split("\t")[-8:][0] == label)


def busy(rep: GenReport, rows: tuple[str, ...]) -> str:
    """A row with applications in it, so that recovering it is not recovering zeros."""
    return max(rows, key=lambda r: (rep.applications[(r, "total")], r))


# -- a row that lost numbers: (七)总计 less the rows that were read -------------------------------------

def damaged(rep: GenReport, rids: list[str], keep: int = 4) -> str:
    """The tab text with these rows keeping their labels and only their first ``keep`` numbers."""
    lines = to_text(rep, "tabs").split("\n")
    for rid in rids:
        i = line_of(lines, rid)
        parts = lines[i].split("\t")
        lines[i] = "\t".join(parts[:-7] + parts[-7:][:keep])
    return "\n".join(lines)


@pytest.mark.parametrize(("seed", "template"), [(71, "2021"), (72, "2019"), (73, "2021")])
def test_a_row_that_lost_numbers_is_recovered_from_the_column_totals(seed, template):
    rep = generate(seed, template)
    outcome = L.OUTCOME_ROWS_2021 if template == "2021" else L.OUTCOME_ROWS_2019
    rid = busy(rep, outcome)
    res = parse(damaged(rep, [rid]).encode())
    got = cells(res)
    assert {k: c["value"] for k, c in got.items()} == rep.expected_cells()
    mine = [got[("applications", rid, c)] for c in L.APPLICATION_COLUMNS]
    assert [c["value"] for c in mine] == row_values(rep, rid) and any(mine)
    assert {c.get("recovered") for c in mine} == {"column identity"}
    assert sum(c.get("recovered") == "column identity" for c in got.values()) == 7
    assert any(f"row {rid}" in w and "recovered" in w for w in res.report["warnings"])


def test_two_rows_that_lost_numbers_are_left_out_when_the_totals_do_not_decide():
    rep = generate(74, "2021")
    a, b = sorted(L.OUTCOME_ROWS_2021, key=lambda r: -rep.applications[(r, "total")])[:2]
    assert rep.applications[(a, "total")] and rep.applications[(b, "total")]
    res = parse(damaged(rep, [a, b]).encode())
    got = cells(res)
    assert not any(("applications", r, c) in got for r in (a, b) for c in L.APPLICATION_COLUMNS)
    assert all(any(f"row {r}" in w and "left out" in w for w in res.report["warnings"]) for r in (a, b))


def test_a_recovered_row_must_keep_the_numbers_the_text_holds_for_it():
    rep = generate(75, "2021")
    rid = busy(rep, L.OUTCOME_ROWS_2021)
    lines = damaged(rep, [rid]).split("\n")
    i = line_of(lines, rid)
    parts = lines[i].split("\t")
    lines[i] = "\t".join([*parts[:-4], "9999", *parts[-3:]])  # a number the totals cannot give
    got = cells(parse("\n".join(lines).encode()))
    assert not any(("applications", rid, c) in got for c in L.APPLICATION_COLUMNS)


def test_a_row_the_document_does_not_show_is_not_invented():
    rep = generate(76, "2021")
    rid = busy(rep, L.OUTCOME_ROWS_2021)
    lines = to_text(rep, "tabs").split("\n")
    del lines[line_of(lines, rid)]
    got = cells(parse("\n".join(lines).encode()))
    assert not any(("applications", rid, c) in got for c in L.APPLICATION_COLUMNS)


# -- a label displaced above its numbers: two rows on one line ------------------------------------------

def displaced(text: str, rid: str) -> str:
    """Row ``rid``'s label alone on its line, its numbers moved onto the next row's line, before that
    row's own numbers (as PDF text sets a tall label cell)."""
    lines = text.split("\n")
    k = line_of(lines, rid)
    a, b = lines[k].split("\t"), lines[k + 1].split("\t")
    return "\n".join([*lines[:k], "\t".join(a[:-7]), "\t".join(b[:-7] + a[-7:] + b[-7:]), *lines[k + 2:]])


@pytest.mark.parametrize(("seed", "template", "rid"), [
    (81, "2021", "1"), (81, "2021", "3.1"), (81, "2021", "3.3.8"), (81, "2021", "3.5.5"), (81, "2021", "3.6.3"),
    (82, "2019", "3.2"), (82, "2019", "3.5.5"), (82, "2019", "3.6"), (83, "2021", "3.4.3"),
])
def test_two_rows_on_one_line_are_split_by_their_row_totals(seed, template, rid):
    rep = generate(seed, template)
    res = parse(displaced(to_text(rep, "tabs"), rid).encode())
    got = cells(res)
    assert {k: c["value"] for k, c in got.items()} == rep.expected_cells()
    split = {k[1] for k, c in got.items() if c.get("recovered") == "rows split"}
    assert rid in split and len(split) == 2


def test_two_rows_on_one_line_that_do_not_add_up_are_left_out_with_a_warning():
    rep = generate(84, "2021")
    lines = displaced(to_text(rep, "tabs"), "3.1").split("\n")
    k = next(i for i, line in enumerate(lines) if line.startswith("（二）部分公开"))
    parts = lines[k].split("\t")
    parts[-1] = str(int(parts[-1]) + 1)  # 3.2's total no longer adds up: no reading fits
    res = parse("\n".join([*lines[:k], "\t".join(parts), *lines[k + 1:]]).encode())
    got = cells(res)
    assert not any(("applications", r, c) in got for r in ("3.1", "3.2") for c in L.APPLICATION_COLUMNS)
    assert any("row 3.1 and row 3.2" in w and "left out" in w for w in res.report["warnings"])


def test_a_group_label_above_a_row_is_not_a_displaced_row():
    """（三）不予公开 above 1.属于国家秘密 with its own seven numbers: one row, read as before."""
    rep = generate(85, "2021")
    res = parse(to_text(rep, "tabs").encode())
    assert {k: c["value"] for k, c in cells(res).items()} == rep.expected_cells()
    assert not any(c.get("recovered") for c in res.report["cells"])


# -- table 四 as one run of digits -------------------------------------------------------------------

HEAD = ("四、政府信息公开行政复议、行政诉讼情况\n行政复议 行政诉讼\n"
        "结果维持 结果纠正 其他结果 尚未审结 总计 未经复议直接起诉 复议后起诉\n"
        "结果维持 结果纠正 其他结果 尚未审结 总计 结果维持 结果纠正 其他结果 尚未审结 总计")
# The three real runs of shared/reference/domain-reports.md §1.8 and the split their totals decide.
FLAT = {
    "10203120001200000": [1, 0, 2, 0, 3, 12, 0, 0, 0, 12, 0, 0, 0, 0, 0],
    "21317000001324019": [2, 1, 3, 1, 7, 0, 0, 0, 0, 0, 13, 2, 4, 0, 19],
    "25380363300630003": [25, 3, 8, 0, 36, 3, 3, 0, 0, 6, 3, 0, 0, 0, 3],
}


@pytest.mark.parametrize("run", sorted(FLAT))
@pytest.mark.parametrize("shape", ["{h}\n{r}\n", "{h}{r}\n五、存在的主要问题", "{h} {r} — 5 —\n— 6 —",
                                   "{h}\n{a}\n{b}\n"])
def test_table_4_flattened_into_one_run_is_split_by_its_totals(run, shape):
    text = shape.format(h=HEAD, r=run, a=run[:8], b=run[8:])
    res = parse(("某局2023年政府信息公开工作年度报告\n" + text).encode())
    got = [c for c in res.report["cells"] if c["table"] == "review_litigation"]
    assert [(c["row"], c["column"]) for c in got] == [(g, c) for g in L.REVIEW_ROWS for c in L.REVIEW_COLUMNS]
    assert [c["value"] for c in got] == FLAT[run]
    assert {c.get("recovered") for c in got} == {"split"}


def test_table_4_rows_with_a_label_above_are_read_in_order():
    """Two groups' numbers on one line (10 where 5 are due) still read as the 15 cells in order."""
    text = (HEAD + "\n行政复议\n未经复议直接起诉 1 0 2 0 3 12 0 0 0 12\n复议后起诉 0 0 0 0 0\n")
    res = read_review([], text)
    assert [c["value"] for c in res.cells] == FLAT["10203120001200000"]


def test_table_4_run_that_two_readings_fit_is_left_out():
    res = read_review([], HEAD + "\n000000000000000111\n")
    assert not res.cells and res.found
    assert any("table 四" in w for w in res.warnings)


def upright_page(rows: list[tuple[str, str]], header: str = "结果维持 结果纠正 其他结果 尚未审结 总计") -> bytes:
    head = "".join(f"<td>{h}</td>" for h in header.split())
    cells = ["".join(f"<td>{v}</td>" for v in values.split()) for _, values in rows]
    body = "".join(f"<tr><td>{label}</td>{row}</tr>" for (label, _), row in zip(rows, cells, strict=True))
    return ('<html><body><div class="TRS_Editor" id="zoom"><p>某局2023年政府信息公开工作年度报告</p>'
            f"<p>四、政府信息公开行政复议、行政诉讼情况</p><table><tr><td></td>{head}</tr>{body}</table>"
            "<p>五、存在的主要问题及改进情况</p></div></body></html>").encode()


UPRIGHT = [("行政复议", "1 0 2 0 3"), ("行政诉讼（未经复议直接起诉）", "12 0 0 0 12"),
           ("行政诉讼（复议后起诉）", "0 0 0 0 0")]


@pytest.mark.parametrize("order", [(0, 1, 2), (0, 2, 1), (2, 1, 0)])
def test_table_4_set_upright_a_row_per_group_is_read_by_its_labels(order):
    rep = parse(upright_page([UPRIGHT[i] for i in order]), content_type="text/html").report
    got = [c["value"] for c in rep["cells"] if c["table"] == "review_litigation"]
    assert got == FLAT["10203120001200000"]


@pytest.mark.parametrize(("rows", "header"), [
    (UPRIGHT[:2], "结果维持 结果纠正 其他结果 尚未审结 总计"),  # a group missing
    (UPRIGHT, "结果纠正 结果维持 其他结果 尚未审结 总计"),  # columns not in the template's order
])
def test_table_4_upright_is_not_guessed(rows, header):
    rep = parse(upright_page(rows, header), content_type="text/html").report
    assert not [c for c in rep["cells"] if c["table"] == "review_litigation"]
    assert any("table 四" in w for w in rep["warnings"])
