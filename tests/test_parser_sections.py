"""Sections as agencies really number them, and tables found by what they are (issue 12).

Each document here is a seed report transformed the way real reports deviate: the table sections
renumbered 一、二、三, the tables moved after the prose and numbered again, 五、 left out (its part
opening with （一）…存在问题的改进情况), 四、 left out, or no headings at all. The cells must not move.
"""

from __future__ import annotations

import re

import pytest

from archive.parser import parse
from archive.parser.regions import located, table_region
from archive.parser.sections import split_sections
from helpers.paths import SEEDS

NUMERALS = "一二三四五六"
WORDS = ("总体情况", "主动公开", "收到和处理", "行政复议", "问题", "其他需要")
HEAD = re.compile(r"^[#\s]*([一二三四五六]|[1-6])\s*[、.．]")


def _heads(lines: list[str]) -> dict[str, int]:
    """Line index of each of the seed's six section headings (一 … 六)."""
    out: dict[str, int] = {}
    for i, line in enumerate(lines):
        m = HEAD.match(line)
        if m and "\t" not in line and any(w in line for w in WORDS):
            num = m.group(1)
            num = NUMERALS[int(num) - 1] if num.isdigit() else num
            out.setdefault(num, i)
    return out


def _seed(prefix: str) -> tuple[list[str], dict[str, int]]:
    lines = next(SEEDS.glob(f"{prefix}_*.txt")).read_text(encoding="utf-8").split("\n")
    return lines, _heads(lines)


def _renumber(line: str, new: str) -> str:
    return HEAD.sub(lambda m: m.group(0).replace(m.group(1), new), line, count=1)


def _report(lines: list[str]) -> dict:
    return parse("\n".join(lines).encode("utf-8"), filename="report.txt").report


def _cells(rep: dict) -> dict:
    return {(c["table"], c["row"], c["column"]): (c["value"], c["raw"]) for c in rep["cells"]}


def _failed(rep: dict) -> set[str]:
    return {c["rule"] for c in rep["checks"] if not c["ok"]}


PREFIXES = ("000", "001", "002", "003", "004")


@pytest.mark.parametrize("prefix", PREFIXES)
def test_tables_numbered_again_from_one(prefix):
    """一、总体情况 then the tables as 一、二、三: each heading is the template section its words name."""
    lines, h = _seed(prefix)
    base = _report(lines)
    shifted = list(lines)
    for old, new in zip("二三四五六", "一二三四五", strict=True):
        if old in h:
            shifted[h[old]] = _renumber(lines[h[old]], new)
    rep = _report(shifted)
    assert _cells(rep) == _cells(base) and rep["cells"]
    assert [s["number"] for s in rep["sections"]] == [s["number"] for s in base["sections"]]
    assert [s["heading"] for s in rep["sections"]] == [s["heading"] for s in base["sections"]]
    written = [s.get("written") for s in rep["sections"]]
    assert written == [None, *"一二三四五"][:len(written)]
    assert _failed(rep) == _failed(base)


