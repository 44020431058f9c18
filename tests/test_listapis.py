"""Lists paged by script, read without a browser (issue 13): each adapter on a page shaped like its
platform's, the ledger's totals and pager checks, app routes kept in URLs, the portal's agency as a hint."""

from __future__ import annotations

import json

from parsel import Selector

from archive.parser import parse
from archive.parser.context import ParseContext
from spiders.links import clean_url
from spiders.listapis import ApiCall, gkmlpt, gkmlpt_page, jpage_array, list_plans, trs_api, trs_api_page
from spiders.listing import ListLedger, announced, list_items, list_key, page_announced, script_pager

TRS_PAGE = """<html><head><meta name="ChnlId" content="1813"></head><body>
<ul class="list"><li><a href="./202401/t20240120_1.htm">工作动态一</a><span>2024-01-20</span></li>
<li><a href="./202401/t20240118_2.htm">工作动态二</a><span>2024-01-18</span></li></ul><div id="pagebar"></div>
<script>require(["list2.trsapi"], function () { listModel({ quickMode: "动静结合", maxStaticIndex: 1,
 channelid: 200210, classsql: "chnlid=1813", sortfield: "-docorderpri,-docreltime", prepage: 2,
 pagebar: { prepage: 2, recordCount: '5' } }); });</script></body></html>"""


def test_trs_api_plans_the_pages_the_script_would_ask_for():
    plan = trs_api(TRS_PAGE, "http://a.gov.cn/zwgk/zfxxgknb/")
    assert plan is not None and plan.family == "trs-api" and plan.announced == 5
    assert [c.page for c in plan.calls] == [2, 3]  # page 1 is the static one; 5 records, 2 a page
    call = plan.calls[0]
    assert call.method == "POST" and call.url == "http://a.gov.cn/fjdzapp/search"
    form = dict(call.form)
    assert form["channelid"] == "200210" and form["classsql"] == "chnlid=1813" and form["prepage"] == "2"
    answer = json.dumps({"data": [{"doctitle": "2023年某某局政府信息公开工作年度报告", "docpuburl": "/nb/t1.htm",
                                   "docreltime": "2024-01-20"}], "pageCount": 3, "total": 5})
    page = trs_api_page(answer, call)
    assert [(r.url, r.title) for r in page.records] == [("http://a.gov.cn/nb/t1.htm",
                                                         "2023年某某局政府信息公开工作年度报告")]
    assert page.announced == 5 and page.more == []  # the size was known: every page was asked already


def test_trs_api_with_no_total_asks_the_rest_once_the_first_answer_tells():
    plan = trs_api(TRS_PAGE.replace("recordCount: '5'", ""), "http://a.gov.cn/nb/")
    assert [c.page for c in plan.calls] == [2] and plan.calls[0].discover
    page = trs_api_page(json.dumps({"docs": [], "pageCount": 4}), plan.calls[0])
    assert [c.page for c in page.more] == [3, 4]


def test_a_page_without_the_list_script_is_not_trs():
    assert trs_api("<html><script>var channelid = 3;</script></html>", "http://a/") is None
    assert list_plans("<html><body><a href='/x'>x</a></body></html>", "http://a/") == []


def test_jpage_array_of_snippets_and_of_objects():
    html = ("<div id='div1'></div><script>var InitData = ['<li><a href=\"/art/2024/1/20/art_1_1.html\" "
            "title=\"t\">2023年度报告</a></li>', '<li><a href=\\'/art/2023/1/20/art_1_2.html\\'>2022年度报告</a>"
            "</li>'];\n$('#div1').jpage({totalRecord: 2, perPage: 15, groupSize: 3});</script>"
            "<a href=\"javascript:;\" onclick=\"goPage(2)\">2</a>")
    plan = jpage_array(html, "http://h.gov.cn/col/col1/index.html")
    assert [(r.url, r.title) for r in plan.records] == [("http://h.gov.cn/art/2024/1/20/art_1_1.html", "2023年度报告"),
                                                        ("http://h.gov.cn/art/2023/1/20/art_1_2.html", "2022年度报告")]
    assert plan.announced == 2
    objs = ("<script>var InitData = [{title: '2023年报', url: '/a/1.html'}, "
            "{title: \"2022年报\", url: \"/a/2.html\"}];</script>")
    assert [r.url for r in jpage_array(objs, "http://h/").records] == ["http://h/a/1.html", "http://h/a/2.html"]


