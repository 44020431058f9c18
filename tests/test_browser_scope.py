"""The browser kept in the portal's scope: what a page may fetch (pure), and a crawl in Chromium of a portal
whose pages reach for a second simulated host (location.replace, <img>, <script>, fetch(), an iframe,
window.open) that must never hear from it, while every report is still archived; a server's redirect to a
third host, which no Playwright route sees, is followed once, then dropped and said in the summary."""

from __future__ import annotations

import pytest
from rich.console import Console

from crawler.middlewares.browser_scope import OUT_OF_SCOPE, BrowserScopeMiddleware, kept_out
from crawler.summary import kept_out_line
from spiders.profiles import PortalProfile

PORTAL = PortalProfile(name="p", start_urls=["http://127.0.0.150:8080/"])


class _Crawler:
    spider = type("Spider", (), {"portals": {"p": PORTAL,
                                             "q": PortalProfile(name="q", start_urls=["https://q.example.gov.cn/"])}})


@pytest.mark.parametrize(("url", "ok"), [
    ("http://127.0.0.150:8080/zwgk/", True), ("http://127.0.0.150:9999/other-port", True),
    ("http://127.0.0.151:8080/elsewhere", False), ("https://cdn.example.com/x.js", False),
    ("data:image/png;base64,iVBORw0KGgo=", True), ("blob:http://127.0.0.150:8080/0c1d-2e3f", True),
    ("about:blank", True), ("ws://127.0.0.151/socket", False)])
def test_a_page_may_fetch_only_from_its_portals_hosts(url, ok):
    scope = BrowserScopeMiddleware(_Crawler())
    assert scope.allowed(url, PORTAL) is ok
    assert PORTAL.covers(url) is (ok and url.startswith("http"))  # the rule Scrapy's requests follow


def test_a_page_of_no_known_portal_is_kept_to_the_crawls_portals():
    scope = BrowserScopeMiddleware(_Crawler())
    assert scope.allowed("https://q.example.gov.cn/a", None) and scope.allowed("http://127.0.0.150:1/", None)
    assert not scope.allowed("https://example.com/", None)


def test_kept_out_reads_the_stats_and_says_it_in_words():
    stats = {OUT_OF_SCOPE: 5, f"{OUT_OF_SCOPE}/p/127.0.0.151": 3, f"{OUT_OF_SCOPE}/a/b/cdn.example.com": 1,
             f"{OUT_OF_SCOPE}/-/127.0.0.151": 1, "nianbao/other": 7}
    assert kept_out(stats) == [{"portal": "p", "host": "127.0.0.151", "requests": 3},
                               {"portal": None, "host": "127.0.0.151", "requests": 1},
                               {"portal": "a/b", "host": "cdn.example.com", "requests": 1}]
    assert kept_out_line({"127.0.0.151": 4, "cdn.example.com": 1}) == \
        "the browser was kept from 5 requests to other hosts: 127.0.0.151 (4), cdn.example.com (1)"
    assert kept_out_line({}) == ""


# -- a crawl in Chromium --------------------------------------------------------------------------------

