"""Link classification and portal profiles: pure functions, no crawl."""

from __future__ import annotations

import pytest

from spiders import links as L
from spiders.profiles import BUNDLED, PortalProfile, ProfileError, load, load_all, save


@pytest.mark.parametrize(("url", "text", "kind"), [
    ("http://a.gov.cn/files/P020230120.pdf", "附件", "attachment"),
    ("http://a.gov.cn/module/download/downfile.jsp?classid=0&filename=ab12.pdf", "下载", "attachment"),
    ("http://a.gov.cn/x/t20230120_1.html", "某某局2022年政府信息公开工作年度报告", "report"),
    ("http://a.gov.cn/x/notice.html", "关于做好2022年度政府信息公开工作年度报告编制发布工作的通知", "nav"),
    ("http://a.gov.cn/x/?page=3", "3", "next"),
    ("http://a.gov.cn/x/index_4.html", "尾页", "next"),
    ("http://a.gov.cn/x/list_2.shtml", "[2]", "next"),
    ("http://a.gov.cn/", "1", "nav"),  # a bare number that is no pager link
    ("http://a.gov.cn/x/2022n/", "2022年度", "year"),
    ("http://a.gov.cn/x/gknb2021/", "【2021年】", "year"),
    ("http://a.gov.cn/x/?page=2", "2022", "year"),  # four digits are a year, not page 2022
    ("http://a.gov.cn/x/", "下一页", "next"),
])
def test_classify(url, text, kind):
    assert L.classify(url, text).kind == kind


def test_scores_prefer_the_report_column_and_reject_noise():
    assert L.score("http://a.gov.cn/zfxxgk/zfxxgknb/", "政府信息公开年报") >= 40
    assert L.score("http://a.gov.cn/zwgk/", "政务公开") >= 25
    assert L.score("http://a.gov.cn/en/", "English") < 0
    assert L.score("http://a.gov.cn/news/", "新闻中心") == 0


@pytest.mark.parametrize(("html", "target"), [
    ('<script>location.replace("/content/2023/1.html");</script>', "/content/2023/1.html"),
    ("<script>window.location.href = 'a.html'</script>", "a.html"),
    ("<script>document.location='../b.pdf';</script>", "../b.pdf"),
    ("<script>var x = 1;</script>", None),
])
def test_script_redirect(html, target):
    assert L.script_redirect(html) == target


def test_urls_are_cleaned_of_sessions_and_gateways():
    assert L.clean_url("/a/;jsessionid=XYZ?sid=9&id=3#top", "http://A.gov.cn/") == "http://a.gov.cn/a/?id=3"
    assert L.clean_url("javascript:void(0)") is None
    assert L.unrewrite("https://www-pingtan-gov-cnx45c8968723868xx.ipv6best.cn/zwgk/") == "https://www.pingtan.gov.cn/zwgk/"


def test_bundled_profiles_of_real_portals_load():
    bundled = load_all()
    assert len(bundled) >= 10
    assert len(list(BUNDLED.glob("*.toml"))) == len(bundled)  # names are unique
    for p in bundled.values():
        assert p.agency and p.robots and p.delay >= 1 and p.concurrency <= 2, p.name
        assert all(any(h in u for h in p.allowed_hosts) for u in p.start_urls), p.name
    assert "mohrss" in bundled and bundled["yunnan-hrss"].hints["url_patterns"]


def test_an_archive_profile_overrides_a_bundled_one(tmp_path):
    save(PortalProfile(name="mohrss", start_urls=["http://127.0.0.9/"], agency="测试"), tmp_path)
    assert load_all(tmp_path)["mohrss"].start_urls == ["http://127.0.0.9/"]
    assert load(tmp_path / "mohrss.toml").agency == "测试"


@pytest.mark.parametrize(("kw", "words"), [
    ({"start_urls": []}, "no start_urls"),
    ({"start_urls": ["ftp://a/"]}, "not an http"),
    ({"render": "sometimes"}, "render must be"),
    ({"hints": {"list_selecter": "a"}}, "unknown hints"),
    ({"hints": {"list_selector": "ul..list a"}}, "not a CSS selector"),
    ({"hints": {"url_patterns": ["(unclosed"]}}, "bad url_patterns"),
    ({"hints": {"url_patterns": "/nb/"}}, "must be a list"),
])
def test_bad_profiles_fail_in_words(kw, words):
    with pytest.raises(ProfileError, match=words):
        PortalProfile(**{"name": "x", "start_urls": ["http://a.gov.cn/"], **kw})


def test_a_broken_profile_file_names_itself(tmp_path):
    (tmp_path / "bad.toml").write_text('name = "x"\nstart_urls = [', "utf-8")
    with pytest.raises(ProfileError, match=r"bad\.toml"):
        load(tmp_path / "bad.toml")


def test_relative_links_resolve_against_the_pages_base_href():
    """A CMS page that says ``<base href>`` means its relative links from there, not from its own URL."""
    from scrapy.http import HtmlResponse, Request

    from spiders.disclosure import DisclosureSpider
    from spiders.profiles import PortalProfile

    portal = PortalProfile(name="t", start_urls=["http://127.0.0.9/"])
    spider = DisclosureSpider([portal])
    html = ('<html><head><base href="http://127.0.0.9/zwgk/nb/"><title>政府信息公开年报</title></head><body>'
            '<a href="t20240120_1.html">2023年政府信息公开工作年度报告</a>'
            '<a href="/zwgk/nb/2022.pdf">2022年政府信息公开工作年度报告</a></body></html>')
    url = "http://127.0.0.9/site/col/col123/index.html"
    response = HtmlResponse(url, body=html.encode(), encoding="utf-8",
                            request=Request(url, meta={"portal": "t", "role": "column", "hops": 1}))
    urls = {r.url for r in spider.parse(response)}
    assert "http://127.0.0.9/zwgk/nb/t20240120_1.html" in urls
    assert "http://127.0.0.9/site/col/col123/t20240120_1.html" not in urls
    assert "http://127.0.0.9/zwgk/nb/2022.pdf" in urls


@pytest.mark.parametrize("path", ["/a/b.PDF", "/a/b.tar.gz", "/a/.pdf", "/a/..pdf", "/a/b.", "/a/b", "/a.d/b",
                                  "/a/b.pdf/", "", "/", "b.docx", "/a/b.pdf//", "/download.jsp", "/x/年报.wps"])
def test_suffix_is_pathlibs(path):
    from pathlib import PurePosixPath

    from archive.extract.formats import suffix

    assert suffix(path) == PurePosixPath(path).suffix.lower()