GKMLPT = """<html><body><div id="app"></div><script>window._CONFIG = { SID: '755041',
TREE: [{"id": 2620, "name": "政府信息公开", "children": [{"id": 2629, "name": "政府信息公开年报"},
 {"id": 2630, "name": "规范性文件"}]}], SERVICE_AREA_ID: 0 };</script><script src="/a/gkmlpt/js/app.js"></script>
</body></html>"""


def test_gkmlpt_reads_the_column_of_the_fragment_else_the_report_columns_of_its_tree():
    plan = gkmlpt(GKMLPT, "http://g.gov.cn/a/gkmlpt/index#2630")
    assert [c.url for c in plan.calls] == ["http://g.gov.cn/a/gkmlpt/api/all/2630?page=1&sid=755041"]
    assert plan.calls[0].list_url == "http://g.gov.cn/a/gkmlpt/index#2630"
    plan = gkmlpt(GKMLPT, "http://g.gov.cn/a/gkmlpt/index")
    assert [c.column for c in plan.calls] == ["2629"]  # the tree's column named 年报
    assert gkmlpt(GKMLPT, "http://g.gov.cn/other/index") is None  # not inside a gkmlpt app


def test_gkmlpt_first_answer_pages_the_rest():
    call = ApiCall("http://g/gkmlpt/api/all/2629?page=1&sid=7", "gkmlpt", "http://g/gkmlpt/index#2629", page=1)
    body = json.dumps({"total": 25, "classify": {"post_count": 25}, "articles": [
        {"id": i, "title": f"文件{i}", "url": f"http://g/gkmlpt/content/0/1/post_{i}.html"} for i in range(10)]})
    page = gkmlpt_page(body, call)
    assert len(page.records) == 10 and page.announced == 25
    assert [c.url for c in page.more] == ["http://g/gkmlpt/api/all/2629?page=2&sid=7",
                                          "http://g/gkmlpt/api/all/2629?page=3&sid=7"]
    assert gkmlpt_page(body, page.more[0]).more == []  # only the first answer plans


def test_announced_totals_in_words_and_script():
    assert announced("<div>共 23 条记录 当前第1/3页 共3页</div>") == (23, 3)
    assert announced("jpage({totalRecord: 45, perPage: 15})") == (45, None)
    assert announced("<p>nothing</p>") == (None, None)


def test_script_pagers_are_told_from_link_pagers():
    js = Selector(text='<div class="pager"><a href="javascript:void(0)" onclick="goPage(2)">2</a></div>')
    assert "goPage(2)" in script_pager(js.root)
    # 下一页 handled by a script listener: a pager only where the page says it has more than it shows
    js2 = Selector(text='<div><a href="javascript:;">下一页</a></div>')
    assert script_pager(js2.root) is None and script_pager(js2.root, more=True) is not None
    plain = Selector(text='<div><a href="?page=2">下一页</a> <a href="#top">首页</a></div>')
    assert script_pager(plain.root, more=True) is None
    # a one-page list's dead pager, a slider's buttons: no pager
    dead = Selector(text='<div class="page"><a href="javascript:void(0)">1</a><a href="javascript:void(0)">下一页</a>'
                         '<a href="javascript:void(0)">尾页</a></div><a href="#" onclick="showSlide(2)">2</a>')
    assert script_pager(dead.root) is None


def test_announced_totals_come_from_the_pager_box_not_an_article():
    box = Selector(text='<ul><li>x</li></ul><div class="page"><span>共 23 条</span> <span>共3页</span></div>')
    assert page_announced(box.root) == (23, 3)
    article = Selector(text="<p>2023年，我局主动公开政府信息共1234条，其中通知公告共56条，"
                            "政策解读材料、规范性文件等各类信息均已按要求及时发布，全文共3页。</p>")
    assert page_announced(article.root) == (None, None)
    script = Selector(text="<script>jpage({totalRecord: 45, perPage: 15});</script>")
    assert page_announced(script.root) == (45, None)


def test_list_items_are_the_rows_of_the_list_not_the_navigation():
    menu = "".join(f'<li><a href="/m/{i}/">栏目{i}</a></li>' for i in range(12))
    rows = "".join(f'<li><a href="/cat/tz/">[通知]</a><a href="/d/{i}.html">关于做好第{i}季度政务公开工作的通知</a>'
                   f"<span>2024-01-0{i}</span></li>" for i in range(1, 4))
    sel = Selector(text=f'<ul class="nav">{menu}</ul><ul class="list">{rows}</ul>')
    assert list_items(sel.root, "http://a/") == ["http://a/d/1.html", "http://a/d/2.html", "http://a/d/3.html"]