def _hostile(body: bytes, *, head: str = "", tail: str = "") -> bytes:
    """The page with ``head`` first in its <head> and ``tail`` last in its <body>."""
    return body.replace(b"<head>", b"<head>" + head.encode(), 1).replace(b"</body>", tail.encode() + b"</body>", 1)


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    from crawler.run import crawl_in_subprocess
    from spiders.demo.portals import build
    from spiders.demo.server import Page, PortalServer, Site

    other = PortalServer(Site({}), host="127.0.0.151").start()  # answers 404 to all, but logs every request
    moved = PortalServer(Site({}), host="127.0.0.152").start()
    away = other.url
    portal = build("static", 150, [2022, 2023], traps=False)
    pages = portal.site.pages
    # the front page sends the browser away at once, as a redirect shell does
    pages["/"].body = _hostile(pages["/"].body, head=f"<script>location.replace('{away}/elsewhere')</script>")
    # the disclosure hub links a column the server moved to a third host (Chromium follows the 302 itself)
    pages["/zwgk/"].body = _hostile(pages["/zwgk/"].body,
                                    tail='<a href="/zwgk/nb-old/">政府信息公开工作年度报告（旧版）</a>')
    portal.site.add("/zwgk/nb-old/", Page(b"", status=302, headers=[("Location", f"{moved.url}/nb/")]))
    # each report page pulls in things from the other host
    reports = [path for path in pages if path.startswith("/zwgk/nb/20")]
    for path in reports:
        pages[path].body = _hostile(pages[path].body, tail=(
            f'<img src="{away}/pixel.gif"><script src="{away}/track.js"></script>'
            f'<iframe src="{away}/frame.html"></iframe>'
            f"<script>fetch('{away}/api?from=' + location.pathname).catch(() => 0);"
            f"window.open('{away}/popup.html');</script>"))
    server = PortalServer(portal.site, host="127.0.0.150").start()
    archive_dir = tmp_path_factory.mktemp("scoped") / "archive"
    profile = PortalProfile(name=portal.name, start_urls=[server.url + "/"], delay=0.0, render="browser")
    summary = crawl_in_subprocess(archive_dir, [profile], browser="always", progress=False, patience_ms=20_000,
                                  overrides={"AUTOTHROTTLE_START_DELAY": 0.0})
    yield {"summary": summary, "portal": portal, "reports": reports, "other": other, "moved": moved, "server": server}
    for s in (server, other, moved):
        s.stop()


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.libreoffice
def test_the_browser_never_reaches_another_host_and_every_report_is_archived(crawled):
    summary, portal = crawled["summary"], crawled["portal"]
    assert [h.path for h in crawled["other"].site.hits] == []
    mine = next(p for p in summary["portals"] if p["name"] == portal.name)
    assert {(a, int(y)) for y, ags in mine["reports"].items() for a in ags} == portal.expected
    hits = [h.path for h in portal.site.hits]
    assert "/" in hits and all(path in hits for path in crawled["reports"])  # the pages were rendered all the same
    assert all("chrome-error" not in f["reason"] for f in mine["failed"])
    # the moved column: Chromium made the redirected request (no route sees it), then it was skipped as off-site,
    # as Scrapy skips such a redirect, and the summary says so
    assert [h.path for h in crawled["moved"].site.hits] == ["/nb/"]
    assert any(s["url"].endswith("/zwgk/nb-old/") and s["reason"].startswith("off-site") for s in mine["skipped"])
    assert mine["browser_redirected_out"] == summary["browser_redirected_out"] == {crawled["moved"].host: 1}


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.libreoffice
def test_the_summary_counts_what_the_browser_was_kept_from(crawled):
    from crawler.run import CrawlSummary, PortalResult
    from crawler.summary import print_crawl_summary

    summary, portal, other = crawled["summary"], crawled["portal"], crawled["other"]
    mine = next(p for p in summary["portals"] if p["name"] == portal.name)
    # the front page's navigation, then per report page an <img>, a <script>, an iframe and a fetch() (a
    # popup's first request comes before its page is known: counted for the crawl, not the portal)
    assert mine["browser_kept_out"][other.host] >= 1 + 4 * len(crawled["reports"])
    assert summary["browser_kept_out"][other.host] >= mine["browser_kept_out"][other.host] + len(crawled["reports"])
    console = Console(record=True, width=300)
    print_crawl_summary(console, CrawlSummary(**{**summary, "portals": [PortalResult(**p)
                                                                        for p in summary["portals"]]}))
    text = console.export_text()
    n = summary["browser_kept_out"][other.host]
    assert f"the browser was kept from {n} requests to other hosts: {other.host} ({n})" in text
    assert "the browser followed 1 server redirect to other hosts" in text
