"""Application shells are not challenges: a near-empty page its script draws is rendered as a page
(at its full URL, fragment included) where there is a browser, and never reported blocked; a WAF's
challenge, cookie wall or block page still is one."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from scrapy.http import HtmlResponse, Request
from scrapy.settings import Settings

from crawler.middlewares.challenge import ChallengeMiddleware, app_shell, challenged
from spiders.demo.portals import CHALLENGE
from spiders.demo.scripted import APP_SHELL


def page(body: str, status: int = 200, url: str = "http://example.gov.cn/") -> HtmlResponse:
    return HtmlResponse(url, status=status, body=body.encode(), headers={"Content-Type": "text/html; charset=utf-8"})


VUE = ('<!DOCTYPE html><html><head><meta charset="utf-8"><title>政务公开</title><link href="/css/app.css" '
       'rel="stylesheet"></head><body><noscript>请启用JavaScript</noscript><div id="app"></div>'
       '<script src="/js/chunk-vendors.3f2a.js"></script><script src="/js/app.9c1d.js"></script></body></html>')
REACT = ('<!doctype html><html><head><title>信息公开</title><script type="module" crossorigin '
         'src="/assets/index-a1b2.js"></script></head><body><div id="root"></div></body></html>')
GKMLPT = APP_SHELL.replace("SID", "123")
SHELLS = {"vue": VUE, "react": REACT, "gkmlpt": GKMLPT}

RUISHU_200 = ('<html><head><meta charset="utf-8"><script type="text/javascript" r="m">$_ts=window["$_ts"];'
              '$_ts.nsd=1;</script><script type="text/javascript" src="/4QbVtADb/c.Fx.dfe1675.js" r="m"></script>'
              '</head><body></body></html>')
JIASULE = ("<html><body><script>document.cookie=('__jsl_clearance_s=1700000000.1|0|abc');"
           "location.href=location.pathname+location.search</script></body></html>")
COOKIE_WALL = ('<html><head><script src="/js/jquery.min.js"></script></head><body><div id="app"></div><script>'
               'document.cookie = "verify=" + Date.now() + "; path=/"; location.reload();</script></body></html>')
BLOCKED = ('<html><head><script src="/waf/static/main.js"></script></head><body><div id="app">'
           '您的访问被拒绝，请求异常，如有疑问请联系网站管理员并提供本页的请求编号</div></body></html>')


@pytest.mark.parametrize("kind", sorted(SHELLS))
def test_application_shells_are_not_challenges(kind):
    response = page(SHELLS[kind])
    assert challenged(response) is None
    assert app_shell(response)


@pytest.mark.parametrize(("body", "status", "says"), [
    (CHALLENGE.replace("DELAY", "1500"), 412, "Ruishu"),
    (RUISHU_200, 200, "Ruishu"),  # a bundle beside $_ts is still Ruishu
    (JIASULE, 521, "Jiasule"),
    (JIASULE, 200, "Jiasule"),
    (COOKIE_WALL, 200, "script-only"),  # an app root, but a script that sets a cookie and reloads
    (BLOCKED, 200, "block page"),
    (VUE, 403, "WAF"),  # a shell's markup under a WAF's status
])
def test_challenges_are_still_challenges(body, status, says):
    response = page(body, status)
    assert not app_shell(response)
    assert says in (challenged(response) or "")


def test_a_real_page_with_script_bundles_is_no_shell():
    links = "".join(f'<li><a href="/zwgk/{i}.html">通知{i}</a></li>' for i in range(5))
    response = page(f'<html><head><script src="/js/jquery.js"></script></head><body><div id="app"><ul>{links}</ul>'
                    "</div></body></html>")
    assert challenged(response) is None and not app_shell(response)


def middleware(browser: bool, render: str = "auto") -> ChallengeMiddleware:
    spider = SimpleNamespace(browser_meta=lambda: {"playwright": True, "playwright_page_methods": []},
                             portals={"p": SimpleNamespace(render=render)})
    return ChallengeMiddleware(SimpleNamespace(settings=Settings({"NIANBAO_BROWSER": browser}), spider=spider))


def test_a_shell_is_rendered_as_a_page_at_its_full_url():
    url = "http://example.gov.cn/gkmlpt/index#2629"
    request = Request(url, meta={"portal": "p", "role": "start", "nianbao_validated": 3},
                      headers={"If-None-Match": '"abc"'})
    again = middleware(True).process_response(request, page(GKMLPT, url=url))
    assert isinstance(again, Request)
    assert again.url == url  # the fragment, where the app reads its column, survives
    assert again.meta["playwright"] and again.meta["nianbao_app_shell"] and again.dont_filter
    assert "nianbao_challenge" not in again.meta and "nianbao_validated" not in again.meta
    assert b"If-None-Match" not in again.headers


def test_a_rendered_shell_or_a_shell_without_a_browser_is_a_page_not_blocked():
    url = "http://example.gov.cn/#/list"
    for mw, meta in ((middleware(False), {"portal": "p"}), (middleware(True), {"portal": "p", "playwright": True}),
                     (middleware(True, render="never"), {"portal": "p"})):
        request = Request(url, meta=dict(meta))
        response = page(VUE, url=url)
        assert mw.process_response(request, response) is response
        assert "nianbao_blocked" not in request.meta


def test_without_a_browser_a_challenge_is_still_blocked():
    request = Request("http://example.gov.cn/", meta={"portal": "p"})
    middleware(False).process_response(request, page(CHALLENGE.replace("DELAY", "1"), 412))
    assert "Ruishu" in request.meta["nianbao_blocked"]


# -- route fragments, and a crawl of a single-page app addressed by them --------------------------------

@pytest.mark.parametrize(("href", "url"), [
    ("/gkmlpt/index#2629", "http://h.gov.cn/gkmlpt/index#2629"),  # gkmlpt's column number
    ("/#/list/12", "http://h.gov.cn/#/list/12"), ("/x#!/p/2", "http://h.gov.cn/x#!/p/2"),  # hash routes
    ("/a.html#top", "http://h.gov.cn/a.html"), ("/a#12", "http://h.gov.cn/a"), ("/a#/", "http://h.gov.cn/a"),
])
def test_an_apps_route_fragment_is_kept_an_anchor_is_not(href, url):
    from spiders.links import clean_url

    assert clean_url(href, "http://h.gov.cn/x/") == url


def test_requests_to_two_routes_of_one_app_are_two_requests():
    from crawler.fingerprints import RouteFingerprinter

    fp = RouteFingerprinter().fingerprint
    assert fp(Request("http://h.gov.cn/gkmlpt/index#2629")) != fp(Request("http://h.gov.cn/gkmlpt/index#2630"))


def _crawl(tmp_path, host: str, browser: str):
    from crawler.run import crawl_in_subprocess
    from spiders.demo.scripted import build_app
    from spiders.demo.server import PortalServer
    from spiders.profiles import PortalProfile

    portal = build_app(62, [2022, 2023])
    with PortalServer(portal.site, host=host) as server:
        profile = PortalProfile(name=portal.name, start_urls=[server.url + "/"], delay=0.0)
        summary = crawl_in_subprocess(tmp_path / "archive", [profile], browser=browser, progress=False,
                                      patience_ms=20_000, overrides={"AUTOTHROTTLE_START_DELAY": 0.0})
    return portal, summary["portals"][0]


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.libreoffice
def test_a_single_page_app_is_rendered_with_its_fragments(tmp_path):
    portal, result = _crawl(tmp_path, "127.0.0.82", "auto")
    assert {(a, int(y)) for y, ags in result["reports"].items() for a in ags} == portal.expected
    # both columns, each rendered with its fragment (#2630 linked first, then #2629)
    assert {h.path.split("?")[0] for h in portal.site.hits if h.path.startswith("/gkmlpt/api/")} == \
        {"/gkmlpt/api/all/2629", "/gkmlpt/api/all/2630"}
    assert not result["blocked"]


@pytest.mark.slow
@pytest.mark.libreoffice
def test_without_a_browser_a_single_page_app_is_not_blocked(tmp_path):
    portal, result = _crawl(tmp_path, "127.0.0.83", "never")
    assert result["reports"] == {} and not result["blocked"]
    # the two columns' shells fetched as pages (a fragment is not sent), nothing rendered
    assert [h.path for h in portal.site.hits if h.path.startswith("/gkmlpt/")] == ["/gkmlpt/index"] * 2