@pytest.mark.parametrize("prefix", ("000", "002", "004"))
def test_tables_after_the_prose_numbered_again(prefix):
    """Prose 一 … 六 (二 to 四 as short paragraphs), then the three tables again as 一、二、三."""
    lines, h = _seed(prefix)
    base = _report(lines)
    prose = [*lines[:h["二"]]]
    for num in "二三四":
        prose += [lines[h[num]], "本年度情况详见附表。", ""]
    tables = []
    for num, new in zip("二三四", "一二三", strict=True):
        tables += [_renumber(lines[h[num]], new), *lines[h[num] + 1:h[NUMERALS[NUMERALS.index(num) + 1]]]]
    rep = _report([*prose, *lines[h["五"]:], "附表", *tables])
    assert _cells(rep) == _cells(base)
    assert rep["warnings"] == base["warnings"]
    assert [s["number"] for s in rep["sections"]] == list("一二三四五六二三四")
    assert [s.get("written") for s in rep["sections"]][-3:] == list("一二三")
    assert rep["sections"][-3]["heading"] == "主动公开政府信息情况"
    five = next(s for s in rep["sections"] if s["number"] == "五")
    assert "附表" not in five["text"] and "第二十条" not in rep["sections"][5]["text"]


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("opening", ["（一）2021年工作中存在问题的改进情况", "存在的主要问题及改进情况"])
def test_fifth_part_without_its_heading(prefix, opening):
    """No 五、: the part opens with its first sub-part, or with the heading's words unnumbered."""
    lines, h = _seed(prefix)
    base = _report(lines)
    changed = list(lines)
    changed[h["五"]] = opening
    rep = _report(changed)
    assert _cells(rep) == _cells(base)
    five = next(s for s in rep["sections"] if s["number"] == "五")
    written = "（一）" if opening.startswith("（一）") else ""
    assert (five["heading"], five["written"]) == (opening.removeprefix(written), written)
    assert five["text"] == next(s for s in base["sections"] if s["number"] == "五")["text"]
    assert _failed(rep) == _failed(base)
    assert next(c for c in rep["checks"] if c["rule"] == "content.section_5")["ok"]


@pytest.mark.parametrize("prefix", PREFIXES)
def test_table_four_without_its_heading(prefix):
    """No 四、: table 四 is found by its header rows (行政复议 … 结果维持 … 尚未审结), not by prose."""
    lines, h = _seed(prefix)
    base = _report(lines)
    changed = list(lines)
    changed[h["四"]] = ""
    rep = _report(changed)
    assert _cells(rep) == _cells(base)
    assert [s["number"] for s in rep["sections"]] == [s["number"] for s in base["sections"] if s["number"] != "四"]
    assert _failed(rep) == _failed(base)


@pytest.mark.parametrize("prefix", PREFIXES)
def test_no_section_headings_at_all(prefix):
    """Not one heading: every table is still read, from its own header rows."""
    lines, h = _seed(prefix)
    base = _report(lines)
    changed = [line for i, line in enumerate(lines) if i not in set(h.values())]
    rep = _report(changed)
    assert rep["sections"] == []
    assert _cells(rep) == _cells(base)
    assert {c["rule"] for c in rep["checks"] if c["rule"].startswith("structure.table")} == {
        "structure.table.active", "structure.table.applications", "structure.table.review_litigation"}
    assert all(c["ok"] for c in rep["checks"] if c["rule"].startswith("structure.table"))


def test_sub_items_and_sentences_are_not_headings():
    """A numbered item in the prose is no restart, and a sentence naming the parts no fifth part."""
    text = "\n".join([
        "一、总体情况", "全文包括总体情况、主动公开政府信息情况、存在的主要问题及改进情况等。",
        "二、主动公开政府信息情况", "信息内容\t本年制发件数", "三、收到和处理政府信息公开申请情况", "申请人情况",
        "存在问题", "四、政府信息公开行政复议、行政诉讼情况", "结果维持",
        "五、存在的主要问题及改进情况", "一、进一步加强主动公开政府信息工作", "加强审核。",
        "二、收到和处理政府信息公开申请", "六、其他需要报告的事项", "无"])
    sections = split_sections(text)
    assert [(s["number"], s.get("written")) for s in sections] == [(n, None) for n in NUMERALS]
    assert "一、进一步加强主动公开政府信息工作" in sections[4]["text"]


