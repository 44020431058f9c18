"""Walking a script-drawn pager in Chromium: choosing what to click (pure, no browser), the walk
itself on the simulated ``pager`` portal, and a crawl that finds every report behind such a pager."""

from __future__ import annotations

import asyncio
import json

import pytest

from spiders.browser_walk import Candidate, Walk, choose_next, current_page, last_page, list_items


def c(index: int, text: str, **kw) -> Candidate:
    return Candidate(index=index, text=text, **kw)


# -- choosing the next page (pure) ----------------------------------------------------------------

def test_next_word_is_chosen_over_numbers():
    cands = [c(0, "1", tag="span", cls="current", in_pager=True), c(1, "2", onclick="goPage(2)", in_pager=True),
             c(2, "下一页", href="javascript:;", in_pager=True)]
    assert choose_next(cands, 1).text == "下一页"


@pytest.mark.parametrize("word", ["下一页", "下页", ">", "»", "Next"])
def test_every_next_word(word):
    assert choose_next([c(0, word, href="javascript:void(0)")], 1).index == 0


def test_disabled_or_absent_next_means_the_end():
    disabled = [c(0, "1", onclick="goPage(1)", in_pager=True), c(1, "2", tag="span", cls="current", in_pager=True),
                c(2, "下一页", tag="span", cls="disabled")]
    assert choose_next(disabled, 2) is None
    assert choose_next([c(0, "下一页", tag="button", disabled=True)], 1) is None
    assert choose_next([c(0, "下一页", cls="next layui-disabled")], 1) is None
    # only numbers, and the current page is the last
    numbers = [c(0, "1", onclick="goPage(1)", in_pager=True), c(1, "2", onclick="goPage(2)", in_pager=True),
               c(2, "3", tag="span", in_pager=True)]
    assert current_page(numbers) == 3 and last_page(numbers) == 3
    assert choose_next(numbers, 3) is None


def test_numbered_pager_without_a_next_word():
    cands = [c(0, "1", tag="span", in_pager=True), c(1, "2", href="javascript:void(0)", onclick="goPage(2)"),
             c(2, "3", href="javascript:void(0)", onclick="goPage(3)"), c(3, "尾页", onclick="goPage(7)")]
    assert current_page(cands) == 1
    assert choose_next(cands, 1).index == 1
    assert last_page(cands) == 7  # 尾页 says where the pager ends


def test_button_and_span_pagers():
    buttons = [c(0, "1", tag="li", cls="number active", in_pager=True), c(1, "2", tag="li", cls="number",
                                                                          in_pager=True, data_page="2"),
               c(2, ">", tag="button", cls="btn-next", in_pager=True)]
    assert choose_next(buttons, 1).tag == "button"
    spans = [c(0, "1", tag="span", cls="on", in_pager=True),
             c(1, "2", tag="span", onclick="turnPage(2)", in_pager=True)]
    assert current_page(spans) == 1
    assert choose_next(spans, 1).index == 1


def test_a_bare_next_span_gives_way_to_a_number_link():
    cands = [c(0, "下一页", tag="span"), c(1, "2", onclick="goPage(2)", in_pager=True)]
    assert choose_next(cands, 1).index == 1


def test_a_next_link_that_goes_nowhere_further_is_the_end():
    cands = [c(0, "3", tag="span", cls="current", in_pager=True), c(1, "下一页", onclick="goPage(3)", in_pager=True)]
    assert choose_next(cands, 3) is None


def test_numbers_outside_a_pager_are_not_page_links():
    # a table's 序号 column, or an item numbered "2", is not a pager
    cands = [c(0, "2", tag="td"), c(1, "2", tag="a", href="/zwgk/2.html")]
    assert choose_next(cands, 1) is None


def test_candidate_targets():
    assert c(0, "下一页", onclick="javascript:goPage(4);return false;").target == 4
    assert c(0, "3", href="javascript:gotoPage('3')").target == 3
    assert c(0, "2", href="list.jsp?pageNo=2").target == 2
    assert c(0, "2", data_page="2").target == 2
    assert c(0, "下一页", href="javascript:;").target is None


