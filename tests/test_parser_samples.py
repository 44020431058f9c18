"""The shared sample documents in every format against their ground truth for table 三."""

from __future__ import annotations

import json
import re

import pytest

from archive.parser import layout as L
from archive.parser import parse
from helpers.paths import FIXTURES
from spiders.demo import DOCUMENTS

ROWS_2019_LAYOUT = [r.id for r in (*L.APPLICATION_ROWS_HEAD, L.APPLICATION_ROW_2019_OTHER, *L.APPLICATION_ROWS_TAIL)]
SAMPLES = sorted(p.name for p in DOCUMENTS.iterdir() if p.suffix in (".html", ".pdf", ".docx", ".doc", ".wps")
                 and "scanned" not in p.name)


def truth(name: str) -> dict[tuple[str, str], int]:
    gt = json.loads((FIXTURES / "ground_truth" / f"{name.split('.')[0]}.json").read_text("utf-8"))
    return {(row, col): v for row, r in zip(ROWS_2019_LAYOUT, gt["rows"], strict=True)
            for col, v in zip(L.APPLICATION_COLUMNS, r["values"], strict=True)}


def table3(rep: dict) -> dict[tuple[str, str], int]:
    return {(c["row"], c["column"]): c["value"] for c in rep["cells"] if c["table"] == "applications"}


@pytest.mark.parametrize("name", [pytest.param(n, marks=[pytest.mark.slow, pytest.mark.libreoffice])
                                  if n.endswith((".doc", ".wps")) else n for n in SAMPLES])
def test_sample_table_three(name):
    res = parse((DOCUMENTS / name).read_bytes(), filename=name)
    assert res.is_report and res.agency and res.year
    assert table3(res.report) == truth(name)
    failed = {c["rule"] for c in res.report["checks"] if not c["ok"]}
    assert not {r for r in failed if r.startswith("applications.")}, failed


def test_gbk_page_without_declaration_reads_the_same(docs):
    page = (docs / "report1.gbk.html").read_bytes()
    bare = re.sub(rb'<meta[^>]*charset=gb2312[^>]*>', b"", page)
    assert b"charset" not in bare.lower()
    rep = parse(bare, content_type="text/html").report
    assert rep["agency"] == "固原市信访局" and table3(rep) == truth("report1")


@pytest.mark.slow
def test_scanned_pdf_is_read_by_ocr(docs):
    res = parse((docs / "report1.scanned.pdf").read_bytes(), filename="report1.scanned.pdf")
    rep = res.report
    assert (rep["agency"], rep["year"], rep["template"]) == ("固原市信访局", 2019, "2019")
    assert table3(rep) == truth("report1")
    assert all(c.get("recovered") == "ocr" for c in rep["cells"] if c["table"] == "applications")
