"""The parser's entry point as the archive uses it: agency, year, template, sections, look-alikes."""

from __future__ import annotations

import pytest

from archive.extract.formats import sniff
from archive.parser import parse
from helpers.paths import SEEDS

SEED_FACTS = {
    "000": ("安康市信访局", 2021, "2021"),
    "001": ("固原市信访局", 2019, "2019"),
    "002": ("湘潭县信访局", 2021, "2021"),  # title broken over two lines
    "003": ("信访局", 2022, "2021"),  # markdown headings, agency without its city
    "004": ("安康市行政审批服务局", 2021, "2021"),  # a cover letter comes first
}


@pytest.mark.parametrize("prefix", sorted(SEED_FACTS))
def test_seed_titles(prefix):
    path = next(SEEDS.glob(f"{prefix}_*.txt"))
    res = parse(path.read_bytes(), filename=path.name)
    assert res.is_report and (res.agency, res.year, res.report["template"]) == SEED_FACTS[prefix]
    numbers = [s["number"] for s in res.report["sections"]]
    assert numbers[:4] == ["一", "二", "三", "四"]


@pytest.mark.parametrize("name", ["report0.html", "report1.gbk.html", "report2.pdf", "report3.docx"])
def test_every_format_reads_the_same_identity(docs, name):
    res = parse((docs / name).read_bytes(), filename=name)
    base = parse((docs / (name.split(".")[0] + ".docx")).read_bytes(), filename="x.docx")
    assert (res.agency, res.year) == (base.agency, base.year) and res.agency


def test_gbk_page_without_any_charset_declaration(docs):
    page = (docs / "report1.gbk.html").read_bytes().replace(b"charset=gb2312", b"")
    assert b"charset" not in page.lower()
    res = parse(page, content_type="text/html")
    assert res.agency == "固原市信访局"
    wrong_header = parse(page, content_type="text/html; charset=utf-8")
    assert wrong_header.agency == "固原市信访局"


def test_look_alikes_are_not_reports():
    notice = ("<html><body><h1>关于做好2021年度政府信息公开工作年度报告编制发布工作的通知</h1>"
              "<p>各县区人民政府：请于2022年1月31日前发布本机关2021年度政府信息公开工作年度报告。</p></body></html>")
    title = "安康市信访局{}年度政府信息公开工作年度报告"
    items = "".join(f"<li><a href='/{y}.html'>{title.format(y)}</a></li>" for y in range(2015, 2023))
    listing = f"<html><body><ul>{items}</ul></body></html>"
    for page in (notice, listing):
        res = parse(page.encode(), content_type="text/html")
        assert not res.is_report


def test_formats_are_told_by_their_bytes(docs):
    assert sniff((docs / "report0.pdf").read_bytes()[:4096], content_type="text/html") == "pdf"
    assert sniff((docs / "report0.docx").read_bytes()[:4096], filename="download.jsp") == "docx"
    assert sniff((docs / "report1.wps").read_bytes()[:4096], filename="a.wps") == "wps"
    assert sniff((docs / "report1.doc").read_bytes()[:4096], filename="a.doc") == "doc"
    assert sniff((docs / "report1.gbk.html").read_bytes()[:4096]) == "html"


def test_broken_input_never_raises(docs):
    for data in (b"", b"%PDF-1.7\n garbage", b"PK\x03\x04 not a zip", bytes(range(256)) * 10):
        res = parse(data)
        assert not res.is_report
