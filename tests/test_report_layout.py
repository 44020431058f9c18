"""Table 三 on the report page as the template lays it out (issue 15): its group rows, the 2019 single
（六）其他处理 row against the 2021 three, and every cell the data has shown with its value."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from archive import Archive
from archive.parser import parse
from archive.web import create_app
from archive.web.report_view import grids
from helpers.captures import http_capture
from spiders.demo.generator import generate, to_html

GROUPS = ["三、本年度办理结果", "（三）不予公开", "（四）无法提供", "（五）不予处理"]


def table3(report: dict):
    return next(g for g in grids(report) if g.title.startswith("三"))


@pytest.mark.parametrize("template", ["2019", "2021"])
def test_table_three_has_its_group_rows_and_every_cell(template):
    report = parse(to_html(generate(9100 + int(template), template=template)), kind="html").report
    assert report["template"] == template
    g = table3(report)
    groups = [label for label, _, cells in g.rows if cells is None]
    assert groups == GROUPS + (["（六）其他处理"] if template == "2021" else [])
    labels = [label for label, _, cells in g.rows if cells is not None]
    if template == "2019":
        assert "（六）其他处理" in labels and not any(x.startswith("1.申请人无正当理由") for x in labels)
    else:
        assert "（六）其他处理" not in labels
        assert sum(x.startswith(("1.申请人", "2.申请人", "3.其他")) for x in labels) == 3
    # the group row sits right above the first row it heads
    at = {label: i for i, (label, _, _) in enumerate(g.rows)}
    assert at["（三）不予公开"] + 1 == at["1.属于国家秘密"] and at["三、本年度办理结果"] + 1 == at["（一）予以公开"]
    # every applications cell the report holds is shown, with its value
    shown = [c["text"] for _, _, cells in g.rows if cells for c in cells]
    held = [c for c in report["cells"] if c["table"] == "applications"]
    assert len(shown) == len(held) == len([c for _, _, cells in g.rows if cells for c in cells if not c["missing"]])
    assert sorted(shown) == sorted(str(c["value"]) if c["value"] is not None else c["raw"] for c in held)


def test_a_report_holding_the_other_form_of_six_shows_it_too():
    report = parse(to_html(generate(9300, template="2021")), kind="html").report
    extra = {**next(c for c in report["cells"] if c["table"] == "applications" and c["row"] == "3.6.3"),
             "row": "3.6", "value": 77, "raw": "77"}
    report["cells"].append(extra)  # both forms: the 2021 layout, the 2019 row after it
    g = table3(report)
    row = next(cells for label, _, cells in g.rows if label == "（六）其他处理" and cells is not None)
    assert any(c["text"] == "77" for c in row)


def test_the_report_page_draws_the_group_rows(tmp_path):
    with Archive.open(tmp_path / "a") as a, a.writer() as w:
        w.add(http_capture("http://127.0.0.92/r/2019.html", to_html(generate(9400, template="2019", year=2020))))
        w.add(http_capture("http://127.0.0.92/r/2021.html", to_html(generate(9400, template="2021", year=2022))))
    client = TestClient(create_app(tmp_path / "a"), base_url="http://127.0.0.1")
    pages = []
    for rid in (1, 2):
        res = client.get(f"/report/{rid}")
        assert res.status_code == 200
        pages.append(res.text)
    for page in pages:
        for group in GROUPS:
            assert re.search(rf'<tr class="group"><th class="label group indent\d" colspan="8">{group}</th>', page)
    by_six = sorted(p.count('colspan="8">（六）其他处理<') for p in pages)
    assert by_six == [0, 1]  # a group in the 2021 report; a row with its values in the 2019 one


def test_failed_checks_are_one_count_and_cross_year_is_apart(tmp_path):
    agency = "东东市测试局"
    with Archive.open(tmp_path / "a") as a:
        with a.writer() as w:
            for seed, year in ((9500, 2020), (9501, 2021)):
                page = to_html(generate(seed, year=year, agency=agency))
                w.add(http_capture(f"http://127.0.0.93/r/{year}.html", page))
        a.reindex(only_pending=True)
        shown = a.show(f"{agency}/2021")
        listed = {r["year"]: r["failed_checks"] for r in a.reports()}
    assert shown["cross_year_checks"]  # both years hold table 三: row 2 of 2021 is checked against row 4 of 2020
    own_failed = [c for c in shown["checks"] if not c["ok"]]
    assert len(own_failed) == listed[2021]  # the page, the list and the stored checks say the same
    client = TestClient(create_app(tmp_path / "a"), base_url="http://127.0.0.1")
    page = client.get(f"/report/{shown['report_id']}").text
    said = f"勾稽校验未通过（{len(own_failed)} 项）" if own_failed else f"全部 {len(shown['checks'])} 项勾稽校验通过"
    assert said in page
    assert "跨年度核对（与上一年度报告比较，不计入本报告的勾稽校验）" in page
    cross_bad = [c for c in shown["cross_year_checks"] if not c["ok"]]
    assert cross_bad and page.count('<li class="bad">✗') == len(cross_bad), page[page.find("跨年度核对"):][:800]
    api = client.get("/api/search", params={"failed_checks": True}).json()
    assert {h["year"] for h in api["hits"]} == {y for y, n in listed.items() if n}, api
    assert {h["year"]: h["failed_checks"] for h in api["hits"]} == {y: n for y, n in listed.items() if n}


def test_each_rule_is_explained_in_chinese():
    from archive.parser.explain import explain

    line = explain({"rule": "applications.outcomes.total", "ok": False,
                    "detail": "sum of outcomes 1751 ≠ (七)总计 1753"})
    assert line == "三、（七）总计 应等于 （一）至（六）之和（总计）：（一）至（六）之和 1751 ≠ (七)总计 1753"
    assert explain({"rule": "review_litigation.total.review", "ok": True, "detail": "1 + 0 + 0 + 0 = 1 = 总计 1"}) \
        .startswith("四、行政复议：总计 应等于")
    assert explain({"rule": "structure.table.applications", "ok": False, "detail": "not found in the document"}) \
        == "报告应包含表格 三、收到和处理政府信息公开申请情况：文中未找到"
    assert explain({"rule": "something.new", "ok": True, "detail": ""}) == "something.new"


def test_a_report_page_offers_its_cells_and_the_nav_the_whole_export(tmp_path):
    with Archive.open(tmp_path / "a") as a, a.writer() as w:
        w.add(http_capture("http://127.0.0.94/r/1.html", to_html(generate(9600, template="2021", year=2022))))
    client = TestClient(create_app(tmp_path / "a"), base_url="http://127.0.0.1")
    page = client.get("/report/1").text
    assert 'href="/api/reports/1/cells.csv"' in page and 'href="/api/export/cells.xlsx"' in page
    res = client.get("/api/reports/1/cells.csv")
    assert res.status_code == 200 and "attachment" in res.headers["content-disposition"]
    whole = client.get("/api/export/cells.csv").content
    assert res.content == whole  # the archive's only report: the same file as the whole export
    assert client.get("/api/reports/99/cells.csv").status_code == 404


def test_report_page_says_when_it_was_published_and_links_its_years(tmp_path):
    agency = "西东东市测试局"
    with Archive.open(tmp_path / "a") as a:
        with a.writer() as w:
            for seed, year in ((9700, 2020), (9701, 2021), (9702, 2022)):
                page = to_html(generate(seed, year=year, agency=agency))
                if year == 2021:  # the page prints its date: before the department's deadline (31 January)
                    page = page.replace(b"<body>", "<body><div class=\"info\">发布时间：2022-01-20</div>".encode(), 1)
                w.add(http_capture(f"http://127.0.0.95/r/{year}.html", page))
        shown = {y: a.show(f"{agency}/{y}") for y in (2020, 2021, 2022)}
    mid = shown[2021]
    assert mid["publication"] == {"published": "2022-01-20", "source": mid["publication"]["source"],
                                  "deadline": "2022-01-31", "status": "on_time"} and mid["publication"]["source"]
    first = shown[2020]["publication"]  # no date printed: the day it was first captured, said so, and late
    assert first["status"] == "late" and first["source"].startswith("首次抓取之日")
    assert mid["neighbours"] == {"previous": shown[2020]["report_id"], "next": shown[2022]["report_id"]}
    assert shown[2020]["neighbours"]["previous"] is None
    client = TestClient(create_app(tmp_path / "a"), base_url="http://127.0.0.1")
    by_link = client.get(f"/report/{agency}/2021")
    assert by_link.status_code == 200 and "按时公开" in by_link.text and "法定公开期限 2022-01-31" in by_link.text
    assert f'href="/report/{shown[2022]["report_id"]}">2022 年度 →' in by_link.text
    assert f'href="/report/{shown[2020]["report_id"]}">← 2020 年度' in by_link.text
    assert "逾期公开" in client.get(f"/report/{shown[2020]['report_id']}").text
    assert client.get(f"/report/{agency}/2019").status_code == 404


def test_revision_change_shows_the_numbers_first_and_folds_whitespace(tmp_path):
    from archive.web.report_view import text_diff

    rep = generate(9800, template="2021", year=2022)
    first = to_html(rep)
    rep.applications[("4", "natural_person")] += 5  # the corrected upload changes one number in table 三
    second = to_html(rep)
    url = "http://127.0.0.96/r/2022.html"
    with Archive.open(tmp_path / "a") as a:
        with a.writer() as w:
            w.add(http_capture(url, first))
        with a.writer() as w:
            w.add(http_capture(url, second))
        shown = a.show(1)
        assert shown["revision"] == 2
    client = TestClient(create_app(tmp_path / "a"), base_url="http://127.0.0.1")
    page = client.get("/report/1").text
    assert "第 1 版 → 第 2 版" in page and "数字无变化" not in page
    row = re.search(r'<table class="list cell-changes">.*?</table>', page, re.S).group(0)
    assert "applications/4/natural_person" in row and "四、结转下年度继续办理" in row and "自然人" in row
    # re-spaced and re-wrapped text is no change; a reworded line is
    old = "一、总体情况\n本机关认真贯彻落实。\n\n共收到申请 12 件。"
    assert text_diff(old, "一、 总体情况\n本机关认真 贯彻落实。\n共收到申请 12件。") == []
    changed = text_diff(old, "一、总体情况\n本机关认真贯彻落实。\n共收到申请 13 件。")
    assert [k for k, _ in changed if k in "+-"] == ["-", "+"]


def test_api_docs_are_served_from_our_own_files(tmp_path):
    with Archive.open(tmp_path / "a") as a, a.writer() as w:
        w.add(http_capture("http://127.0.0.99/r/1.html", to_html(generate(9990, year=2022))))
    client = TestClient(create_app(tmp_path / "a"), base_url="http://127.0.0.1")
    docs = client.get("/docs")
    assert docs.status_code == 200 and "/static/swagger/swagger-ui-bundle.js" in docs.text
    assert "cdn" not in docs.text.lower() and "http" not in docs.text.replace("http-equiv", "")
    assert client.get("/static/swagger/swagger-ui-bundle.js").status_code == 200
    assert client.get("/static/swagger/swagger-ui.css").status_code == 200
    assert "'unsafe-inline'" in docs.headers["content-security-policy"]
    assert "'unsafe-inline'" not in client.get("/report/1").headers["content-security-policy"]


def test_an_ingested_file_is_not_judged_late_by_the_day_it_was_ingested(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "r.html").write_bytes(to_html(generate(9991, year=2022, agency="北东东市测试局")))
    with Archive.open(tmp_path / "a") as a:
        a.ingest([tmp_path / "in"])
        pub = a.show("北东东市测试局/2022")["publication"]
    assert pub == {"published": None, "source": None, "deadline": "2023-01-31", "status": "unknown"}