def test_a_prose_mention_of_review_is_not_table_four():
    """Without a 四、 heading the region of table 四 starts at its header, not at a sentence about it."""
    text = "\n".join([
        "一、总体情况", "本年度未发生政府信息公开行政复议、行政诉讼案件。", "二、主动公开政府信息情况",
        "信息内容\t本年制发件数", "规章\t0", "行政复议\t\t\t\t\t行政诉讼",
        "结果维持\t结果纠正\t其他结果\t尚未审结\t总计", "0\t0\t0\t0\t0", "五、存在的主要问题及改进情况", "无。"])
    sections = split_sections(text)
    assert [s["number"] for s in sections] == ["一", "二", "五"]
    region = table_region(sections, "四", text)
    assert region.startswith("行政复议") and region.endswith("0\t0\t0\t0\t0")
    assert located(text)["二"].startswith("信息内容")
    assert table_region(sections, "二", text).startswith("主动公开政府信息情况")  # its section holds it


def test_own_numbering_in_turn_is_kept():
    """A report numbering its own parts in turn (the 2008 layout's 一…七) keeps them as written."""
    heads = ["一、概述", "二、主动公开政府信息情况", "三、依申请公开政府信息情况", "四、政府信息公开的收费及减免情况",
             "五、因政府信息公开申请行政复议、提起行政诉讼的情况", "六、存在的主要问题及改进措施",
             "七、其他需要报告的事项"]
    sections = split_sections("\n".join(f"{h}\n正文。" for h in heads))
    assert [(s["number"], s.get("written")) for s in sections] == [(n, None) for n in "一二三四五六七"]


def test_closing_parts_numbered_up_after_a_part_left_out():
    """No part on problems, so 其他需要报告的事项 is printed as 五、: it is section 六, not 五."""
    heads = ["一、总体情况", "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况",
             "四、存在的主要问题及改进情况", "五、其他需要报告的事项"]
    sections = split_sections("\n".join(f"{h}\n正文。" for h in heads))
    assert [(s["number"], s.get("written")) for s in sections] == [
        ("一", None), ("二", None), ("三", None), ("五", "四"), ("六", "五")]
    without_five = split_sections("\n".join(f"{h}\n正文。" for h in [*heads[:3], "四、其他需要报告的事项"]))
    assert [(s["number"], s.get("written")) for s in without_five][-1] == ("六", "四")


def test_page_with_tables_numbered_again(docs):
    """The same on an HTML page: the grids give the cells, the headings as printed give the sections."""
    page = (docs / "report0.html").read_text(encoding="utf-8")
    base = parse(page.encode("utf-8"), filename="report0.html").report
    for old, new in (("二、主动公开", "一、主动公开"), ("三、收到和处理", "二、收到和处理"),
                     ("四、政府信息公开行政复议", "三、政府信息公开行政复议"), ("五、存在问题", "四、存在问题"),
                     ("六、其他需要报告", "五、其他需要报告")):
        assert page.count(old) == 1
        page = page.replace(old, new)
    rep = parse(page.encode("utf-8"), filename="report0.html").report
    assert _cells(rep) == _cells(base) and rep["cells"]
    assert [(s["number"], s.get("written")) for s in rep["sections"]] == [
        ("一", None), ("二", "一"), ("三", "二"), ("四", "三"), ("五", "四"), ("六", "五")]
    assert _failed(rep) == _failed(base)


def test_prose_is_not_read_as_a_table_when_the_table_is_not_there():
    """A report whose tables are images (or an excerpt) says what it did in prose: no rows are made of it,
    and the structure checks say the tables were not found instead of passing on prose."""
    text = ("泗阳县水利局2023年政府信息公开工作年度报告\n一、总体情况\n2023年，我局主动公开政府信息126条。\n"
            "二、收到和处理政府信息公开申请情况\n我局收到申请3件，予以公开2件，部分公开1件。\n"
            "三、政府信息公开行政复议、行政诉讼情况\n本年度未发生行政复议、行政诉讼。\n")
    rep = parse(text.encode()).report
    assert rep["cells"] == [] and rep["warnings"] == []
    checks = {c["rule"]: c["ok"] for c in rep["checks"]}
    assert checks["structure.table.applications"] is False and checks["structure.table.review_litigation"] is False
