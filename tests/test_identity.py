"""Report identity and revisions: one report per agency and year, whatever the format or URL."""

from __future__ import annotations

import pytest

from archive.examine.identity import DocPrint, ReportCandidate, RevisionCandidate, decide_report, decide_revision
from archive.parser.fingerprint import numbers
from helpers.captures import http_capture

PDF = "application/pdf"


def test_same_bytes_from_two_urls_make_one_blob_and_two_captures(archive, docs):
    pdf = (docs / "report3.pdf").read_bytes()
    with archive.writer() as w:
        a = w.add(http_capture("http://127.0.0.2/nb/P1.pdf", pdf, content_type=PDF))
        b = w.add(http_capture("http://127.0.0.3/other/P9.pdf", pdf, content_type=PDF))
    assert a.sha256 == b.sha256 and a.new_blob and not b.new_blob
    s = archive.stats()
    assert (s["blobs"], s["captures"], s["documents"], s["reports"]) == (1, 2, 1, 1)
    urls = {c["final_url"] for c in archive.show(1)["documents"][0]["captures"]}
    assert urls == {"http://127.0.0.2/nb/P1.pdf", "http://127.0.0.3/other/P9.pdf"}


def test_html_page_and_its_pdf_are_one_report_with_two_documents(archive, docs):
    with archive.writer() as w:
        w.add(http_capture("http://127.0.0.2/nb/t1.html", (docs / "report0.html").read_bytes(), gzip_it=True))
        w.add(http_capture("http://127.0.0.2/nb/P1.pdf", (docs / "report0.pdf").read_bytes(), content_type=PDF,
                           referrer="http://127.0.0.2/nb/t1.html", link_text="附件"))
    rows = archive.reports()
    assert len(rows) == 1
    r = rows[0]
    assert (r["agency"], r["year"], r["documents"], r["revisions"]) == ("安康市信访局", 2021, 2, 1)
    shown = archive.show(r["id"])
    assert {d["kind"] for d in shown["documents"]} == {"html", "pdf"}
    assert shown["documents"][1]["captures"][0]["referrer"] == "http://127.0.0.2/nb/t1.html"
    # The HTML page is the better rendition of the revision.
    assert next(d for d in shown["documents"] if d["kind"] == "html")["sha256"] == shown["source_sha256"]


@pytest.mark.slow
def test_every_format_of_every_sample_groups_into_five_reports(archive, docs):
    files = sorted(p for p in docs.iterdir() if p.suffix in (".html", ".pdf", ".docx") and "scanned" not in p.name)
    res = archive.ingest(files)
    assert res.files == len(files) and not res.errors
    rows = archive.reports()
    assert len(rows) == 5
    assert sorted(r["documents"] for r in rows) == [3, 3, 3, 3, 4]  # report1 also as GBK HTML
    assert all(r["revisions"] == 1 for r in rows)


def test_a_changed_reupload_makes_a_second_revision_and_keeps_the_first(archive, docs):
    page = (docs / "report0.html").read_bytes()
    url = "http://127.0.0.2/nb/t1.html"
    with archive.writer() as w:
        w.add(http_capture(url, page))
        w.add(http_capture("http://127.0.0.2/nb/P1.pdf", (docs / "report0.pdf").read_bytes(), content_type=PDF))
    corrected = page.replace("局网站发布信息651条".encode(), "局网站发布信息652条".encode())
    assert corrected != page
    with archive.writer() as w:
        w.add(http_capture(url, corrected))
    shown = archive.show(1)
    assert shown["revision"] == 2
    assert [len(v["documents"]) for v in shown["revisions"]] == [2, 1]
    assert len(archive.reports()) == 1
    # The first revision's originals are still there, byte for byte.
    first = shown["revisions"][0]
    assert archive.read_blob(first["primary_sha256"]) == page
    assert archive.read_blob(shown["source_sha256"]) == corrected


def test_same_text_in_a_different_wrapper_stays_in_the_revision(archive, docs):
    page = (docs / "report2.html").read_bytes()
    recrawled = page.replace(b'<span id="views">1024</span>', b'<span id="views">5310</span>')
    assert recrawled != page
    with archive.writer() as w:
        w.add(http_capture("http://127.0.0.2/a.html", page))
        w.add(http_capture("http://127.0.0.2/a.html", recrawled))
    shown = archive.show(1)
    assert len(shown["documents"]) == 2 and len(shown["revisions"]) == 1


@pytest.mark.slow
def test_other_years_and_agencies_stay_apart(archive, docs):
    with archive.writer() as w:
        for n in range(5):
            w.add(http_capture(f"http://127.0.0.2/{n}.pdf", (docs / f"report{n}.pdf").read_bytes(), content_type=PDF))
    assert len(archive.reports()) == 5


# -- the rule itself --------------------------------------------------------------------------------

REPORT_NUMBERS = numbers("收到申请12件，答复11件，结转1件。表中：12 3 0 0 1 0 16 / 2 0 0 0 0 0 2 / 9 2 0 0 1 0 12 "
                         "/ 3 0 0 0 0 0 3 / 7 1 0 0 0 0 8 / 2021年 发布信息651条 新闻251条 通知3条 解读16条")