def test_ledger_reports_short_and_incomplete_lists_only():
    led = ListLedger()
    led.note("http://a/l/", "p", "static", items=["1", "2"], announced=3)
    led.note("http://a/l/", "p", "static", items=["3"], page=True)
    led.note("http://a/m/", "p", "trs-api", items=["1"], announced=4)
    led.incomplete("http://a/n/", "p", "static", "a script pager (goPage(2)) was not followed")
    told = {r["url"]: r for r in led.report()}
    assert set(told) == {"http://a/m/", "http://a/n/"}
    assert told["http://a/m/"]["found"] == 1 and told["http://a/m/"]["announced"] == 4
    assert led.lists["http://a/l/"].pages == 2 and not led.lists["http://a/l/"].short
    assert list_key("http://a/l/index.html") == "http://a/l/"  # one list, however its first page is named
    led.note("http://a/l/index.html", "p", "static", items=["4"])
    assert len(led.lists) == 3 and led.lists["http://a/l/"].as_dict()["found"] == 4


def test_app_routes_stay_in_the_url_page_anchors_do_not():
    assert clean_url("/a/gkmlpt/index#2629", "http://g.gov.cn/") == "http://g.gov.cn/a/gkmlpt/index#2629"
    assert clean_url("/app/#/list/3", "http://g.gov.cn/") == "http://g.gov.cn/app/#/list/3"
    assert clean_url("#3", "http://g.gov.cn/r.html") == "http://g.gov.cn/r.html"
    assert clean_url("b.html#top", "http://g.gov.cn/") == "http://g.gov.cn/b.html"


PAGE = ("<html><head><title>2023年政府信息公开工作年度报告</title>{meta}</head><body>"
        "<h1>2023年政府信息公开工作年度报告</h1>"
        "<div class='content'><p>一、总体情况</p><p>2023年，我局认真贯彻落实《中华人民共和国政府信息公开条例》。</p>"
        "<p>二、主动公开政府信息情况</p><p>三、收到和处理政府信息公开申请情况</p><p>四、政府信息公开行政复议、行政诉讼情况</p>"
        "<p>五、存在的主要问题及改进情况</p><p>六、其他需要报告的事项</p></div></body></html>")


def test_the_portal_profiles_agency_names_a_report_that_names_none():
    bare = parse(PAGE.format(meta="").encode(), kind="html").report
    assert bare["agency"] is None
    rep = parse(PAGE.format(meta="").encode(), kind="html",
                context=ParseContext(kind="html", portal_agency="安康市信访局")).report
    assert rep["agency"] == "安康市信访局" and rep["provenance"]["agency"] == "portal"
    # the user's word for whose portal it is comes before the site's own name
    site = '<meta name="SiteName" content="安康市人民政府">'
    rep = parse(PAGE.format(meta=site).encode(), kind="html",
                context=ParseContext(kind="html", portal_agency="安康市信访局")).report
    assert rep["agency"] == "安康市信访局"


def _column(body: str, browser: bool, flags: list[str] | None = None):
    from scrapy.http import HtmlResponse, Request

    from spiders.disclosure import DisclosureSpider
    from spiders.profiles import PortalProfile

    spider = DisclosureSpider([PortalProfile(name="p", start_urls=["http://127.0.0.9/"])], browser=browser)
    req = Request("http://127.0.0.9/zwgk/nb/", meta={"portal": "p", "hops": 2, "role": "column"})
    page = f"<html><head><title>政府信息公开年报</title></head><body>{body}</body></html>".encode()
    resp = HtmlResponse(req.url, body=page, headers={"Content-Type": "text/html; charset=utf-8"}, request=req,
                        flags=flags)
    return spider, list(spider.parse(resp))


