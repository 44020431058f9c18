"""The one API the web app and the command line read through: pages in SQL whose totals match the
lists, the exports (web and command line) from one cell iterator and one report iterator with the
outputs they always had, batched reads for the agency and report pages, and "which portals"."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from archive import Archive, PortalScope
from archive.catalog.coverage import STATUSES
from archive.catalog.export import CSV_COLUMNS, STORED_COLUMNS
from archive.errors import NotFound
from archive.web import create_app
from crawler.cli import cli
from crawler.cli.schedule import STATUS_STYLE
from crawler.portals import portals_in, scopes
from helpers.captures import http_capture
from spiders.demo.generator import generate, to_docx, to_html
from spiders.profiles import PortalProfile, ProfileError, save

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.93"
AGENCY = "测试市民政局"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture(scope="module")
def archive_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("api") / "a"
    with Archive.open(path) as a:
        with a.writer() as w:
            for i, year in enumerate((2019, 2020, 2021)):  # one agency over three years
                w.add(http_capture(f"http://{HOST}/mz/{year}.html", to_html(generate(7100 + i, year=year,
                                                                                     agency=AGENCY))))
            for i in range(4):
                rep = generate(7200 + i, year=2020 + i % 2)
                w.add(http_capture(f"http://{HOST}/x/{i}.html", to_html(rep)))
                if i == 0:
                    w.add(http_capture(f"http://{HOST}/x/{i}.docx", to_docx(rep), content_type=DOCX,
                                       referrer=f"http://{HOST}/x/{i}.html"))
        a.reindex(only_pending=True)
    return path


@pytest.fixture
def a(archive_dir):
    with Archive.open(archive_dir, readonly=True) as arch:
        yield arch


def statements(a: Archive, fn):
    """Run ``fn`` and return the SQL statements it sent."""
    sent: list[str] = []
    a.catalog.conn.set_trace_callback(sent.append)
    try:
        fn()
    finally:
        a.catalog.conn.set_trace_callback(None)
    return sent


@pytest.mark.parametrize("filters", [{}, {"year": 2020}, {"agency": "民政"}, {"year": 2021, "agency": "局"},
                                     {"agency": "nobody"}])
def test_report_pages_are_slices_of_the_list_and_totals_match(a, filters):
    everything = a.reports(**filters)
    assert a.count_reports(**filters) == len(everything)
    paged = [r for off in range(0, len(everything) + 2, 2) for r in a.reports(**filters, limit=2, offset=off)]
    assert paged == everything
    assert a.reports(**filters, limit=5, offset=len(everything)) == []


@pytest.mark.parametrize("filters", [{}, {"year": 2019}, {"table": "applications", "row": "1", "column": "total"},
                                     {"agency": AGENCY, "table": "review_litigation"}])
def test_cell_pages_are_slices_and_totals_match(a, filters):
    everything = a.cells(**filters)
    assert everything and a.count_cells(**filters) == len(everything)
    assert [r for off in range(0, len(everything), 97) for r in a.cells(**filters, limit=97, offset=off)] == everything
    assert a.cells(**filters, offset=5) == everything[5:]  # an offset alone: the rest
    assert list(everything[0]) == ["report_id", "agency", "year", "template", "table", "row", "column",
                                   "value", "raw", "recovered", "sha256"]


def test_api_pages_in_sql_with_a_total(archive_dir, a, monkeypatch):
    import archive.catalog.cells
    import archive.catalog.views

    asked = []
    for module, name in ((archive.catalog.views, "reports"), (archive.catalog.cells, "cells")):
        real = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *args, _real=real, _name=name, **kw: asked.append((_name, kw))
                            or _real(*args, **kw))
    client = TestClient(create_app(archive_dir), base_url="http://127.0.0.1")
    client.get("/api/cells", params={"per_page": 10, "page": 3})
    assert [(n, kw["limit"], kw["offset"]) for n, kw in asked] == [("cells", 10, 20)]
    asked.clear()
    page2 = client.get("/api/reports", params={"per_page": 3, "page": 2}).json()
    assert [(n, kw["limit"], kw["offset"]) for n, kw in asked] == [("reports", 3, 3)]  # not every row, sliced
    assert page2["total"] == 7 and page2["reports"] == a.reports()[3:6]
    assert client.get("/api/reports", params={"per_page": 3, "page": 4}).json() == {
        "total": 7, "page": 4, "per_page": 3, "reports": []}
    sent = statements(a, lambda: a.reports(limit=3, offset=3))
    assert any(re.search(r"LIMIT 3 OFFSET 3$", s) for s in sent)  # the page is cut in SQL


def test_both_csv_exports_are_one_file_from_the_cell_iterator(archive_dir, a):
    # The stored cells, as the view gives them (the reference), then the template's wording beside the ids.
    stored = a.catalog.conn.execute(
        '''SELECT report_id, agency, year, template, "table", "row", "column", value, raw, label, recovered, '''
        '''sha256, parser_version FROM report_cells ORDER BY year, agency, report_id, "table", "row", "column"'''
    ).fetchall()
    assert list(a.iter_cells(STORED_COLUMNS)) == stored
    buf = io.StringIO()
    assert a.export("csv", buf) == len(stored)
    assert buf.getvalue().startswith("\ufeff")  # Excel on Chinese Windows needs the BOM to read UTF-8
    rows = list(csv.DictReader(io.StringIO(buf.getvalue()[1:])))
    assert list(rows[0]) == CSV_COLUMNS and len(rows) == len(stored)
    for got, want in zip(rows, stored, strict=True):
        assert (int(got["report_id"]), got["table"], got["row"], got["column"]) == (want[0], want[4], want[5], want[6])
    some = next(r for r in rows if (r["table"], r["row"], r["column"]) == ("applications", "3.3.1", "natural_person"))
    assert (some["table_label"], some["group"], some["row_label"], some["column_label"]) == (
        "三、收到和处理政府信息公开申请情况", "三、本年度办理结果（三）不予公开", "1.属于国家秘密", "自然人")
    assert some["region"] and some["agency"].startswith(some["region"])
    cli_out = CliRunner().invoke(cli, ["export", "--format", "csv", "--archive", str(archive_dir)])
    assert cli_out.exit_code == 0 and cli_out.stdout == buf.getvalue()
    web = TestClient(create_app(archive_dir), base_url="http://127.0.0.1").get("/api/export/cells.csv")
    assert web.content.decode("utf-8") == buf.getvalue()  # the same file, byte for byte
    year = TestClient(create_app(archive_dir), base_url="http://127.0.0.1").get("/api/export/cells.csv",
                                                                                params={"year": 2020})
    assert year.text.count("\n") - 1 == sum(1 for r in stored if r[2] == 2020)


def test_xlsx_export_has_a_sheet_per_table_with_the_csvs_rows(archive_dir, a, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "cells.xlsx"
    res = CliRunner().invoke(cli, ["export", "--format", "xlsx", "--archive", str(archive_dir), "-o", str(out)])
    assert res.exit_code == 0, res.output
    wb = load_workbook(out, read_only=True)
    assert wb.sheetnames[:3] == ["二 主动公开", "三 依申请公开", "四 复议诉讼"]
    rows = {name: list(wb[name].iter_rows(values_only=True)) for name in wb.sheetnames}
    assert all(list(r[0]) == CSV_COLUMNS for r in rows.values())
    csv_rows = list(csv.reader(io.StringIO(a_csv(a)[1:])))[1:]
    assert sum(len(r) - 1 for r in rows.values()) == len(csv_rows)
    by_table = [r for r in csv_rows if r[5] == "applications"]
    assert len(rows["三 依申请公开"]) - 1 == len(by_table)
    first = rows["三 依申请公开"][1]
    assert isinstance(first[CSV_COLUMNS.index("value")], (int, float))  # numbers, not text, in Excel
    web = TestClient(create_app(archive_dir), base_url="http://127.0.0.1").get("/api/export/cells.xlsx")
    assert web.status_code == 200 and web.content[:2] == b"PK"
    assert CliRunner().invoke(cli, ["export", "--format", "xlsx", "--archive", str(archive_dir)]).exit_code == 2


def a_csv(a) -> str:
    buf = io.StringIO()
    a.export("csv", buf)
    return buf.getvalue()


def test_both_jsonl_exports_come_from_the_report_iterator_as_before(archive_dir, a):
    by_year = [r["id"] for r in a.catalog.rows("SELECT id FROM reports ORDER BY year, agency, id")]
    assert [r["report_id"] for r in a.iter_reports()] == by_year
    assert [r["report_id"] for r in a.iter_reports(year=2021, order=("id",))] == sorted(
        r["id"] for r in a.reports(year=2021))
    buf = io.StringIO()
    a.export("jsonl", buf)
    assert buf.getvalue() == "".join(json.dumps(a.show(rid), ensure_ascii=False) + "\n" for rid in by_year)
    web = TestClient(create_app(archive_dir), base_url="http://127.0.0.1").get("/api/export/reports.jsonl").text
    assert [json.loads(line)["report_id"] for line in web.splitlines()] == sorted(by_year)
    with pytest.raises(ValueError):
        next(a.iter_reports(order=("id; DROP TABLE reports",)))
    with pytest.raises(ValueError):
        next(a.iter_cells(["nonsense"]))


def test_agency_reads_its_reports_cells_and_documents_in_three_queries(a):
    sent = statements(a, lambda: a.agency(AGENCY))
    # the agency's names merged as one (issue 16) are read in one query (and whether the table exists, once)
    names = [s for s in sent if "agency_aliases" in s or "sqlite_master" in s]
    assert 1 <= len(names) <= 2
    assert len([s for s in sent if s.lstrip().upper().startswith("SELECT") and s not in names]) == 3
    got = a.agency(AGENCY)
    assert got["agency"] == AGENCY and [r["year"] for r in got["reports"]] == [2019, 2020, 2021]
    for r in got["reports"]:
        mine = {(c["table"], c["row"], c["column"]): c["value"] for c in got["cells"]
                if c["report_id"] == r["id"]}
        shown = {(c["table"], c["row"], c["column"]): c["value"] for c in a.show(r["id"])["cells"]}
        assert mine and mine == shown
    with pytest.raises(NotFound, match="no reports of 无此机关"):
        a.agency("无此机关")


def test_report_row_texts_original_hosts_and_pending(archive_dir, a):
    first = a.reports(agency=AGENCY)[0]
    assert a.report(first["id"])["agency_key"] == a.report(f"{AGENCY}/{first['year']}")["agency_key"]
    with pytest.raises(NotFound):
        a.report(999_999)
    shas = [r["primary_sha256"] for r in a.reports()]
    sent = statements(a, lambda: a.texts(shas))
    assert len([s for s in sent if s.startswith("SELECT")]) == 1
    texts = a.texts([*shas, "0" * 64])
    assert set(texts) == set(shas) and all(AGENCY in texts[r["primary_sha256"]] for r in a.reports(agency=AGENCY))

    html = a.original(first["primary_sha256"])
    assert html.data == a.read_blob(first["primary_sha256"]) and html.kind == "html" and html.charset == "utf-8"
    (with_docx,) = [r for r in a.reports() if "docx" in (r["kinds"] or "")]
    docx = next(d["sha256"] for d in a.show(with_docx["id"])["documents"] if d["kind"] == "docx")
    orig = a.original(docx)
    assert orig.data == a.read_blob(docx) and (orig.kind, orig.content_type, orig.charset) == ("docx", DOCX, None)
    with pytest.raises(NotFound, match="no original with SHA-256"):
        a.original("0" * 64)

    assert a.hosts() == [HOST]
    assert a.pending_index() == 0
    with Archive.open(archive_dir) as w:  # a document the index has not caught up on
        with w.writer() as wr:
            wr.add(http_capture(f"http://{HOST}/late.html", to_html(generate(7300, year=2022))))
        assert w.pending_index() > 0
        w.reindex(only_pending=True)
        assert w.pending_index() == 0


def test_portals_in_is_the_one_rule_for_which_portals(tmp_path):
    where = tmp_path / "b"
    with Archive.open(where) as b, b.writer() as w:  # a capture from a bundled portal's host, none from others
        w.add(http_capture("https://www.mohrss.gov.cn/xxgk2020/zfxxgknb/", b"<html><body>list</body></html>"))
    assert [p.name for p in portals_in(where)] == ["mohrss"]  # captured from, though not scheduled
    save(PortalProfile(name="own", start_urls=["http://127.0.0.94/"]), where / "portals")
    assert sorted(p.name for p in portals_in(where)) == ["mohrss", "own"]  # the archive's own are scheduled
    assert [p.name for p in portals_in(where, ["pingtan", "own"])] == ["pingtan", "own"]
    with pytest.raises(ProfileError, match=r"no portal profile named nope; known: .*own"):
        portals_in(where, ["nope"])
    assert scopes(portals_in(where, ["own"])) == [PortalScope("own", ["127.0.0.94"], None, None)]
    res = CliRunner().invoke(cli, ["coverage", "--archive", str(where), "--portal", "nope"])
    assert res.exit_code == 1 and "no portal profile named nope" in res.output
    res = CliRunner().invoke(cli, ["coverage", "--archive", str(tmp_path / "none")])
    assert res.exit_code == 1 and "there is no archive at" in res.output


def test_the_coverage_summary_keeps_the_status_order():
    assert tuple(STATUS_STYLE) == STATUSES
