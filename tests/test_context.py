"""Context captured once and carried forward: link text, page titles, site meta and printed dates
reach the stored parse result at examine time, and coverage reads them without opening an original."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from archive.catalog.coverage import PortalScope
from archive.parser import ParseContext, ParseResult, parse
from archive.store.blobs import BlobStore
from archive.store.body import Body
from helpers.captures import http_capture
from spiders.demo.generator import generate, to_docx, to_html

HOST = "127.0.0.71"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
LIST = ('<html><head><title>年度报告_测试市财政局</title><meta name="SiteName" content="测试市财政局">'
        '<meta name="SiteIDCode" content="1234000001"></head><body><ul>'
        '<li><a href="/nb/2023.docx">2023年年报</a><span>2024-01-10</span></li></ul></body></html>').encode()


def _page(rep, head: str) -> bytes:
    return to_html(rep).decode().replace("<head>", f"<head>{head}", 1).encode()


def _fill(archive, *, list_first: bool = True) -> tuple[str, str]:
    dept = "测试市财政局"
    head = '<meta name="PubDate" content="2022-01-20 10:00"><meta name="SiteName" content="测试市财政局">'
    page = http_capture(f"http://{HOST}/nb/2021.html", _page(generate(801, year=2021, agency=dept), head))
    lst = http_capture(f"http://{HOST}/nb/", LIST, fetched_at=datetime(2024, 1, 11, tzinfo=UTC))
    att = http_capture(f"http://{HOST}/nb/2023.docx", to_docx(generate(802, year=2023, agency=dept)),
                       content_type=DOCX, referrer=f"http://{HOST}/nb/", link_text="2023年年报",
                       fetched_at=datetime(2024, 1, 12, tzinfo=UTC))
    att.request_headers.append(("Referer", f"http://{HOST}/nb/"))  # as the crawler sends it (a WARC keeps it)
    with archive.writer() as w:
        w.add(page)
        for cap in ([lst, att] if list_first else [att]):
            w.add(cap)
    if not list_first:  # the list page archived (and examined) after its attachment
        with archive.writer() as w:
            w.add(lst)
    return dept, f"http://{HOST}/nb/"


def _doc(archive, url: str) -> dict:
    return archive.catalog.one("SELECT d.* FROM documents d JOIN captures k ON k.sha256 = d.sha256 WHERE k.url = ?",
                               (url,))


def test_link_text_page_title_and_site_meta_reach_the_stored_parse_result(archive):
    _, list_url = _fill(archive)
    att = _doc(archive, f"http://{HOST}/nb/2023.docx")
    ctx = json.loads(att["context"])
    assert ctx["link_text"] == "2023年年报" and ctx["referrer"] == list_url
    assert ctx["referrer_title"] == "年度报告_测试市财政局"
    assert ctx["referrer_meta"] == {"SiteName": "测试市财政局", "SiteIDCode": "1234000001"}  # no labelled fields
    assert ctx["kind"] == "docx"
    assert (att["published"], att["published_source"]) == ("2024-01-10", f"date beside the link of {list_url}")
    page = _doc(archive, f"http://{HOST}/nb/2021.html")
    assert (page["published"], page["published_source"]) == (
        "2022-01-20", f"meta PubDate of http://{HOST}/nb/2021.html")
    facts = json.loads(archive.catalog.scalar("SELECT b.page FROM blobs b JOIN captures k ON k.sha256 = b.sha256 "
                                              "WHERE k.url = ?", (list_url,)))
    assert facts["links"] == [["/nb/2023.docx", "2024-01-10", "date beside the link"]]
    # The document names its agency and year itself, so the context changes none of it; the report
    # only records where its publication date came from.
    data = archive.read_blob(att["sha256"])
    bare = parse(data, filename="2023.docx")
    with_ctx = parse(data, context=ParseContext(kind="docx", link_text="2023年年报", link_date="2024-01-10",
                                                 link_date_source="date beside the link of x"))
    assert with_ctx.report.pop("provenance") == {**bare.report.pop("provenance"), "published": "referrer"}
    assert bare.report == with_ctx.report and bare.context is None
    assert (with_ctx.published, with_ctx.context.link_text) == ("2024-01-10", "2023年年报")


def test_an_attachment_examined_before_its_list_page_is_dated_when_the_page_is(archive):
    _fill(archive, list_first=False)
    att = _doc(archive, f"http://{HOST}/nb/2023.docx")
    assert att["published"] == "2024-01-10"


def test_coverage_reads_no_original(archive, monkeypatch):
    dept, _ = _fill(archive)
    scope = [PortalScope("ctx", [HOST], agency=dept)]
    today = date(2025, 6, 1)
    before = [v.as_dict() for v in archive.coverage(scope, today=today)]

    def refuse(*a, **k):
        raise AssertionError("coverage read an original")

    monkeypatch.setattr(BlobStore, "read", refuse)
    monkeypatch.setattr(type(archive), "read_blob", refuse)
    after = [v.as_dict() for v in archive.coverage(scope, today=today)]
    assert after == before
    got = {v["year"]: v for v in after}
    assert (got[2021]["status"], got[2021]["published"]) == ("on_time", "2022-01-20")
    assert (got[2023]["status"], got[2023]["source"]) == ("on_time", f"date beside the link of http://{HOST}/nb/")


def test_the_parser_trusts_the_kind_it_is_given(monkeypatch):
    import archive.parser as parser

    monkeypatch.setattr(parser, "sniff", lambda *a, **k: pytest.fail("sniffed again"))
    res = parse(to_docx(generate(803, year=2022)), context=ParseContext(kind="docx"))
    assert res.kind == "docx" and res.is_report


def test_parse_results_round_trip_through_dicts():
    res = parse(_page(generate(804, year=2022), '<meta name="PubDate" content="2023-01-05">'),
                context=ParseContext(url="http://h/a.html", link_text="年报", referrer_meta={"SiteName": "x"}))
    assert res.published == "2023-01-05" and res.page["meta"]["PubDate"] == "2023-01-05"
    data = json.loads(json.dumps(res.to_dict(), ensure_ascii=False))
    assert ParseResult.from_dict(data) == res
    old = {k: v for k, v in data.items() if k not in ("context", "published", "published_source", "page")}
    back = ParseResult.from_dict(old)  # a result written before context existed
    assert (back.report, back.context, back.page) == (res.report, None, {})


def test_the_writer_decides_the_kind_once_even_for_a_spooled_docx(archive, tmp_path, monkeypatch):
    """A DOCX whose first ZIP entry hides ``word/`` from the first bytes is still a DOCX when its body
    is on disk; examining it trusts that kind and does not sniff the bytes again."""
    import io
    import os
    import zipfile

    import archive.parser as parser

    src = zipfile.ZipFile(io.BytesIO(to_docx(generate(805, year=2022))))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        out.writestr(zipfile.ZipInfo("aaa.bin"), os.urandom(8192))  # stored, not compressed
        for item in src.infolist():
            out.writestr(item, src.read(item))
    assert b"word/" not in buf.getvalue()[:4096]
    path = tmp_path / "report.bin"
    path.write_bytes(buf.getvalue())
    monkeypatch.setattr(parser, "sniff", lambda *a, **k: pytest.fail("sniffed again"))
    with archive.writer() as w:
        cap = http_capture(f"http://{HOST}/f/report", b"", content_type="application/octet-stream")
        cap.body = Body(path=path)  # spooled to disk, as a large download is
        added = w.add(cap)
    assert added.kind == "docx"
    assert archive.catalog.scalar("SELECT role FROM blobs WHERE sha256 = ?", (added.sha256,)) == "report"


def test_a_handover_carries_page_facts_so_the_owner_dates_without_parsing(tmp_path):
    import uuid

    from archive import Archive
    from archive.ingest.handover import import_handover, pack
    from archive.store.shared import SharedStore

    with Archive.open(tmp_path / "scratch") as scratch:
        _, list_url = _fill(scratch)
        run_id = scratch.catalog.scalar("SELECT max(id) FROM runs")
        shared = SharedStore(f"memory://nianbao-{uuid.uuid4().hex}")
        pack(scratch, shared, "task-ctx", portal="p", run_id=run_id)
    with Archive.open(tmp_path / "owner") as owner:
        _, res = import_handover(owner, shared, "task-ctx")
        assert res.parsed_here == 0 and res.parse_results_used == 3
        att = _doc(owner, f"http://{HOST}/nb/2023.docx")
        assert (att["published"], att["published_source"]) == ("2024-01-10", f"date beside the link of {list_url}")
        assert json.loads(att["context"])["referrer_meta"]["SiteIDCode"] == "1234000001"


def test_migration_marks_html_for_examining_again_and_reparse_restores_the_verdicts(archive):
    import sqlite_utils

    from archive.catalog.migrations import MIGRATIONS

    db = sqlite_utils.Database(memory=True)
    for version, _, fn in MIGRATIONS:
        if version == 7:
            db["blobs"].insert_all([{"sha256": s, "size": 1, "stored_size": 1, "encoding": "raw", "first_seen": "x",
                                     "kind": k, "examined_by": "1.0.0"} for s, k in (("a", "html"), ("b", "pdf"))])
        fn(db)
    assert {r["kind"]: r["examined_by"] for r in db.query("SELECT kind, examined_by FROM blobs")} == {
        "html": None, "pdf": "1.0.0"}

    dept, _ = _fill(archive)
    scope = [PortalScope("ctx", [HOST], agency=dept)]
    today = date(2025, 6, 1)
    want = [v.as_dict() for v in archive.coverage(scope, today=today)]
    with archive.catalog.transaction() as c:  # an archive examined before migration 7, just migrated
        c.execute("UPDATE documents SET context = NULL, published = NULL, published_source = NULL, "
                  "published_dates = NULL")
        c.execute("UPDATE blobs SET page = NULL")
        c.execute("UPDATE blobs SET examined_by = NULL WHERE kind = 'html'")
    stale = {v.year: v for v in archive.coverage(scope, today=today)}
    assert stale[2023].source.startswith("first seen by nianbao")  # no printed date until examined again
    archive.reparse()
    assert [v.as_dict() for v in archive.coverage(scope, today=today)] == want


def test_coverage_of_a_catalog_from_before_migration_7_opened_read_only(archive, tmp_path):
    """`nianbao coverage` and `serve` open read-only, which never migrates: no printed dates, no crash."""
    from archive import Archive

    dept, _ = _fill(archive)
    scope = [PortalScope("ctx", [HOST], agency=dept)]
    with archive.catalog.transaction() as c:  # the catalog as nianbao wrote it before migration 7
        c.execute("DROP INDEX IF EXISTS idx_documents_published")
        c.execute("ALTER TABLE documents DROP COLUMN published_dates")
        c.execute("DELETE FROM _migrations WHERE version = 7")
    archive.close()
    with Archive.open(archive.path, readonly=True) as old:
        verdicts = {v.year: v for v in old.coverage(scope, today=date(2025, 6, 1))}
    assert verdicts[2023].report_id and verdicts[2023].source.startswith("first seen by nianbao")