def test_list_items_are_what_is_not_on_every_page():
    nav = ["http://h/", "http://h/zwgk/"]
    pages = [[*nav, "http://h/a1", "http://h/a2"], [*nav, "http://h/a3", "http://h/a4"], [*nav, "http://h/a5"]]
    assert list_items(pages) == [f"http://h/a{i}" for i in range(1, 6)]
    assert list_items([nav]) == nav


# -- the spider's side, with the walk stubbed (no browser) -----------------------------------------------

class FakePage:
    def __init__(self) -> None:
        self.closed = False

    def is_closed(self) -> bool:
        return self.closed

    async def close(self) -> None:
        self.closed = True


def _walked(monkeypatch, walk: Walk | Exception):
    from scrapy.http import HtmlResponse, Request

    import spiders.browser_walk
    from spiders.disclosure import DisclosureSpider
    from spiders.profiles import PortalProfile

    async def fake_walk(page, **kw):
        assert kw["pause_ms"] == 500  # the host's delay between clicks
        if isinstance(walk, Exception):
            raise walk
        return walk

    monkeypatch.setattr(spiders.browser_walk, "walk_pager", fake_walk)
    spider = DisclosureSpider([PortalProfile(name="p", start_urls=["http://h.gov.cn/"], delay=0.5)], browser=True)
    column = HtmlResponse("http://h.gov.cn/nb/", body=b"<html></html>",
                          request=Request("http://h.gov.cn/nb/", meta={"portal": "p", "hops": 2, "role": "column"}))
    request = spider.walk_request(column, spider.portals["p"], 2)
    page = FakePage()
    request.meta["playwright_page"] = page
    rendered = HtmlResponse(request.url, body=b"<html></html>", request=request)

    async def run() -> list:
        return [r async for r in spider.parse_walked(rendered)]

    return spider, request, page, asyncio.run(run())


def test_walk_request_keeps_the_page_for_the_walk(monkeypatch):
    _, request, _, _ = _walked(monkeypatch, Walk([], 1, True))
    assert request.meta["playwright"] and request.meta["playwright_include_page"] and request.dont_filter
    assert request.meta["playwright_page_methods"]  # the wait for real content
    assert request.callback.__name__ == "parse_walked" and request.errback.__name__ == "walk_failed"


def test_parse_walked_requests_reports_files_and_year_columns_and_notes_the_list(monkeypatch):
    h = "http://h.gov.cn"
    links = [(f"{h}/", "首页"), (f"{h}/nb/a.html", "2023年度政府信息公开工作年度报告"), (f"{h}/nb/n1.html", "工作动态"),
             (f"{h}/nb/2022.pdf", "2022年度政府信息公开工作年度报告.pdf"), (f"{h}/nb/y2021/", "2021年"),
             ("http://mirror.example.com/nb/b.html", "2022年度政府信息公开工作年度报告"),
             (f"{h}/nb/b.html", "2022年年报")]
    walk = Walk(links, 3, False, "stopped at the page cap (3 pages)", 7, 4, items=[u for u, _ in links[1:]])
    spider, _, page, out = _walked(monkeypatch, walk)
    assert page.closed
    got = {(r.url, r.meta["role"], r.meta["hops"]) for r in out}
    assert got == {(f"{h}/nb/a.html", "report", 3), (f"{h}/nb/2022.pdf", "file", 2), (f"{h}/nb/y2021/", "column", 3),
                   (f"{h}/nb/b.html", "report", 3)}
    entry = spider.ledger.lists[f"{h}/nb/"]
    assert entry.method == "browser" and entry.pages == 3 and entry.announced == 7 and entry.announced_pages == 4
    assert len(entry.items) == 5  # every item but the other host's
    assert not entry.complete and "page cap" in entry.why