OTHER_NUMBERS = numbers("收到申请40件，答复38件。表中：40 6 1 2 3 2 54 / 0 1 0 0 0 0 1 / 33 4 1 1 2 1 42 / 7 3 0 1 1 1 "
                        "13 / 2021年 发布信息88条 新闻70条 通知9条 解读2条")


def doc(agency, year=2021, nums=REPORT_NUMBERS, kind="pdf", text=None):
    return DocPrint(kind=kind, agency_key=agency, year=year, numbers=nums, text_sha256=text)


def test_rule_fuzzy_agency_needs_agreeing_numbers():
    cand = [ReportCandidate(7, "安康市行政审批服务局", 2021, [doc("安康市行政审批服务局", kind="html")])]
    assert decide_report(doc("安康市行政审批局"), cand).target == 7
    assert decide_report(doc("信访局", nums=REPORT_NUMBERS), [ReportCandidate(3, "汝州市信访局", 2021,
                                                                           [doc("汝州市信访局")])]).target == 3
    # Compatible name, numbers of another report: a new report, never a merge on names alone.
    d = decide_report(doc("安康市行政审批局", nums=OTHER_NUMBERS), cand)
    assert d.target is None and d.create


def test_rule_unknown_agency_joins_only_on_numbers():
    cand = [ReportCandidate(5, "固原市信访局", 2021, [doc("固原市信访局", kind="html")])]
    assert decide_report(doc(None), cand).target == 5
    d = decide_report(doc(None, nums=OTHER_NUMBERS), cand)
    assert d.target is None and not d.create  # kept unassigned
    assert decide_report(doc("固原市信访局", year=None), cand).target is None


def test_rule_different_agencies_with_the_same_numbers_stay_apart():
    cand = [ReportCandidate(1, "湘潭县信访局", 2021, [doc("湘潭县信访局")])]
    d = decide_report(doc("岳塘区司法局"), cand)
    assert d.create and d.target is None


def test_rule_all_zero_tables_prove_nothing():
    zeros = ["0"] * 200 + ["2021"]
    cand = [ReportCandidate(1, "湘潭县信访局", 2021, [doc("湘潭县信访局", nums=zeros)])]
    assert decide_report(doc(None, nums=zeros), cand).target is None


def test_rule_revisions():
    rev1 = RevisionCandidate(11, 1, [doc("a", kind="html", text="t1")])
    assert decide_revision(doc("a", kind="pdf", text="t-pdf"), [rev1]).target == 11  # another format
    assert decide_revision(doc("a", kind="html", text="t1"), [rev1]).target == 11  # same text
    changed = decide_revision(doc("a", kind="html", text="t2"), [rev1])
    assert changed.create and changed.target is None
    rev2 = RevisionCandidate(12, 2, [doc("a", kind="pdf", text="t3")])
    # A recapture of the first version's text belongs to the first revision, not the newest.
    assert decide_revision(doc("a", kind="html", text="t1"), [rev1, rev2]).target == 11


def test_rule_an_unnamed_page_joins_the_one_report_holding_its_attachment():
    linked = ReportCandidate(4, "安康市信访局", 2021, [doc("安康市信访局")], link="its attachment http://h/a.pdf")
    other = ReportCandidate(6, "湘潭县信访局", 2021, [doc("湘潭县信访局", nums=OTHER_NUMBERS)])
    d = decide_report(doc(None, kind="html", nums=OTHER_NUMBERS), [other, linked])
    assert d.target == 4 and "its attachment http://h/a.pdf" in d.reason  # the link wins over numbers
    # Another year's report, or two reports each holding one of its attachments, tell nothing.
    assert decide_report(doc(None, year=2022, nums=OTHER_NUMBERS), [linked]).target is None
    two = ReportCandidate(8, "西安市信访局", 2021, [doc("西安市信访局", nums=[])], link="its attachment http://h/b.pdf")
    assert decide_report(doc(None, kind="html", nums=REPORT_NUMBERS[:3]), [linked, two]).target is None
    # A named document is placed by its name: a link never pulls it into another agency's report.
    d = decide_report(doc("岳塘区司法局", kind="html", nums=OTHER_NUMBERS), [linked])
    assert d.create and d.target is None


def test_rule_the_portal_profiles_agency_founds_a_report_but_never_joins_one_by_name():
    assumed = DocPrint(kind="html", agency_key="某某县人民政府", year=2021, numbers=OTHER_NUMBERS,
                       agency_assumed=True)
    assert decide_report(assumed, []).create  # the portal's own report, named by nothing else
    county = [ReportCandidate(4, "某某县人民政府", 2021, [doc("某某县人民政府")])]
    d = decide_report(assumed, county)  # a department's report on its government's portal, say
    assert d.target is None and not d.create and "portal profile" in d.reason
    same = DocPrint(kind="html", agency_key="某某县人民政府", year=2021, numbers=REPORT_NUMBERS, agency_assumed=True)
    assert decide_report(same, county).target == 4  # the same report again: its numbers agree
