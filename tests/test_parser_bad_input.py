"""Bad input gets a clear reason and never an exception: truncated, encrypted, bomb, huge, empty."""

from __future__ import annotations

import io
import zipfile

import pypdfium2 as pdfium
import pytest

from archive.parser import parse
from helpers.paths import FIXTURES


def test_truncated_pdf(docs):
    res = parse((docs / "report0.pdf").read_bytes()[:5000])
    assert not res.is_report and "PDF" in res.error


def test_encrypted_pdf():
    res = parse((FIXTURES / "bad" / "encrypted.pdf").read_bytes())
    assert not res.is_report and "password" in res.error


@pytest.mark.slow
def test_docx_zip_bomb_is_refused_unopened():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", b"<w:document>" + b" " * (500 * 1024 * 1024) + b"</w:document>")
    res = parse(buf.getvalue(), filename="bomb.docx")
    assert not res.is_report and "zip bomb" in res.error


def test_three_hundred_page_pdf_finishes():
    doc = pdfium.PdfDocument.new()
    for _ in range(300):
        doc.new_page(595, 842)
    out = io.BytesIO()
    doc.save(out)
    res = parse(out.getvalue(), filename="long.pdf")
    assert not res.is_report and res.error is None  # read through, no text: not a report, no crash


def test_empty_file():
    for name in (None, "x.pdf", "x.docx", "x.html"):
        res = parse(b"", filename=name)
        assert not res.is_report


def test_legacy_report_keeps_sections_and_invents_no_cells():
    text = ("某某市统计局2017年政府信息公开工作年度报告\n一、概述\n本年度主动公开政府信息120条。\n"
            "二、主动公开政府信息情况\n全年主动公开信息120条，其中规范性文件3件。\n"
            "三、依申请公开政府信息情况\n受理申请5件，均已答复。\n"
            "四、行政复议和行政诉讼情况\n行政复议0件 行政诉讼0件\n")
    rep = parse(text.encode()).report
    assert rep["template"] == "legacy" and rep["year"] == 2017
    assert len(rep["sections"]) == 4 and rep["cells"] == []


def test_year_from_a_per_year_column_url():
    from archive.parser.hints import year_from_url

    assert year_from_url("http://www.example.gov.cn/zwgk/gknb2022/t20230120_1.html", 2026) == 2022
    assert year_from_url("http://www.example.gov.cn/xxgk/nb/2021n/index.html", 2026) == 2021
    assert year_from_url("http://www.example.gov.cn/zwgk/zfxxgknb/202201/t20220120_1.html", 2026) is None
    assert year_from_url("http://www.example.gov.cn/nb/2022/t1.html", 2026) is None  # a year folder: when published
