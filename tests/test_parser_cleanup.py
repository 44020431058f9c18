"""Page footers and Word list markers are cleared from extracted text before the tables are read; cell
values that look like them are not."""

from __future__ import annotations

import pytest

from archive.parser import parse
from archive.parser.cleanup import clean_text
from helpers.paths import SEEDS


@pytest.mark.parametrize("footer", ["- 4 -", "— 4 —", "－4－", "-4-", "—— 4 ——", "第 4 页 共 9 页", "第4页/共9页",
                                    "共9页 第4页", "第 4 页", "4/9", "4 / 9", "  — 12 —  "])
def test_a_footer_on_its_own_line_is_removed(footer):
    assert clean_text(f"规章\t0\t0\t0\n{footer}\n行政许可\t3") == "规章\t0\t0\t0\n行政许可\t3"


def test_a_dashed_footer_glued_to_a_row_goes_when_the_pages_count_through_it():
    text = "甲\t1\t2\n- 3 -\n乙\t0\t0\t0 - 4 -\n丙 - 5 - 1.本机关\t7"
    assert clean_text(text) == "甲\t1\t2\n乙\t0\t0\t0\n丙 1.本机关\t7"


def test_a_footer_after_a_negative_number_is_found():
    """2019's 本年增/减 can end a row in -10, whose minus sign must not hide the footer's first dash."""
    assert clean_text("行政许可195-10 - 2 -\n- 3 -\n行政处罚 5 -1") == "行政许可195-10\n行政处罚 5 -1"


def test_glued_cells_ending_in_a_year_like_run_do_not_hide_the_footer():
    """"2002 - 2 -" after other digits is the end of glued cells (0,0,0,2,0,0,2), not the date 2002-2;
    a year standing alone before a dashed number still is one (2023 - 1 - 1)."""
    assert clean_text("- 1 -\n5.要求确认信息0002002 - 2 -\n- 3 -") == "5.要求确认信息0002002"
    assert clean_text("- 1 -\n日期 2023 - 2 - 1\n- 3 -") == "日期 2023 - 2 - 1"


def test_page_x_of_y_goes_wherever_it_is():
    assert clean_text("8.属于行政查询事项 0 0 0第4页/共9页").strip() == "8.属于行政查询事项 0 0 0"


@pytest.mark.parametrize("text", [
    "行政许可 - 4 -",  # blank, 4, blank: no page before or after says it is a footer
    "行政许可\t—\t4\t—",  # cells by tabs
    "0\n4\n0",  # a bare number on its own line is a cell (Word text puts one cell per line)
    "1/0", "9/4",  # not a page of a count
    "2023/1/5", "第一章 第4页的说明见下",
])
def test_values_that_look_like_footers_are_kept(text):
    assert clean_text(text) == text


@pytest.mark.parametrize("marked", [
    "<!--[if !supportLists]-->7、<!--[endif]-->加强培训",
    "&lt;!--[if !supportLists]--&gt;7、&lt;!--[endif]--&gt;加强培训",
    "[if !supportLists]7、[endif]加强培训",
    "<![if !supportLists]>7、<![endif]>加强培训",
    "<!--[if !vml]--><!--[endif]-->7、加强培训",
])
def test_word_list_markers_go_and_the_list_number_stays(marked):
    assert clean_text(marked) == "7、加强培训"


def test_seed_text_without_footers_is_unchanged():
    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        assert clean_text(text) == text, path.name


def test_footers_between_rows_change_no_cell():
    """A footer on a line of its own, with no dashes to tell it, would be read as a row's values."""
    path = next(SEEDS.glob("000_*.txt"))
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    at = next(i for i, line in enumerate(lines) if "本机关不掌握" in line)
    damaged = "\n".join([*lines[:at], "第 3 页 共 5 页", "— 3 —", *lines[at:]])
    cells = {(c["table"], c["row"], c["column"]): c["value"] for c in parse(text.encode()).report["cells"]}
    got = {(c["table"], c["row"], c["column"]): c["value"] for c in parse(damaged.encode()).report["cells"]}
    assert got == cells


def test_the_archive_keeps_the_text_as_extracted():
    path = next(SEEDS.glob("000_*.txt"))
    text = path.read_text(encoding="utf-8") + "\n- 9 -\n"
    assert parse(text.encode()).text.endswith("- 9 -\n")


def test_a_long_dash_footer_may_touch_the_row_and_a_hyphen_date_is_kept():
    text = "甲\t1\n— 2 —\n乙\t0\t0\t0— 3 —\n丙\t5\t5— 4 —\t1.本机关\t7\n2023-3-5 第 4 页起 - 3 -2"
    assert clean_text(text) == "甲\t1\n乙\t0\t0\t0\n丙\t5\t5\t1.本机关\t7\n2023-3-5 第 4 页起 - 3 -2"


def test_word_list_markers_around_row_numbers_change_no_cell():
    """A page saved from Word wraps each list number of table 三's labels in conditional comments."""
    import re

    from spiders.demo.generator import generate, to_text

    text = to_text(generate(31, "2021"), "tabs")
    marked = re.sub(r"(?m)^(\d\.)", r"<!--[if !supportLists]-->\1<!--[endif]-->", text)
    marked = re.sub(r"(?m)^(（[一二三四五六七]）)", r"&lt;!--[if !supportLists]--&gt;\1&lt;!--[endif]--&gt;", marked)
    assert marked.count("supportLists") > 20
    want = {(c["table"], c["row"], c["column"]): c["value"] for c in parse(text.encode()).report["cells"]}
    got = {(c["table"], c["row"], c["column"]): c["value"] for c in parse(marked.encode()).report["cells"]}
    assert got == want and len(want) == 200


@pytest.mark.parametrize("text", [
    "行政许可 5 —\t3\t—\n行政处罚 —\t4\t—",  # long dashes as blank cells around a value, tab-separated
    "统计期限 2023 - 1 - 1 至 2023 - 2 - 28",  # a date written with spaced hyphens
    "—— 0 ——",  # no page 0
])
def test_cells_and_dates_that_look_like_footers_are_kept(text):
    assert clean_text(text) == text