def test_files_a_list_holds_carry_whether_the_list_came_back_unchanged():
    """The recheck cycle (crawler/middlewares/lookup.py) for validator-less files listed by a datastore
    record or a script array too, not only by a link in the page: on a 304 they may stand as archived."""
    record = '<li><a href="/download.jsp?id=7">某某县2023年度政府信息公开工作年度报告.pdf</a></li>'
    datastore = (f'<script type="text/xml"><datastore><recordset><record><![CDATA[{record}]]></record>'
                 '</recordset></datastore></script>')
    array = f"<script>var InitData = ['{record}'];</script>"
    linked = f"<ul>{record}</ul>"
    for body in (datastore, array, linked):
        for flags, expected in ((["not-modified"], True), ([], False)):
            _, requests = _column(body, browser=False, flags=flags)
            files = [r for r in requests if r.meta.get("role") == "file"]
            assert [r.url for r in files] == ["http://127.0.0.9/download.jsp?id=7"], body
            assert files[0].meta["nianbao_parent_unchanged"] is expected, (body, flags)


ITEMS = "".join(f'<li><a href="/nb/{y}.html">某某县{y}年度政府信息公开工作年度报告</a></li>' for y in (2022, 2023))


def test_a_script_pager_without_a_browser_leaves_the_list_incomplete_in_words():
    pager = '<div class="page">共 5 条 <a href="javascript:void(0)" onclick="goPage(2)">2</a></div>'
    spider, requests = _column(f'<ul class="list">{ITEMS}</ul>{pager}', browser=False)
    assert sorted(r.url for r in requests) == ["http://127.0.0.9/nb/2022.html", "http://127.0.0.9/nb/2023.html"]
    (entry,) = spider.ledger.report()
    assert not entry["complete"] and entry["announced"] == 5 and entry["found"] == 2
    assert "goPage(2)" in entry["why"] and "without a browser" in entry["why"]


def test_a_script_pager_with_a_browser_is_walked():
    pager = '<div class="page"><a href="javascript:void(0)" onclick="goPage(2)">2</a></div>'
    spider, requests = _column(f'<ul class="list">{ITEMS}</ul>{pager}', browser=True)
    walks = [r for r in requests if r.meta.get("playwright_include_page")]
    assert len(walks) == 1 and walks[0].callback == spider.parse_walked
    assert spider.ledger.report() == []  # the walk, not this page, says whether the list was read in full


def test_a_list_with_plain_page_links_is_followed_not_flagged():
    spider, requests = _column(f'<ul class="list">{ITEMS}</ul><a href="?page=2">下一页</a>', browser=False)
    assert "http://127.0.0.9/zwgk/nb/?page=2" in {r.url for r in requests}
    assert spider.ledger.report() == []


def test_odd_pages_and_answers_neither_crash_nor_mislead():
    # prepage 0, a site-search box's url beside the list script, relative item URLs in the answer
    page = TRS_PAGE.replace("prepage: 2,", "prepage: 0,").replace("'5'", "'25'").replace(
        "<script>require", '<script>var url = "/search/searchResult.jsp";</script><script>require')
    plan = trs_api(page, "http://a.gov.cn/zwgk/zfxxgknb/")
    assert [c.page for c in plan.calls] == [2, 3]  # prepage 0 read as the default 10
    assert plan.calls[0].url == "http://a.gov.cn/fjdzapp/search" and plan.calls[0].first
    answer = json.dumps({"data": [{"doctitle": "某某", "docpuburl": "./202401/t1.html"}]})
    assert trs_api_page(answer, plan.calls[0]).records[0].url == "http://a.gov.cn/zwgk/zfxxgknb/202401/t1.html"
    assert trs_api_page("cb({data:[1]})", plan.calls[0]).records == []  # JSONP that is no JSON
    assert trs_api_page("[1, 2]", plan.calls[0]).records == []
    # a gkmlpt tree written as a JavaScript literal
    literal = GKMLPT.replace('"id"', "id").replace('"name"', "name").replace('"children"', "children")
    assert [c.column for c in gkmlpt(literal, "http://g.gov.cn/a/gkmlpt/index").calls] == ["2629"]


def test_a_hanweb_total_past_the_cap_is_read_in_part_and_said():
    from spiders.pagination import MAX_PAGES, hanweb_list

    store = ('<script type="text/xml"><datastore><nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?'
             'page=1&columnid=1"></a>]]></nextgroup><recordset></recordset></datastore></script>'
             '<script>jpage({totalRecord: 1000000000, perPage: 0});</script>')
    listing = hanweb_list(store, "http://h.gov.cn/col/col1/index.html")
    assert listing.truncated and len(listing.more()) <= MAX_PAGES