def test_the_page_is_closed_when_the_walk_fails(monkeypatch):
    from playwright.async_api import Error

    spider, _, page, out = _walked(monkeypatch, Error("Target page, context or browser has been closed"))
    assert page.closed and out == []
    entry = spider.ledger.lists["http://h.gov.cn/nb/"]
    assert not entry.complete and "walk failed" in entry.why


def test_the_page_is_closed_when_the_walk_request_fails(monkeypatch):
    from twisted.python.failure import Failure

    spider, request, _, _ = _walked(monkeypatch, Walk([], 1, True))
    page = request.meta["playwright_page"] = FakePage()
    try:
        raise TimeoutError("navigation timed out")
    except TimeoutError:
        failure = Failure()
    failure.request = request
    asyncio.run(spider.walk_failed(failure))
    assert page.closed
    assert not spider.ledger.lists["http://h.gov.cn/nb/"].complete
    assert spider.failures and spider.failures[0][0] == "http://h.gov.cn/nb/"


# -- the walk in Chromium ---------------------------------------------------------------------------

async def _walk(url: str) -> Walk:
    from playwright.async_api import async_playwright

    from crawler.settings import CHROMIUM_ARGS, chromium_path
    from spiders.browser_walk import walk_pager

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        try:
            page = await browser.new_page()
            await page.goto(url)
            return await walk_pager(page)
        finally:
            await browser.close()


# Pagers drawn in the page itself (no server): an element-ui-like <li>/<button> pager, one without end,
# and one whose next control does nothing.
INLINE = """<html><body><ul id="list"></ul><div class="el-pagination"><span class="total">共TOTAL条</span>
<button class="btn-prev">&lt;</button><ul class="el-pager"></ul><button class="btn-next">&gt;</button></div>
<script>
var total = TOTAL, per = 3, pages = Math.ceil(total / per), cur = 1;
function draw() {
  var html = '';
  for (var i = (cur - 1) * per; i < Math.min(total, cur * per); i++)
    html += '<li><a href="http://127.0.0.84/item/' + i + '.html">item ' + i + '</a></li>';
  document.getElementById('list').innerHTML = html;
  var bar = '';
  for (var k = 1; k <= Math.min(pages, 5); k++)
    bar += '<li class="number' + (k === cur ? ' active' : '') + '">' + k + '</li>';
  document.querySelector('.el-pager').innerHTML = bar;
  document.querySelector('.btn-next').disabled = BROKEN ? false : cur >= pages;
}
document.querySelector('.btn-next').addEventListener('click', function () {
  if (BROKEN) return;
  cur += 1; setTimeout(draw, 100);
});
draw();
</script></body></html>"""


def inline(total: int, broken: bool = False) -> str:
    return INLINE.replace("TOTAL", str(total)).replace("BROKEN", "true" if broken else "false")


async def _walk_inline(cases: list[tuple[str, dict]]) -> list[Walk]:
    from playwright.async_api import async_playwright

    from crawler.settings import CHROMIUM_ARGS, chromium_path
    from spiders.browser_walk import walk_pager

    out = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        try:
            for html, kw in cases:
                page = await browser.new_page()
                await page.set_content(html)
                out.append(await walk_pager(page, settle_ms=1000, **kw))
                await page.close()
        finally:
            await browser.close()
    return out


@pytest.mark.slow
@pytest.mark.browser
def test_walk_button_pager_page_cap_and_a_dead_next():
    button, capped, dead = asyncio.run(_walk_inline([
        (inline(8), {}), (inline(1000), {"cap": 4}), (inline(9, broken=True), {"change_ms": 1500})]))
    items = {f"http://127.0.0.84/item/{i}.html" for i in range(8)}
    assert button.hrefs == items and button.pages == 3 and button.complete and button.announced == 8
    assert capped.pages == 4 and not capped.complete and "page cap" in capped.why and len(capped.hrefs) == 12
    assert dead.pages == 1 and not dead.complete and "did not change" in dead.why


