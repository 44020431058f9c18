"""Originals as archived copies (issue 15): the banner page around a sandboxed original, an HTML original's
links to what the archive holds pointed at the archived copies (one lookup for all of them), and downloads
named ``<机关>_<年度>_<sha8>.<ext>``."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import UTC, datetime
from urllib.parse import quote, unquote

import lxml.html
import pytest
from fastapi.testclient import TestClient

from archive import Archive
from archive.catalog.originals import safe_name
from archive.web import create_app
from helpers.captures import http_capture
from spiders.demo.generator import generate, to_docx, to_html

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
HOST = "http://127.0.0.93"
PAGE_URL = f"{HOST}/show.jsp?id=1"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
AGENCY = "东西西市信访局"
LINKS = """<div id="links">
<a id="to-docx" href="2022.docx">附件：年度报告</a>
<a id="to-redirect" href="/down.jsp?id=9#part2">通知</a>
<a id="live" class="x" href="http://elsewhere.example.cn/x.html">外部网站</a>
<a id="missing" href="missing.pdf">未抓取的附件</a>
<a id="gone" href="gone.html">已删除</a>
<a id="frag" href="#top">回到顶部</a>
<a id="js" href="javascript:void(0)">脚本</a>
<a id="mail" href="mailto:xxgk@example.gov.cn">信箱</a>
<img id="logo" src="logo.png" srcset="logo@2x.png 2x">
<img id="live-img" src="http://elsewhere.example.cn/banner.jpg">
</div>"""


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def build(path):
    rep = generate(7100, year=2022, agency=AGENCY)
    page = to_html(rep, charset="gbk")
    head = (b'<base href="/nb/"><meta http-equiv="refresh" content="0;url=http://elsewhere.example.cn/">')
    page = page.replace(b"<head>", b"<head>" + head).replace(b"</body>", LINKS.encode("gbk") + b"</body>")
    when = at(2023, 1, 20, 8)
    with Archive.open(path) as a:
        with a.writer() as w:
            w.add(http_capture(PAGE_URL, page, content_type="text/html; charset=gbk", fetched_at=when))
            w.add(http_capture(f"{HOST}/nb/2022.docx", to_docx(rep), content_type=DOCX, referrer=PAGE_URL,
                               fetched_at=at(2023, 1, 20, 8, 1)))
            w.add(http_capture(f"{HOST}/down.jsp?id=9", "关于做好年度报告工作的通知".encode(),
                               content_type="text/plain; charset=utf-8", final_url=f"{HOST}/files/9.txt",
                               fetched_at=at(2023, 1, 20, 8, 2)))
            w.add(http_capture(f"{HOST}/nb/logo.png", PNG, content_type="image/png", fetched_at=when))
            w.add(http_capture(f"{HOST}/nb/gone.html", b"<html><body>404</body></html>", status=404,
                               fetched_at=when))
            # the same URL twice, a year apart: a link leads to the capture nearest its page's own
            w.add(http_capture(f"{HOST}/notice.txt", "第一版".encode(), content_type="text/plain",
                               fetched_at=at(2023, 1, 1)))
            w.add(http_capture(f"{HOST}/notice.txt", "第二版".encode(), content_type="text/plain",
                               fetched_at=at(2024, 6, 1)))
            # the page's bytes again, from another address and later
            w.add(http_capture(f"{HOST}/mirror/1.html", page, content_type="text/html; charset=gbk",
                               fetched_at=at(2023, 3, 1)))
        a.reindex(only_pending=True)
    return path, page


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build(tmp_path_factory.mktemp("originals") / "a")


@pytest.fixture(scope="module")
def facts(built):
    path, page = built
    with Archive.open(path, readonly=True) as a:
        rows = {r["url"]: r for r in a.catalog.rows("SELECT id, url, sha256, fetched_at FROM captures")}
        docx = rows[f"{HOST}/nb/2022.docx"]["sha256"]
        rid = a.catalog.scalar("SELECT report_id FROM documents WHERE sha256 = ?", (docx,))
    return {"page": hashlib.sha256(page).hexdigest(), "page_bytes": page, "rows": rows, "docx": docx,
            "report": rid, "path": path}


@pytest.fixture(scope="module")
def client(built):
    return TestClient(create_app(built[0]), base_url="http://127.0.0.1")


def test_the_fixture_is_what_the_tests_assume(facts):
    assert facts["report"] is not None
    with Archive.open(facts["path"], readonly=True) as a:
        page_doc = a.catalog.one("SELECT report_id, kind FROM documents WHERE sha256 = ?", (facts["page"],))
    assert page_doc == {"report_id": facts["report"], "kind": "html"}


def test_an_html_original_opens_with_a_banner_of_its_capture_and_the_original_sandboxed(client, facts):
    sha, first = facts["page"], facts["rows"][PAGE_URL]
    r = client.get(f"/original/{sha}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in r.headers["content-security-policy"]  # our page, our policy
    doc = lxml.html.fromstring(r.text)
    banner = doc.get_element_by_id("archived-banner")
    assert "存档副本" in banner.text_content()
    assert doc.get_element_by_id("source-url").text_content().startswith(PAGE_URL)
    assert doc.get_element_by_id("capture-time").text_content().startswith("2023-01-20 08:00:00")
    assert doc.get_element_by_id("sha256").text_content() == sha
    assert doc.get_element_by_id("report-link").get("href") == f"/report/{facts['report']}"
    assert AGENCY in doc.get_element_by_id("report-link").text_content()
    frame = doc.cssselect("iframe.original")[0]
    assert frame.get("src") == f"/original/{sha}/content"
    assert "allow-scripts" not in frame.get("sandbox") and "allow-same-origin" not in frame.get("sandbox")
    # the same bytes captured again elsewhere: listed, and each capture can be the one the banner names
    other = facts["rows"][f"{HOST}/mirror/1.html"]
    assert f"?capture={other['id']}" in r.text
    again = lxml.html.fromstring(client.get(f"/original/{sha}?capture={other['id']}").text)
    assert again.get_element_by_id("source-url").text_content().startswith(f"{HOST}/mirror/1.html")
    assert again.cssselect("iframe.original")[0].get("src") == f"/original/{sha}/content?capture={other['id']}"
    assert first["id"] != other["id"]


def test_the_shown_html_points_held_links_at_archived_copies_and_the_rest_at_the_live_web(client, facts):
    rows = facts["rows"]
    r = client.get(f"/original/{facts['page']}/content")
    csp = r.headers["content-security-policy"]
    assert csp.startswith("sandbox allow-top-navigation-by-user-activation;") and "allow-scripts" not in csp
    assert "img-src data: http://127.0.0.1/original/;" in csp and "script-src" not in csp
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    doc = lxml.html.fromstring(r.content)
    link = {el.get("id"): el for el in doc.iter("a", "img") if el.get("id")}
    docx = rows[f"{HOST}/nb/2022.docx"]
    assert link["to-docx"].get("href") == f"/original/{docx['sha256']}?capture={docx['id']}"  # through <base>
    assert link["to-docx"].get("target") == "_top" and "nianbao-archived" in link["to-docx"].get("class")
    assert link["to-docx"].get("data-archived-from") == f"{HOST}/nb/2022.docx"
    hop = rows[f"{HOST}/down.jsp?id=9"]
    assert link["to-redirect"].get("href") == f"/original/{hop['sha256']}?capture={hop['id']}#part2"
    assert link["live"].get("href") == "http://elsewhere.example.cn/x.html"
    assert link["live"].get("class") == "x nianbao-live" and link["live"].get("rel") == "noopener noreferrer"
    assert link["missing"].get("href") == f"{HOST}/nb/missing.pdf"  # absolute: it no longer resolves here
    assert link["gone"].get("href") == f"{HOST}/nb/gone.html"  # a 404 capture is no archived copy
    assert "nianbao-live" in link["gone"].get("class")
    assert (link["frag"].get("href"), link["js"].get("href"), link["mail"].get("href")) == (
        "#top", "javascript:void(0)", "mailto:xxgk@example.gov.cn")
    logo = rows[f"{HOST}/nb/logo.png"]
    assert link["logo"].get("src") == f"/original/{logo['sha256']}/content?capture={logo['id']}"
    assert link["logo"].get("srcset") is None
    assert link["live-img"].get("src") == "http://elsewhere.example.cn/banner.jpg"  # the CSP keeps it unloaded
    assert doc.find(".//base") is None and not doc.xpath("//meta[@http-equiv='refresh']")
    assert "政府信息公开工作年度报告" in doc.text_content()  # GBK read as GBK, sent as UTF-8
    assert r.headers["x-archived-links"] == "3 archived, 5 live"  # and the site nav: 首页, 政务公开
    # the stored original is untouched
    with Archive.open(facts["path"], readonly=True) as a:
        assert a.read_blob(facts["page"]) == facts["page_bytes"]
    assert b"<base href" in facts["page_bytes"]


def test_links_are_resolved_against_the_capture_shown(client, facts):
    """Through the mirror's address the page has the same <base href="/nb/">, so the docx is found there too; a
    page's relative link without a base would resolve against the capture's own URL."""
    other = facts["rows"][f"{HOST}/mirror/1.html"]
    doc = lxml.html.fromstring(client.get(f"/original/{facts['page']}/content?capture={other['id']}").content)
    assert doc.get_element_by_id("to-docx").get("href").startswith(f"/original/{facts['docx']}?capture=")


def test_every_link_of_a_page_is_looked_up_in_one_query(facts):
    statements: list[str] = []
    with Archive.open(facts["path"], readonly=True) as a:
        orig = a.original(facts["page"])
        a.catalog.conn.set_trace_callback(statements.append)
        page = a.archived_page(orig, href_for=lambda h: f"/original/{h.sha256}")
        a.catalog.conn.set_trace_callback(None)
    assert page.archived == 2 and page.live == 5  # no img_for: the logo stays a (live) image
    assert len([s for s in statements if "captures" in s]) == 1, statements


def test_held_picks_the_capture_nearest_the_page_and_takes_any_number_of_urls(facts):
    rows = facts["rows"]
    first, second = hashlib.sha256("第一版".encode()).hexdigest(), hashlib.sha256("第二版".encode()).hexdigest()
    many = [f"{HOST}/nothing/{i}.html" for i in range(40_000)] + [f"{HOST}/notice.txt", f"{HOST}/files/9.txt"]
    assert sqlite3.sqlite_version_info >= (3, 9)  # json_each
    with Archive.open(facts["path"], readonly=True) as a:
        assert a.held(many, near="2023-01-05T00:00:00.000000Z")[f"{HOST}/notice.txt"].sha256 == first
        assert a.held(many, near="2024-05-01T00:00:00.000000Z")[f"{HOST}/notice.txt"].sha256 == second
        found = a.held(many)
        assert found[f"{HOST}/notice.txt"].sha256 == second  # no time given: the newest
        assert found[f"{HOST}/files/9.txt"].capture_id == rows[f"{HOST}/down.jsp?id=9"]["id"]  # a redirect's end
        assert set(found) == {f"{HOST}/notice.txt", f"{HOST}/files/9.txt"}
        assert a.held([]) == {}


def test_a_document_that_cannot_be_shown_gets_the_banner_and_a_download(client, facts):
    r = client.get(f"/original/{facts['docx']}")
    doc = lxml.html.fromstring(r.text)
    assert "存档副本" in doc.get_element_by_id("archived-banner").text_content()
    assert doc.get_element_by_id("source-url").text_content().startswith(f"{HOST}/nb/2022.docx")
    assert doc.get_element_by_id("download").get("href") == f"/api/blobs/{facts['docx']}"
    assert doc.get_element_by_id("no-preview") is not None and not doc.cssselect("iframe")
    assert doc.get_element_by_id("report-link").get("href") == f"/report/{facts['report']}"


def _filenames(header: str) -> tuple[str, str]:
    parts = dict(p.strip().split("=", 1) for p in header.split(";")[1:])
    assert header.startswith("attachment;") and parts["filename*"].startswith("UTF-8''")
    return parts["filename"].strip('"'), unquote(parts["filename*"][7:])


def test_downloads_are_named_agency_year_sha8(client, facts):
    sha = facts["docx"]
    r = client.get(f"/api/blobs/{sha}")
    fallback, name = _filenames(r.headers["content-disposition"])
    assert name == f"{AGENCY}_2022_{sha[:8]}.docx"
    assert f"filename*=UTF-8''{quote(AGENCY)}_2022_{sha[:8]}.docx" in r.headers["content-disposition"]
    assert fallback == f"nianbao_2022_{sha[:8]}.docx" and fallback.isascii()
    assert r.content == client.get(f"/original/{sha}/content").content  # shown: the same bytes, the same name
    assert _filenames(client.get(f"/original/{sha}/content").headers["content-disposition"])[1] == name
    # bytes in no document: neither agency nor year is known
    png = facts["rows"][f"{HOST}/nb/logo.png"]["sha256"]
    assert _filenames(client.get(f"/api/blobs/{png}").headers["content-disposition"]) == (
        f"unknown_unknown_{png[:8]}.png", f"unknown_unknown_{png[:8]}.png")
    html = facts["page"]
    assert _filenames(client.get(f"/api/blobs/{html}").headers["content-disposition"])[1] == \
        f"{AGENCY}_2022_{html[:8]}.html"


def test_names_lose_what_a_file_system_refuses():
    assert safe_name('a/b\\c:d*e?f"g<h>i|j\x00k\nl') == "a_b_c_d_e_f_g_h_i_j_k_l"
    assert safe_name("..  市/局 ") == "市_局" and safe_name(None) == "" and safe_name("../..") == ""
    assert len(safe_name("长" * 500)) == 80
    # a right-to-left override would make "某局\u202egnp.exe" read as "某局exe.png": format characters go
    assert safe_name("某局\u202egnp.exe") == "某局gnp.exe"


def test_a_link_holding_what_xml_refuses_is_shown_not_a_500():
    """lxml refuses control characters and U+FFFE in attributes; a hostile page's &#1; reaches them."""
    from archive.catalog.rewrite import rewrite

    page = ('<html><body><a id="c" href="x&#1;y">a</a><a id="f" href="http://h/\ufffe">b</a>'
            '<img src="i&#31;.png"></body></html>').encode()
    out = rewrite(page, "text/html; charset=utf-8", "http://h/p/", lambda urls: {}, lambda hit: "/x")
    root = lxml.html.fromstring(out.html)
    assert root.get_element_by_id("c").get("href") == "http://h/p/x%01y"
    assert root.get_element_by_id("f").get("href") == "http://h/%EF%BF%BE"
    assert out.live == 2
