"""What PDF conversion and saved pages put around a report changes none of its cells: page footers on
lines of their own or glued to the end of a line, navigation lines before and after, a saved page's
header block (标题:, 发布机构:, 来源：, 发布日期：). Bases: the real seed texts and generated reports in
the three text layouts."""

from __future__ import annotations

from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.parser import parse
from archive.parser.cleanup import DASHES
from helpers.paths import SEEDS
from spiders.demo.generator import generate, to_text

GENERATED = [(91, "2021", "tabs"), (92, "2019", "tabs"), (93, "2021", "cells"), (94, "2019", "glued"),
             (95, "2021", "glued")]
BASES = [p.name for p in sorted(SEEDS.glob("*.txt"))] + [f"gen:{s}:{t}:{lay}" for s, t, lay in GENERATED]

# (footer, may it be glued to the end of a line, may it touch the line's last character)
FOOTERS = [("- {n} -", True, False), ("— {n} —", True, True), ("－{n}－", True, True), ("—— {n} ——", True, False),
           ("第 {n} 页 共 {m} 页", True, True), ("第{n}页/共{m}页", True, True), ("{n}/{m}", False, False),
           ("第 {n} 页", False, False), ("\u3000- {n} -\u3000", False, False)]
NAV_BEFORE = ["首页 > 政务公开 > 政府信息公开年报", "当前位置：首页 > 政务公开 > 法定主动公开内容 > 年度报告",
              "【字体：大 中 小】", "分享到：微信 微博 QQ空间", "[ 打印本页 ] [ 关闭窗口 ]"]
PUBLISHED = ["发布日期：2022-01-20", "发布时间: 2023-01-31 09:30", "发布日期：2024年1月15日"]
NAV_AFTER = ["打印本页 关闭窗口", "【字体：大 中 小】", "附件下载：", "相关链接", "上一篇：无 下一篇：无"]


@cache
def base_text(name: str) -> str:
    if name.startswith("gen:"):
        _, seed, template, layout = name.split(":")
        return to_text(generate(int(seed), template), layout)
    return (SEEDS / name).read_text(encoding="utf-8")


@cache
def base_report(name: str) -> dict:
    return parse(base_text(name).encode()).report


def cells(report: dict) -> dict:
    return {(c["table"], c["row"], c["column"]): (c["value"], c.get("recovered")) for c in report["cells"]}


@st.composite
def with_footers(draw, text: str) -> str:
    """Two to six pages' footers of one style, numbered upwards, each on a line of its own or glued to
    the end of a line (a PDF's pages carry one footer each)."""
    lines = text.split("\n")
    style, gluable, touching = draw(st.sampled_from(FOOTERS))
    k = draw(st.integers(2, 6))
    first = draw(st.integers(1, 30))
    total = first + k - 1 + draw(st.integers(0, 3))
    at = sorted(draw(st.lists(st.integers(0, len(lines)), min_size=k, max_size=k, unique=True)))
    glued: set[int] = set()
    for page, pos in reversed(list(enumerate(at, start=first))):
        footer = style.format(n=page, m=total)
        target = pos - 1
        if (gluable and target >= 0 and target not in glued and lines[target].strip()
                and draw(st.booleans())):
            last = lines[target].rstrip()[-1]
            touch = touching and last not in DASHES and (last.isalnum() or last in "。）)") and draw(st.booleans())
            lines[target] = lines[target].rstrip() + ("" if touch else draw(st.sampled_from([" ", "  ", "\t"])))
            lines[target] += footer
            glued.add(target)
        else:
            lines.insert(pos, footer)
    return "\n".join(lines)


@st.composite
def saved_page(draw, text: str, report: dict) -> str:
    """Navigation lines before and after, and a saved page's header block before the body."""
    before = draw(st.lists(st.sampled_from(NAV_BEFORE), max_size=3))
    after = draw(st.lists(st.sampled_from(NAV_AFTER), max_size=3))
    header = []
    if draw(st.booleans()):
        header = [f"标题: {report['title'] or '政府信息公开工作年度报告'}",
                  f"发布机构: {report['agency'] or '本机关'}", f"来源：{report['agency'] or '本机关'}",
                  draw(st.sampled_from(PUBLISHED)),
                  "索引号：11610900/2022-00012"]
        header = draw(st.permutations(header))
    return "\n".join([*before, *header, text, *after])


def assert_same_cells(name: str, noisy: str) -> None:
    got = parse(noisy.encode()).report
    assert cells(got) == cells(base_report(name))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_page_footers_change_no_cell(data):
    name = data.draw(st.sampled_from(BASES))
    assert_same_cells(name, data.draw(with_footers(base_text(name))))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_navigation_and_a_saved_page_header_change_no_cell(data):
    name = data.draw(st.sampled_from(BASES))
    assert_same_cells(name, data.draw(saved_page(base_text(name), base_report(name))))


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_footers_navigation_and_header_together_change_no_cell(data):
    name = data.draw(st.sampled_from(BASES))
    text = data.draw(with_footers(base_text(name)))
    assert_same_cells(name, data.draw(saved_page(text, base_report(name))))


@pytest.mark.parametrize("name", BASES)
def test_every_base_reads_cells(name):
    """The bases are worth disturbing: each has its tables."""
    assert len(base_report(name)["cells"]) >= 150