@pytest.fixture(scope="module")
def pager():
    from spiders.demo.scripted import build_pager

    return build_pager(61, [2021, 2022, 2023])


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.libreoffice
def test_walk_collects_every_page_of_a_script_pager(pager):
    from spiders.demo.server import PortalServer

    with PortalServer(pager.site, host="127.0.0.80") as server:
        walk = asyncio.run(_walk(server.url + "/zwgk/gknb/"))
        hits = [h.path for h in pager.site.hits]
    items = [f"{server.url}{p}" for p in pager.site.pages if "/zwgk/gknb/content/" in p]
    assert len(items) == 6
    assert set(items) <= walk.hrefs
    assert walk.pages == 3 and walk.complete and walk.why is None
    assert walk.announced == 6 and walk.announced_pages == 3
    assert set(walk.items) == set(items)  # the navigation, on every page, is not an item
    texts = dict(walk.links)
    assert all(texts[u] for u in items)
    assert {"/common/ajax/column.do?cid=0612629&p=2", "/common/ajax/column.do?cid=0612629&p=3"} <= set(hits)


# -- the walk in a crawl --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def crawled(pager, tmp_path_factory):
    from crawler.run import crawl_in_subprocess
    from spiders.demo.server import PortalServer
    from spiders.profiles import PortalProfile

    server = PortalServer(pager.site, host="127.0.0.81").start()
    pager.site.hits.clear()
    archive_dir = tmp_path_factory.mktemp("walked") / "archive"
    profile = PortalProfile(name=pager.name, start_urls=[server.url + "/"], delay=0.0, render="auto")
    summary = crawl_in_subprocess(archive_dir, [profile], browser="auto", progress=False, patience_ms=20_000,
                                  overrides={"AUTOTHROTTLE_START_DELAY": 0.0})
    yield {"summary": summary, "archive": archive_dir, "server": server}
    server.stop()


def _found(summary: dict) -> dict[str, set[tuple[str, int]]]:
    return {p["name"]: {(a, int(y)) for y, ags in p["reports"].items() for a in ags} for p in summary["portals"]}


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.libreoffice
def test_a_crawl_walks_the_script_pager_and_finds_every_report_once(pager, crawled):
    from archive import Archive

    assert _found(crawled["summary"])[pager.name] == pager.expected
    hits = [h.path for h in pager.site.hits]
    assert all(hits.count(f"/zwgk/gknb/content/post_61{i:02d}.html") == 1 for i in range(3))
    with Archive.open(crawled["archive"], readonly=True) as a:
        assert len([r for r in a.reports() if r["agency"] == pager.agency]) == 3
        lists = a.run(crawled["summary"]["run_id"])["stats"]
    lists = (lists if isinstance(lists, dict) else json.loads(lists))["lists"]
    column = next(e for e in lists if e["url"].endswith("/zwgk/gknb/"))
    assert column["method"] == "browser" and column["complete"] and column["why"] is None
    assert column["pages"] == 3 and column["announced"] == 6 and column["found"] == 6


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.libreoffice
def test_a_rendered_capture_does_not_carry_the_servers_validators(crawled):
    from archive import Archive

    with Archive.open(crawled["archive"], readonly=True) as a:
        rows = list(a.catalog.rows("SELECT etag, last_modified, headers FROM captures WHERE url LIKE ?",
                                   ("%/zwgk/gknb/",)))
    rendered = [r for r in rows if ("X-Nianbao-Rendered", "chromium") in map(tuple, json.loads(r["headers"]))]
    served = [r for r in rows if r not in rendered]
    assert rendered and served  # the column was fetched as served, then rendered to walk its pager
    assert all(r["etag"] for r in served)
    for r in rendered:
        names = {k.lower() for k, _ in json.loads(r["headers"])}
        assert r["etag"] is None and r["last_modified"] is None
        assert not names & {"etag", "last-modified", "content-length", "content-encoding"}
        assert "x-archive-orig-etag" in names  # kept, under a name that says it describes other bytes
