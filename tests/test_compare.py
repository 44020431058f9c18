"""The comparison (issue 15): one metric for agencies × years, from /api/compare, its CSV and the page."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from archive import Archive
from archive.web import create_app
from helpers.captures import http_capture
from spiders.demo.generator import generate, to_html

AGENCIES = ("安康市信访局", "安康市财政局", "汉中市民政局")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    where = tmp_path_factory.mktemp("compare") / "a"
    reps = {}
    with Archive.open(where) as a, a.writer() as w:
        for i, agency in enumerate(AGENCIES):
            for year in (2021, 2022):
                rep = generate(9900 + 10 * i + year % 10, year=year, agency=agency)
                reps[(agency, year)] = rep
                w.add(http_capture(f"http://127.0.0.97/{i}/{year}.html", to_html(rep)))
    with Archive.open(where) as a:
        a.reindex(only_pending=True)
    return where, reps


@pytest.fixture(scope="module")
def client(built):
    return TestClient(create_app(built[0]), base_url="http://127.0.0.1")


def test_a_cell_for_every_agency_and_year_with_its_report(client, built):
    _, reps = built
    data = client.get("/api/compare", params={"metric": "applications/1/total"}).json()
    assert data["years"] == [2021, 2022] and sorted(data["agencies"]) == sorted(AGENCIES)
    assert data["label"].endswith("一、本年新收政府信息公开申请数量 · 总计") and data["unit"] == "件"
    got = {(r["agency"], r["year"]): r["value"] for r in data["rows"]}
    assert got == {k: rep.applications[("1", "total")] for k, rep in reps.items()}
    for r in data["rows"]:
        shown = client.get(f"/api/reports/{r['report_id']}").json()
        assert (shown["agency"], shown["year"]) == (r["agency"], r["year"])
    only = client.get("/api/compare", params={"metric": "applications/1/total", "region": "安康市",
                                              "year": 2022}).json()
    assert {(r["agency"], r["year"]) for r in only["rows"]} == {("安康市信访局", 2022), ("安康市财政局", 2022)}


def test_a_named_share_is_computed_from_its_cells(client, built):
    _, reps = built
    data = client.get("/api/compare", params={"metric": "withheld_share"}).json()
    assert data["unit"] == "%" and "不予公开" in data["label"]
    for r in data["rows"]:
        rep = reps[(r["agency"], r["year"])]
        withheld = sum(rep.applications[(f"3.3.{i}", "total")] for i in range(1, 9))
        assert r["value"] == round(100 * withheld / rep.applications[("3.7", "total")], 2)
    assert client.get("/api/compare", params={"metric": "nonsense"}).status_code == 422


def test_the_csv_is_the_table_excel_opens(client, built):
    _, reps = built
    text = client.get("/api/compare.csv", params={"metric": "applications/3.1/total"}).content.decode("utf-8")
    assert text.startswith("\ufeff# applications/3.1/total")
    rows = list(csv.reader(io.StringIO(text[1:])))[1:]
    assert rows[0] == ["agency", "region", "2021", "2022"]
    body = {r[0]: r[2:] for r in rows[1:]}
    assert body == {a: [str(reps[(a, y)].applications[("3.1", "total")]) for y in (2021, 2022)] for a in AGENCIES}


def test_the_xlsx_holds_the_same_rows_with_numbers_as_numbers(client, built):
    from openpyxl import load_workbook

    _, reps = built
    res = client.get("/api/compare.xlsx", params={"metric": "applications/3.1/total", "year": [2022]})
    assert res.status_code == 200 and res.headers["content-type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(res.content)).active.iter_rows(values_only=True))
    assert rows[0][0].startswith("applications/3.1/total") and rows[1] == ("agency", "region", 2022)
    assert {r[0]: r[2] for r in rows[2:]} == {a: reps[(a, 2022)].applications[("3.1", "total")] for a in AGENCIES}
    assert client.get("/api/compare.xlsx", params={"metric": "nonsense"}).status_code == 422


def test_the_page_shows_the_table_sorted_with_links_and_charts(client, built):
    _, reps = built
    page = client.get("/compare", params={"metric": "applications/1/total", "sort": "2022"}).text
    table = page[page.index('id="compare-table"'):]
    order = sorted(AGENCIES, key=lambda a: -reps[(a, 2022)].applications[("1", "total")])
    assert [table.index(a) for a in order] == sorted(table.index(a) for a in order)  # largest 2022 value first
    assert table.count('href="/report/') == 6 and page.count('class="multiple"') == 3
    assert 'href="/api/compare.csv?metric=applications%2F1%2Ftotal"' in page
    bad = client.get("/compare", params={"metric": "x/y"})
    assert bad.status_code == 200 and 'id="compare-error"' in bad.text


def test_year_facets_come_in_year_order(client):
    facets = client.get("/api/search").json()["facets"]
    assert [f["value"] for f in facets["year"]] == [2022, 2021]


def test_years_out_of_range_are_refused_in_words(client, built):
    from archive.errors import QueryError

    assert client.get("/api/compare", params={"year": 9223372036854775808}).status_code == 422
    assert client.get("/api/compare.csv", params={"year": 1200}).status_code == 422
    assert client.get("/compare", params={"year": 99999}).status_code == 422
    with Archive.open(built[0], readonly=True) as a, pytest.raises(QueryError, match="from 1990 to 2100"):
        a.compare("applications/1/total", years=[3000])
