"""Compliance view: deadlines by the law, publication dates read from the pages, and the verdicts."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from lxml import html as lxml_html

from archive.catalog.coverage import PortalScope, deadline
from archive.extract.published import link_date, page_date, plausible
from helpers.captures import http_capture
from spiders.demo.generator import generate, to_docx, to_html

HOST = "127.0.0.70"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def root(text: str):
    return lxml_html.document_fromstring(text)


def test_deadlines_follow_the_regulation_and_a_profile_overrides_them():
    assert deadline("某市财政局", 2021) == date(2022, 1, 31)  # departments: 31 January
    assert deadline("某市人民政府", 2021) == date(2022, 3, 31)  # 县级以上人民政府: 31 March
    assert deadline("某县政府", 2021) == date(2022, 3, 31)
    assert deadline("某某镇人民政府", 2021) == date(2022, 1, 31)  # a township is an agency like any other
    assert deadline("某市人民政府办公室", 2021) == date(2022, 1, 31)  # the office's own report
    assert deadline("某市财政局", 2018) == date(2019, 3, 31)  # the 2008 条例: 31 March for all
    assert deadline("某市财政局", 2021, "02-28") == date(2022, 2, 28)


def test_publication_dates_are_read_from_meta_info_line_and_list_rows():
    assert page_date(root('<html><head><meta name="PubDate" content="2022-01-20 09:30"></head><body>x</body></html>')) \
        == (date(2022, 1, 20), "meta PubDate")
    assert page_date(root("<html><body><div>发布时间：2023年2月15日 来源：办公室</div></body></html>")) \
        == (date(2023, 2, 15), "page info line")
    # 成文日期 is when it was written, not published; the labelled 发布日期 wins wherever it stands.
    got = page_date(root("<html><body><p>成文日期：2022-01-05</p><p>发布日期：2022-01-25</p></body></html>"))
    assert got == (date(2022, 1, 25), "page info line")
    assert page_date(root("<html><body><p>成文日期：2022-01-05</p></body></html>")) is None
    lst = root('<html><body><ul><li><a href="/a.html">其他</a><span>2022-03-01</span></li>'
               '<li><a href="/nb/2021.docx">2021年度报告</a><span>2022-01-18</span></li></ul></body></html>')
    assert link_date(lst, "http://h/zwgk/", "http://h/nb/2021.docx") == (date(2022, 1, 18), "date beside the link")
    assert link_date(lst, "http://h/zwgk/", "http://h/nb/none.docx") is None
    assert plausible(date(2022, 1, 18), 2021, date(2025, 1, 1))
    assert not plausible(date(2021, 3, 1), 2021, date(2025, 1, 1))  # before the year ended: another date


def _page(rep, extra_head: str = "", info: str = "") -> bytes:
    page = to_html(rep).decode()
    page = page.replace("<head>", f"<head>{extra_head}", 1).replace("</h1>", f"</h1>{info}", 1)
    return page.encode()


def _finished_crawl(archive, portal: str, ended: str) -> None:
    with archive.catalog.transaction() as db:
        db["runs"].insert({"kind": "crawl", "status": "ok", "portals": json.dumps([portal]),
                           "started_at": ended, "ended_at": ended})


def _no_original_opened(monkeypatch) -> None:
    """From here on, opening any original fails the test: verdicts must come from the catalog alone."""
    from archive.store.blobs import BlobStore

    def refuse(self, sha256):
        raise AssertionError(f"an original was opened at request time: {sha256}")

    monkeypatch.setattr(BlobStore, "open", refuse)
    monkeypatch.setattr(BlobStore, "read", refuse)


@pytest.mark.slow
def test_coverage_verdicts_rest_on_printed_dates_first_seen_and_harvests(archive, monkeypatch):
    dept, gov = "测试市财政局", "测试市人民政府"
    on_time = generate(701, year=2021, agency=dept)
    late = generate(702, year=2022, agency=dept)
    attached = generate(703, year=2023, agency=dept)
    undated = generate(704, year=2023, agency=gov)
    with archive.writer() as w:
        w.add(http_capture(f"http://{HOST}/nb/2021.html",
                           _page(on_time, '<meta name="PubDate" content="2022-01-20 10:00">')))
        w.add(http_capture(f"http://{HOST}/nb/2022.html", _page(late, info="<div>发布时间：2023-02-15</div>")))
        w.add(http_capture(f"http://{HOST}/nb/", '<html><body><ul><li><a href="/nb/2023.docx">2023年年报</a>'
                           '<span>2024-01-10</span></li></ul></body></html>'.encode()))
        w.add(http_capture(f"http://{HOST}/nb/2023.docx", to_docx(attached), content_type=DOCX,
                           referrer=f"http://{HOST}/nb/", link_text="2023年年报"))
        w.add(http_capture(f"http://{HOST}/gov/2023.html", _page(undated),
                           fetched_at=datetime(2024, 5, 6, 2, 0, tzinfo=UTC)))
    scope = [PortalScope("cov", [HOST], agency=dept)]
    today = date(2025, 6, 1)
    _no_original_opened(monkeypatch)  # the dates were stored at parse time (documents.published_dates)

    got = {(v.agency, v.year): v for v in archive.coverage(scope, today=today)}
    assert set(got) == {(dept, 2021), (dept, 2022), (dept, 2023), (dept, 2024), (gov, 2023), (gov, 2024)}
    v = got[(dept, 2021)]
    assert (v.status, v.published, v.deadline) == ("on_time", "2022-01-20", "2022-01-31")
    assert v.source.startswith("meta PubDate of http://127.0.0.70/nb/2021.html")
    v = got[(dept, 2022)]
    assert (v.status, v.published, v.days_late) == ("late", "2023-02-15", 15)
    v = got[(dept, 2023)]
    assert (v.status, v.published) == ("on_time", "2024-01-10")
    assert v.source == f"date beside the link of http://{HOST}/nb/"
    # No date printed, first seen after the deadline, and no harvest in between to prove absence.
    v = got[(gov, 2023)]
    assert (v.status, v.published, v.deadline) == ("undated", "2024-05-06", "2024-03-31")
    # Nothing for 2024, and no harvest since its deadline: not checked, not "missing".
    assert got[(dept, 2024)].status == "unchecked"

    # A finished harvest after the deadlines changes both verdicts: it looked and did not find them.
    _finished_crawl(archive, "cov", "2024-04-20T03:00:00.000000Z")
    _finished_crawl(archive, "cov", "2025-02-10T03:00:00.000000Z")
    got = {(v.agency, v.year): v for v in archive.coverage(scope, today=today)}
    assert (got[(gov, 2023)].status, got[(gov, 2023)].days_late) == ("late", 36)
    assert got[(dept, 2024)].status == "missing"
    assert got[(gov, 2024)].status == "unchecked"  # the government's deadline (31 March) is after that harvest

    # Before the deadline a missing report is only not due yet; --year narrows to one year.
    early = archive.coverage(scope, year=2024, today=date(2025, 1, 20))
    assert {(v.agency, v.status) for v in early} == {(dept, "not_due"), (gov, "not_due")}

    # A profile that spells the agency differently is told which names the reports carry.
    (alias,) = [v for v in archive.coverage([PortalScope("cov", [HOST], agency="测试市财政厅")], year=2021, today=today)
                if v.agency == "测试市财政厅"]
    assert alias.status == "missing" and "they name 测试市人民政府、测试市财政局" in alias.evidence[-1]

    # The command line: profiles in the archive's portals/ are matched to captures by host.
    from click.testing import CliRunner

    from crawler.cli import cli
    from spiders.profiles import PortalProfile, save

    save(PortalProfile(name="cov", start_urls=[f"http://{HOST}/"], agency=dept), archive.path / "portals")
    res = CliRunner().invoke(cli, ["coverage", "--archive", str(archive.path), "--year", "2022", "--today",
                                   "2025-06-01", "--json"])
    assert res.exit_code == 0, res.output
    got = {(v["agency"], v["status"], v["days_late"]) for v in json.loads(res.output)}
    # the government's history starts with its 2023 report, as in the list of every year
    assert got == {(dept, "late", 15)}

    # The web app's coverage (the page and the API) opens no original either; the trap is armed.
    from fastapi.testclient import TestClient

    from archive.web import create_app

    client = TestClient(create_app(archive.path, portals=scope), base_url="http://127.0.0.1")
    assert client.get("/api/coverage", params={"year": 2022}).status_code == 200
    assert client.get("/coverage").status_code == 200
    with pytest.raises(AssertionError, match="at request time"):
        archive.read_blob(archive.reports()[0]["primary_sha256"])


@pytest.mark.slow
def test_coverage_judges_every_report_however_it_arrived(archive, tmp_path, monkeypatch):
    """No profile at all: reports from a URL crawl and from `ingest` are judged, a gap year is unchecked
    (nobody looked), and the region × year matrix counts agencies, as JSON, CSV, the page and the CLI."""
    crawled, other, filed = "安康市财政局", "汉中市民政局", "安康市信访局"
    with archive.writer() as w:
        w.add(http_capture(f"http://{HOST}/a/2021.html", _page(generate(711, year=2021, agency=crawled),
                           '<meta name="PubDate" content="2022-01-20 10:00">')))
        w.add(http_capture(f"http://{HOST}/a/2023.html", _page(generate(712, year=2023, agency=crawled),
                           info="<div>发布时间：2024-02-15</div>")))
        w.add(http_capture(f"http://{HOST}/b/2022.html", _page(generate(713, year=2022, agency=other)),
                           fetched_at=datetime(2023, 1, 10, 2, 0, tzinfo=UTC)))
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "r.html").write_bytes(to_html(generate(714, year=2022, agency=filed)))
    archive.ingest([tmp_path / "in"])
    _no_original_opened(monkeypatch)
    today = date(2024, 6, 1)

    got = {(v.agency, v.year): v for v in archive.coverage(today=today)}
    assert set(got) == {(crawled, 2021), (crawled, 2022), (crawled, 2023), (other, 2022), (other, 2023),
                        (filed, 2022), (filed, 2023)}
    assert (got[(crawled, 2021)].status, got[(crawled, 2021)].region) == ("on_time", "安康市")
    assert got[(crawled, 2021)].explanation == (f"按时公开：2022-01-20 公开，依据页面元数据 PubDate（http://{HOST}/a/"
                                                "2021.html）；截止日期 2022-01-31")
    assert got[(crawled, 2023)].explanation.startswith("逾期 15 天：2024-02-15 公开，依据页面发布时间行（")
    assert (got[(crawled, 2023)].status, got[(crawled, 2023)].days_late) == ("late", 15)
    assert got[(crawled, 2022)].status == "unchecked" and "no portal profile" in got[(crawled, 2022)].evidence[0]
    assert (got[(other, 2022)].status, got[(other, 2022)].published) == ("on_time", "2023-01-10")  # first crawled
    # An ingested file says nothing of when it was published: known to exist, date unknown, never "late".
    v = got[(filed, 2022)]
    assert v.report_id and v.status == "undated" and v.published is None and "ingested" in v.evidence[0]
    assert v.explanation.startswith("日期不明：仅从本地文件导入")
    assert got[(crawled, 2022)].explanation == "未核查：档案中没有该年度报告，也没有门户配置抓取此机关"
    assert all(v.portal == "" for v in got.values())

    grid = {(r["region"], r["year"]): r for r in archive.coverage_matrix(today=today)}
    assert grid[("安康市", 2022)] == {"region": "安康市", "year": 2022, "agencies": 2, "on_time": 0, "late": 0,
                                     "undated": 1, "missing": 0, "unchecked": 1, "not_due": 0, "on_time_share": 0.0}
    assert (grid[("汉中市", 2022)]["on_time"], grid[("汉中市", 2022)]["on_time_share"]) == (1, 1.0)
    assert [v.agency for v in archive.coverage(today=today, region="汉中市")] == [other, other]

    from click.testing import CliRunner
    from fastapi.testclient import TestClient

    from archive.web import create_app
    from crawler.cli import cli

    res = CliRunner().invoke(cli, ["coverage", "--archive", str(archive.path), "--today", "2024-06-01", "--matrix",
                                   "--csv"])
    assert res.exit_code == 0, res.output
    lines = res.output.lstrip("\ufeff").splitlines()
    assert lines[0] == "region,year,agencies,on_time,late,undated,missing,unchecked,not_due,on_time_share"
    assert "安康市,2021,1,1,0,0,0,0,0,1.0" in lines
    res = CliRunner().invoke(cli, ["coverage", "--archive", str(archive.path), "--today", "2024-06-01", "--year",
                                   "2023", "--json"])
    assert {(v["agency"], v["status"]) for v in json.loads(res.output)} == {
        (crawled, "late"), (other, "unchecked"), (filed, "unchecked")}
    res = CliRunner().invoke(cli, ["coverage", "--archive", str(archive.path), "--today", "2024-06-01", "--matrix"])
    assert res.exit_code == 0 and "0/2" in res.output  # 安康市 2022: neither of its two agencies on time

    client = TestClient(create_app(archive.path), base_url="http://127.0.0.1")
    page = client.get("/coverage", params={"region": "安康市"})
    assert page.status_code == 200 and 'id="coverage-matrix"' in page.text and crawled in page.text
    assert other not in page.text  # filtered by region
    late = client.get("/coverage", params={"status": "late"}).text
    assert late.count('<tr class="late">') == 1 and "逾期 15 天：2024-02-15 公开" in late
    csv_text = client.get("/api/coverage.csv").content.decode("utf-8")
    assert csv_text.startswith("\ufeffregion,agency,year,status")
    assert csv_text.count("\n") == 1 + len(archive.coverage())  # the app judges as of today
    m = client.get("/api/coverage/matrix", params={"year": 2022}).json()
    assert {(r["region"], r["agencies"]) for r in m} == {("安康市", 2), ("汉中市", 1)}
    assert client.get("/api/coverage/matrix.csv").headers["content-type"].startswith("text/csv")

    # --year judges the same agencies the full list does for that year (no verdict before a first report)
    for y in (2021, 2022, 2023):
        assert [v.as_dict() for v in archive.coverage(today=today, year=y)] == [
            v.as_dict() for v in archive.coverage(today=today) if v.year == y]
    # A printed date is evidence only for its own report's year, and only up to the day judged.
    with archive.catalog.transaction() as db:
        db.execute("UPDATE documents SET published = '2021-05-01' WHERE id = (SELECT d.id FROM documents d "
                   "JOIN reports r ON r.id = d.report_id WHERE r.agency = ? AND r.year = 2021)", [crawled])
    v = {(v.agency, v.year): v for v in archive.coverage(today=today)}[(crawled, 2021)]
    assert v.source.startswith("first seen") and v.published != "2021-05-01"
    assert archive.show(f"{crawled}/2021")["publication"]["published"] != "2021-05-01"  # the report page agrees
    v = {(v.agency, v.year): v for v in archive.coverage(today=date(2024, 2, 1))}[(crawled, 2023)]
    assert v.status == "undated" and v.published != "2024-02-15"  # printed after the day judged: not yet
    # A report whose agency was never read belongs to nobody's history: no "?" agency, no merged years.
    with archive.catalog.transaction() as db:
        db.execute("UPDATE reports SET agency = NULL, agency_key = NULL WHERE agency = ?", [other])
    assert {v.agency for v in archive.coverage(today=today)} == {crawled, filed}
