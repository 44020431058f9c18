"""Documents in no report: a page that names no agency joins the report of its PDF whichever is examined
first, `nianbao reparse` settles what an older archive left, and the reasons are told in words."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from archive.examine.identity import NO_AGENCY, NO_YEAR, WEAK_ONLY
from crawler.cli import cli
from helpers.captures import http_capture

PDF = "application/pdf"
HOST = "http://127.0.0.80"
PAGE_URL, PDF_URL = f"{HOST}/nb/2022/t1.html", f"{HOST}/uploads/2021nb.pdf"


def anonymous_page(docs, sample: str = "report0", agency: str = "安康市信访局") -> bytes:
    """A sample report page with its agency taken out: the title starts with the year, the text says 本局."""
    text = (docs / f"{sample}.html").read_text(encoding="utf-8")
    return text.replace(agency, "本局").replace("<title>本局", "<title>").replace("安康市汉滨区", "").encode()


def page_capture(docs, **kw):
    return http_capture(PAGE_URL, anonymous_page(docs, **kw))


def pdf_capture(docs, sample: str = "report0"):
    return http_capture(PDF_URL, (docs / f"{sample}.pdf").read_bytes(), content_type=PDF, referrer=PAGE_URL,
                        link_text="附件：2021年度报告.pdf")


def documents_by_kind(archive) -> dict[str, dict]:
    (row,) = archive.reports()
    return {d["kind"]: d for d in archive.show(row["id"])["documents"]}


@pytest.mark.parametrize("order", ["page first", "pdf first", "one session"])
def test_a_page_naming_no_agency_and_its_pdf_are_one_report_whichever_comes_first(archive, docs, order):
    first, second = page_capture(docs), pdf_capture(docs)
    if order == "pdf first":
        first, second = second, first
    with archive.writer() as w:
        w.add(first)
        if order == "one session":
            w.add(second)
    if order == "page first":
        assert archive.stats()["reports"] == 0
        assert [r["reason"] for r in archive.unassigned()] == [NO_AGENCY]
    if order != "one session":
        with archive.writer() as w:
            w.add(second)
    (row,) = archive.reports()
    assert (row["agency"], row["year"], row["documents"], row["revisions"]) == ("安康市信访局", 2021, 2, 1)
    page = documents_by_kind(archive)["html"]
    assert page["identity"]["report"] == f"same year, unknown agency, its attachment {PDF_URL} is in this report"
    assert archive.unassigned() == [] and archive.unassigned_reasons() == {}


def test_the_link_joins_a_page_whose_numbers_are_not_its_pdfs(archive, docs):
    """Numbers alone would keep this page out; the crawl saw it link the PDF, so they are one publication."""
    with archive.writer() as w:
        w.add(page_capture(docs, sample="report2", agency="湘潭县信访局"))
    with archive.writer() as w:
        w.add(pdf_capture(docs))
    (row,) = archive.reports()
    assert (row["agency"], row["documents"]) == ("安康市信访局", 2)
    assert "its attachment" in documents_by_kind(archive)["html"]["identity"]["report"]


def test_a_page_of_another_year_does_not_join_its_attachment(archive, docs):
    with archive.writer() as w:
        w.add(page_capture(docs, sample="report3", agency="信访局"))  # the 2022 report
        w.add(pdf_capture(docs))  # the 2021 PDF
    assert [(r["agency"], r["year"]) for r in archive.reports()] == [("安康市信访局", 2021)]
    assert [(r["kind"], r["year"], r["reason"], r["url"]) for r in archive.unassigned()] == [
        ("html", 2022, NO_AGENCY, PAGE_URL)]


def test_reparse_settles_what_an_older_archive_left_unassigned(archive, docs):
    with archive.writer() as w:
        w.add(page_capture(docs))
        w.add(pdf_capture(docs))
    with archive.catalog.transaction():  # what placement before issue 12 left: the page stuck in no report
        archive.catalog.conn.execute("UPDATE documents SET report_id = NULL, revision_id = NULL, identity = ? "
                                     "WHERE kind = 'html'", (json.dumps({"report": "no agency: kept unassigned"}),))
    assert archive.unassigned_reasons() == {"no agency: kept unassigned": 1}
    res = archive.reparse()
    assert (res.parsed, res.documents, res.reports, res.unassigned) == (0, 2, 1, 0)
    assert archive.reports()[0]["documents"] == 2


def test_reports_ends_with_the_unassigned_and_lists_them_on_request(archive, docs):
    no_year = re.sub(r"20\d\d", "", (docs / "report1.html").read_text(encoding="utf-8"))
    with archive.writer() as w:
        w.add(http_capture(f"{HOST}/a.html", no_year.encode()))
        w.add(http_capture(f"{HOST}/b.html", anonymous_page(docs, sample="report3", agency="信访局")))
        w.add(http_capture(f"{HOST}/c.html", (docs / "report2.html").read_bytes()))
    assert archive.unassigned_reasons() == {NO_AGENCY: 1, NO_YEAR: 1}
    where = ["--archive", str(archive.path)]
    res = CliRunner().invoke(cli, ["reports", *where])
    assert res.exit_code == 0, res.output
    tail = res.output.strip().splitlines()[-3:]
    assert "2 documents are in no report" in tail[0] and "nianbao reports --unassigned" in tail[0]
    assert tail[1].split() == ["1", *NO_AGENCY.split()] and tail[2].split() == ["1", *NO_YEAR.split()]
    res = CliRunner().invoke(cli, ["reports", "--unassigned", *where])
    assert res.exit_code == 0, res.output
    assert f"{HOST}/a.html" in res.output and f"{HOST}/b.html" in res.output and f"{HOST}/c.html" not in res.output
    res = CliRunner().invoke(cli, ["reports", "--unassigned", "--json", *where])
    got = {r["url"]: r["reason"] for r in json.loads(res.output)}
    assert got == {f"{HOST}/a.html": NO_YEAR, f"{HOST}/b.html": NO_AGENCY}


def test_the_crawl_summary_counts_the_unassigned_by_reason(archive, docs):
    from rich.console import Console

    from crawler.run import summarize
    from crawler.summary import print_crawl_summary
    from spiders.profiles import PortalProfile

    with archive.writer() as w:
        w.add(http_capture(f"{HOST}/b.html", anonymous_page(docs, sample="report3", agency="信访局")))
        w.add(page_capture(docs))
        w.add(pdf_capture(docs))
        run_id = w.run_id
    summary = summarize(archive, run_id, [PortalProfile(name="anon", start_urls=[f"{HOST}/"])])
    (portal,) = summary.portals
    assert portal.reports == {"2021": ["安康市信访局"]} and portal.unassigned == {NO_AGENCY: 1}
    console = Console(record=True, width=400)
    print_crawl_summary(console, summary)
    assert f"1 in no report │ 1 × {NO_AGENCY} (nianbao reports --unassigned lists them)" in console.export_text()


@pytest.mark.slow
@pytest.mark.libreoffice
def test_a_crawl_of_a_portal_whose_report_pages_name_no_agency(tmp_path):
    """Each report page names no agency; its PDF does: one report of two documents per year."""
    from archive import Archive
    from crawler.run import crawl_in_subprocess
    from spiders.demo.portals import build
    from spiders.demo.server import PortalServer
    from spiders.profiles import PortalProfile

    portal = build("unnamed", 41, [2023, 2024])
    server = PortalServer(portal.site, host="127.0.0.81").start()
    try:
        summary = crawl_in_subprocess(
            tmp_path / "archive", [PortalProfile(name=portal.name, start_urls=[server.url + "/"], delay=0.0)],
            browser="never", progress=False, patience_ms=20_000, overrides={"AUTOTHROTTLE_START_DELAY": 0.0})
    finally:
        server.stop()
    (found,) = summary["portals"]
    assert {(a, int(y)) for y, names in found["reports"].items() for a in names} == portal.expected
    assert found["documents"] == {"html": 2, "pdf": 2} and found["unassigned"] == {}
    with Archive.open(tmp_path / "archive", readonly=True) as a:
        rows = a.reports()
        assert sorted((r["agency"], r["year"], r["documents"], r["revisions"]) for r in rows) == [
            (portal.agency, 2023, 2, 1), (portal.agency, 2024, 2, 1)]
        for r in rows:
            page = next(d for d in a.show(r["id"])["documents"] if d["kind"] == "html")
            assert "unknown agency" in page["identity"]["report"]


# -- a name only the site gives (a department's page on a county portal) --------------------------------

def site_page(docs, site: str = "安康市人民政府") -> bytes:
    """The anonymous page on a portal whose SiteName is the government's, not the department's."""
    return anonymous_page(docs).replace(b"<head>", f'<head><meta name="SiteName" content="{site}">'.encode(), 1)


@pytest.mark.parametrize("order", ["page first", "pdf first"])
def test_a_page_named_only_by_its_site_joins_its_pdf_and_the_report_takes_the_pdfs_name(archive, docs, order):
    page, pdf = http_capture(PAGE_URL, site_page(docs)), pdf_capture(docs)
    for cap in ([page, pdf] if order == "page first" else [pdf, page]):
        with archive.writer() as w:
            w.add(cap)
    (row,) = archive.reports()
    assert (row["agency"], row["year"], row["documents"]) == ("安康市信访局", 2021, 2)
    html = documents_by_kind(archive)["html"]
    assert html["agency"] == "安康市人民政府"  # what the page said, kept as the parser read it
    if order == "pdf first":
        assert "the agency only named by the site" in html["identity"]["report"]
    assert archive.show("安康市信访局/2021")["agency"] == "安康市信访局"  # found under its own name


OWN_URL = f"{HOST}/zfxxgk/2021.html"


def governments_own_report(docs) -> bytes:
    """The government's own 2021 report (other numbers than the department's)."""
    return (docs / "report2.html").read_text(encoding="utf-8").replace("湘潭县信访局", "安康市人民政府").encode()


def titled_by_site(docs) -> bytes:
    """The department's page whose <title> ends with the portal's name, and no SiteName meta."""
    return re.sub(rb"<title>[^<]*</title>", "<title>2021年度政府信息公开工作年度报告_安康市人民政府</title>".encode(),
                  anonymous_page(docs), count=1)


@pytest.mark.parametrize("page_first", [True, False])
@pytest.mark.parametrize("page", [site_page, titled_by_site], ids=["SiteName", "title suffix"])
def test_a_page_named_only_by_its_site_is_not_put_in_the_sites_own_report(archive, docs, page_first, page):
    """The government's own report of the year; a department's page that only the portal names must not
    become a document of it (nor take its name first), whichever comes first."""
    caps = [http_capture(PAGE_URL, page(docs)), http_capture(OWN_URL, governments_own_report(docs))]
    for cap in (caps if page_first else caps[::-1]):
        with archive.writer() as w:
            w.add(cap)
    (row,) = archive.reports()
    assert (row["agency"], row["documents"]) == ("安康市人民政府", 1)
    assert [(r["url"], r["reason"]) for r in archive.unassigned()] == [(PAGE_URL, WEAK_ONLY)]


def test_reparse_keeps_a_page_named_only_by_its_site_with_its_pdf(archive, docs):
    for cap in (http_capture(PAGE_URL, site_page(docs)), pdf_capture(docs)):
        with archive.writer() as w:
            w.add(cap)
    archive.reparse()
    (row,) = archive.reports()
    assert (row["agency"], row["documents"]) == ("安康市信访局", 2)
    assert archive.unassigned() == []


@pytest.mark.parametrize("page_first", [True, False])
def test_a_page_with_no_year_joins_the_report_of_its_pdf(archive, docs, page_first):
    """No year anywhere on the page (nor agency); the PDF it links names both: one report either way."""
    page = re.sub(rb"20\d\d", b"", anonymous_page(docs))
    caps = [http_capture(PAGE_URL, page), pdf_capture(docs)]
    for cap in (caps if page_first else caps[::-1]):
        with archive.writer() as w:
            w.add(cap)
    (row,) = archive.reports()
    assert (row["agency"], row["year"], row["documents"]) == ("安康市信访局", 2021, 2)
    html = documents_by_kind(archive)["html"]
    assert html["year"] is None and html["identity"]["report"] == (
        f"no year found, its attachment {PDF_URL} is in this report (2021)")
    assert archive.unassigned() == []
