"""The agency page (issue 15): its years side by side for tables 二, 三 and 四 with each change from the year
before, its documents, and its compliance history."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from archive import Archive
from archive.web import create_app
from archive.web.agency_view import year_grids
from helpers.captures import http_capture
from spiders.demo.generator import generate, to_html

AGENCY = "安康市审计局"
YEARS = (2019, 2020, 2021)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    where = tmp_path_factory.mktemp("agency") / "a"
    with Archive.open(where) as a, a.writer() as w:
        for year in YEARS:
            page = to_html(generate(4400 + year, year=year, agency=AGENCY)).decode()
            page = page.replace("</h1>", f"</h1><div>发布时间：{year + 1}-0{1 if year < 2021 else 2}-15</div>", 1)
            w.add(http_capture(f"http://127.0.0.96/{year}.html", page.encode()))
        w.add(http_capture("http://127.0.0.96/other.html", to_html(generate(4500, year=2021, agency="汉中市审计局"))))
    with Archive.open(where, readonly=True) as a:
        shown = {y: a.show(f"{AGENCY}/{y}") for y in YEARS}
    return where, shown


def _fmt(v) -> str:
    return "—" if v is None else (f"{v:g}" if isinstance(v, float) else str(v))


def test_every_cell_of_every_year_stands_in_its_line_and_year(built):
    _, shown = built
    cells = [{"year": y, **c} for y, rep in shown.items() for c in rep["cells"]]
    for column in ("total", "natural_person"):
        grids = {g.title[:2]: g for g in year_grids(list(YEARS), cells, column)}
        assert set(grids) == {"二、", "三、", "四、"}
        lines = {label: line for g in grids.values() for label, _, line in g.rows if line is not None}
        placed = 0
        for i, y in enumerate(YEARS):
            for c in shown[y]["cells"]:
                if c["table"] == "applications" and c["column"] != column:
                    continue
                found = [line[i]["text"] for label, line in lines.items() if _line_is(label, c)]
                assert found and _fmt(c["value"]) in found, (y, c)
                placed += 1
        assert placed > 40 * len(YEARS) // 2
    # A change from the year before is marked with its size and sign.
    (g3,) = [g for g in year_grids(list(YEARS), cells) if g.title.startswith("三")]
    _, _, line = next(r for r in g3.rows if r[0].startswith("一、本年新收"))
    a, b = (next(c["value"] for c in shown[y]["cells"] if (c["table"], c["row"], c["column"]) ==
                 ("applications", "1", "total")) for y in (2019, 2020))
    assert line[1]["delta"] == (None if a == b else ("+" if b > a else "−") + str(abs(b - a)))
    assert line[0]["delta"] is None  # the first year has nothing to change from
    # The 2019 template's single （六） and the 2021 template's three rows both have their line.
    assert any(r[0].startswith("（六）其他处理（2019") for r in g3.rows) == any(
        c["row"] == "3.6" for c in shown[2019]["cells"])
    assert any(r[0].startswith("（六）其他处理") and r[2] is None for r in g3.rows)


def _line_is(label: str, c: dict) -> bool:
    from archive.parser import layout as L

    if c["table"] == "applications":
        spec = next(s for s in (*L.APPLICATION_ROWS_HEAD, L.APPLICATION_ROW_2019_OTHER,
                                *L.APPLICATION_ROWS_2021_OTHER, *L.APPLICATION_ROWS_TAIL) if s.id == c["row"])
        return label == spec.label or (c["row"] == "3.6" and label.startswith("（六）其他处理"))
    return label.endswith(" · " + L.COLUMN_NAMES.get(c["column"], c["column"])) and (
        c["table"] != "review_litigation" or label.startswith(
            {"review": "行政复议", "litigation_direct": "行政诉讼·未经", "litigation_after_review": "行政诉讼·复议后"}[
                c["row"]]))


def test_the_page_shows_the_years_documents_and_compliance(built):
    where, shown = built
    client = TestClient(create_app(where), base_url="http://127.0.0.1")
    page = client.get(f"/agency/{AGENCY}")
    assert page.status_code == 200
    text = page.text
    head = re.search(r'<table class="list years-side"><thead><tr><th></th>(.*?)</tr>', text).group(1)
    assert re.findall(r"<th>(\d{4})</th>", head) == [str(y) for y in YEARS]
    assert text.count('<table class="list years-side">') == 3
    # every document, with its original; no other agency's
    for rep in shown.values():
        assert f'/original/{rep["source_sha256"]}' in text
    assert "汉中市审计局" not in text
    # compliance: a line per year from the first report to the last whose period has ended
    compliance = text[text.index('id="compliance"'):text.index('id="years"')]
    rows = re.findall(r'<tr class="(\w+)">', compliance)
    from datetime import date

    assert len(rows) == date.today().year - YEARS[0]
    assert rows[:3] == ["on_time", "on_time", "late"]  # 2021 is a department's, printed 15 February
    picked = client.get(f"/agency/{AGENCY}", params={"column": "natural_person"}).text
    assert "申请人：自然人" in picked
    assert "申请人：总计" in client.get(f"/agency/{AGENCY}", params={"column": "<script>"}).text
