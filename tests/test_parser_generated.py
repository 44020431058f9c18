"""Generated reports with known numbers, in every form, both templates: every cell and every check."""

from __future__ import annotations

import pytest

from archive.parser import parse
from spiders.demo.generator import GenReport, generate, libreoffice, to_docx, to_html, to_scanned_pdf, to_text

CASES = [
    (11, "2021", ()), (12, "2019", ()), (13, "2021", ("review:litigation_after_review",)),
    (14, "2019", ("balance:research",)), (15, "2021", ("outcomes:natural_person",)), (16, "2021", ("text",)),
]


def cells(res) -> dict:
    return {(c["table"], c["row"], c["column"]): c["value"] for c in res.report["cells"]}


def failed(res) -> set[str]:
    return {c["rule"] for c in res.report["checks"] if not c["ok"]}


def assert_exact(rep: GenReport, res) -> None:
    assert (res.agency, res.year, res.report["template"]) == (rep.agency, rep.year, rep.template)
    assert cells(res) == rep.expected_cells()
    assert failed(res) == rep.expected_failures()


def forms(rep: GenReport) -> dict[str, tuple[bytes, str]]:
    return {"docx": (to_docx(rep), "r.docx"), "html": (to_html(rep), "r.html"),
            "gbk-undeclared": (to_html(rep, charset=None), "r.html"),
            # a page in no known CMS template: trafilatura finds the text, the tables come from the DOM
            "html-unknown-cms": (to_html(rep).replace(b'class="TRS_Editor" id="zoom"', b'class="main"'), "r.html"),
            "text-cells": (to_text(rep, "cells").encode(), "r.txt"),
            "text-tabs": (to_text(rep, "tabs").encode("gb18030"), "r.txt")}


@pytest.mark.parametrize(("seed", "template", "breaks"), CASES)
def test_every_form_every_cell(seed, template, breaks):
    rep = generate(seed, template, breaks)
    for name, (data, filename) in forms(rep).items():
        res = parse(data, filename=filename)
        try:
            assert_exact(rep, res)
        except AssertionError as e:
            raise AssertionError(f"form {name}: {e}") from e


@pytest.mark.parametrize(("breaks", "expected"), [
    (("review:review",), {"review_litigation.total.review"}),
    (("text",), {"text.applications_received"}),
    # an applicant column's identity breaks its total column's too: both, and nothing else
    (("balance:business",), {"applications.balance.business", "applications.balance.total"}),
])
def test_a_broken_identity_is_flagged_and_only_that(breaks, expected):
    rep = generate(21, "2021", breaks)
    assert rep.expected_failures() == expected
    res = parse(to_docx(rep), filename="r.docx")
    assert failed(res) == expected
    assert cells(res) == rep.expected_cells()  # a failed check is data: every cell is still there


def test_blank_cells_are_null_with_their_raw_text():
    rep = generate(31, "2021", blanks=3)
    res = parse(to_html(rep), filename="r.html")
    assert cells(res) == rep.expected_cells()
    blank = [c for c in res.report["cells"] if c["value"] is None]
    assert blank and all(c["raw"] == "/" for c in blank)
    assert "structure.blank_cells.applications" in failed(res)
    # rules naming a blank cell are not evaluated (not listed, never counted as passed)
    rules = {c["rule"] for c in res.report["checks"]}
    for c in blank:
        assert f"applications.row_total.{c['row']}" not in rules


def test_glued_digits_are_split_only_where_the_totals_decide():
    for seed, template in ((41, "2021"), (42, "2019"), (43, "2021")):
        rep = generate(seed, template)
        res = parse(to_text(rep, "glued").encode(), filename="r.txt")
        want, got = rep.expected_cells(), cells(res)
        assert all(want[k] == v for k, v in got.items()), "a glued row was split wrongly"
        apps = {k for k in want if k[0] == "applications"}
        assert apps <= set(got), "table 三 keeps its identities, so every row must be recovered"
        assert all(c.get("recovered") == "split" for c in res.report["cells"]
                   if c["table"] == "applications" and len(c["raw"]) > 0)
        missing = {k[1] for k in want if k not in got}
        for row in missing:  # what could not be decided is warned about, row by row
            assert any(row in w for w in res.report["warnings"]), (row, res.report["warnings"])


def test_the_issue_example_splits_by_the_identities():
    text = ("三、收到和处理政府信息公开申请情况\n一、本年新收政府信息公开申请数量801000081\n"
            "二、上年结转政府信息公开申请数量0000000\n")
    res = parse(text.encode())
    row1 = {c["column"]: c["value"] for c in res.report["cells"] if c["row"] == "1"}
    assert row1 == {"natural_person": 80, "business": 1, "research": 0, "public_interest": 0,
                    "legal_service": 0, "other_org": 0, "total": 81}


@pytest.fixture(scope="module")
def office_forms():
    out = {}
    for seed, template in ((51, "2021"), (52, "2019")):
        rep = generate(seed, template, ("review:litigation_direct",))
        docx = to_docx(rep)
        out[template] = (rep, libreoffice(docx, "pdf"), libreoffice(docx, "doc"))
    return out


@pytest.mark.slow
@pytest.mark.libreoffice
@pytest.mark.parametrize("template", ["2021", "2019"])
def test_pdf_doc_and_wps_forms(office_forms, template):
    rep, pdf, doc = office_forms[template]
    for data, name in ((pdf, "r.pdf"), (doc, "r.doc"), (doc, "r.wps")):
        res = parse(data, filename=name)
        assert res.kind == name.split(".")[1]
        assert_exact(rep, res)


@pytest.mark.slow
@pytest.mark.libreoffice
def test_scanned_form_through_ocr(office_forms):
    rep, pdf, _ = office_forms["2021"]
    res = parse(to_scanned_pdf(pdf, seed=3), filename="r.pdf")
    assert_exact(rep, res)
    assert {c.get("recovered") for c in res.report["cells"]} == {"ocr"}
