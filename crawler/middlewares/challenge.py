"""Anti-bot pages: recognised by the absence of real content, retried once in a browser, else reported.

Challenge markers change with every WAF release, and during a Ruishu challenge the page is blanked,
so "no marker left" proves nothing. A page counts as real only on positive evidence: enough visible
text, or links. A 412 (Ruishu ``$_ts``), 521 (Jiasule), 403 or 200 page without that evidence is
re-fetched through the browser with a patient wait for real content (a Ruishu challenge takes a real
browser 30-45 s). If it still shows nothing, the URL is recorded as blocked and never taken for a
report. Order 540: after decompression.

An application shell is not a challenge: a 200 page that is nearly empty because a script draws it
(``<div id="app"></div><script src="/js/app.js">``, a Vue or React root, the gkmlpt single-page app
addressed by its URL fragment, ``/gkmlpt/index#2629``) carries an app root, bundles or its config and
none of a WAF's marks. With the browser on it is rendered as a page (at its full URL, fragment
included: the app reads its route there), never recorded as blocked; without one it is simply a page
with nothing to read, and the list-level code says the list was not read.
"""

from __future__ import annotations

import re

from scrapy.http import Request, Response, TextResponse

from archive.extract.charset import decode_html

SCRIPT = re.compile(rb"<(script|style|noscript)\b.*?</\1>", re.S | re.I)
TAGS = re.compile(r"<[^>]+>")
CHALLENGE_STATUS = {403, 412, 418, 429, 503, 521}
MIN_TEXT = 120  # visible characters that make a page real on their own
MIN_LINKS = 2  # or links of the site's own navigation (a block page has none)
# what an application shell carries: a root element a framework mounts on, a config or state object,
# script bundles (a challenge page's one inline script sets a cookie and reloads instead)
APP_ROOT = re.compile(rb"""<(?:div|main|section|body)\b[^>]*?(?:\bid\s*=\s*["']?(?:app|root|__next|__nuxt|main-app|"""
                      rb"""application|gkmlpt\w*)\b|\bdata-v-app\b|\bng-app\b|\bdata-reactroot\b)""", re.I)
APP_STATE = re.compile(rb"window\._CONFIG\b|__INITIAL_STATE__|__NUXT__|__NEXT_DATA__|window\.__APP", re.I)
BUNDLE = re.compile(rb"""<script\b[^>]*?\bsrc\s*=\s*["']?[^"'\s>]+\.js\b|<script\b[^>]*?\btype\s*=\s*["']?module""",
                    re.I)
# marks of WAFs and cookie walls: Ruishu, Jiasule, Aliyun, Yunsuo, Safedog, a script that sets a cookie
# and reloads or goes elsewhere
WAF_MARKS = re.compile(rb"\$_ts|__jsl|acw_sc__|acw_tc|yunsuo|safedog|_waf_|waf\.js|captcha|"
                       rb"document\.cookie\s*=.{0,400}?location\s*(?:\.reload|\.href|\.replace|=)", re.I | re.S)
BLOCK_WORDS = re.compile("拦截|访问被拒绝|拒绝访问|安全防护|非法请求|访问受限|请求异常|云防护|web应用防火墙|WAF", re.I)


def real_content(response: Response) -> bool:
    """Positive evidence that a page is the site's content, not a challenge or block page."""
    if not isinstance(response, TextResponse):
        return 200 <= response.status < 300
    ctype = response.headers.get("Content-Type", b"").decode("latin-1")
    if "html" not in ctype and not response.body.lstrip()[:100].lower().startswith((b"<!doctype", b"<html")):
        return 200 <= response.status < 300
    # the links first: counting bytes is cheap, decoding the page's text is not
    return response.body.lower().count(b"<a ") >= MIN_LINKS or len(_visible(response, ctype)) >= MIN_TEXT


def _visible(response: Response, ctype: str) -> str:
    text, _ = decode_html(SCRIPT.sub(b"", response.body), ctype)
    return re.sub(r"\s+", "", TAGS.sub(" ", text))


def readable_app(response: Response) -> bool:
    """An app shell whose lists an adapter reads from its own data (gkmlpt's ``window._CONFIG``):
    faster and gentler than a browser, and it does not depend on the app drawing anything."""
    from spiders.listapis import list_plans

    text = response.text if isinstance(response, TextResponse) else ""
    url = response.request.url if response.request is not None else response.url
    return bool(list_plans(text, url))


def app_shell(response: Response) -> bool:
    """A near-empty 200 page drawn by script (an app root, its state or bundles) with no mark of a WAF
    or block."""
    if response.status != 200 or not isinstance(response, TextResponse) or real_content(response):
        return False
    body = response.body[:50000]
    if WAF_MARKS.search(body) or not (APP_ROOT.search(body) or APP_STATE.search(body) or BUNDLE.search(body)):
        return False
    ctype = response.headers.get("Content-Type", b"").decode("latin-1")
    return not BLOCK_WORDS.search(_visible(response, ctype))


def challenged(response: Response) -> str | None:
    """Why this response is not the page (None if it is)."""
    if response.status in (404, 410) or 300 <= response.status < 400:
        return None
    if real_content(response):
        return None
    body = response.body[:20000]
    ctype = response.headers.get("Content-Type", b"").decode("latin-1")
    visible = _visible(response, ctype) if isinstance(response, TextResponse) else ""
    if b"$_ts" in body:
        return f"HTTP {response.status}: Ruishu (瑞数) JavaScript challenge"
    if response.status == 521 or b"__jsl" in body:
        return f"HTTP {response.status}: Jiasule (加速乐) cookie challenge"
    if response.status in CHALLENGE_STATUS:
        return f"HTTP {response.status} with no real content (a WAF or cookie wall)"
    if app_shell(response):
        return None  # a page its script draws: rendered as a page where there is a browser
    if b"<script" in body.lower() and len(visible) < 20:
        return f"HTTP {response.status}: a script-only page with no real content"
    if BLOCK_WORDS.search(visible):
        return f"HTTP {response.status}: a block page ({BLOCK_WORDS.search(visible).group(0)})"
    return None


class ChallengeMiddleware:
    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.browser = crawler.settings.getbool("NIANBAO_BROWSER")

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_response(self, request: Request, response: Response, spider=None):
        if request.meta.get("nianbao_from_archive") or request.meta.get("role") == "file":
            return response
        reason = challenged(response)
        if reason is None and self._may_render(request) and app_shell(response) and not readable_app(response):
            return self._render_shell(request)
        if reason is None:
            if request.meta.get("playwright") and response.status in CHALLENGE_STATUS:
                # the browser got through: keep what it rendered, and say which status it had to pass
                raw = request.meta.get("nianbao_raw")
                if raw:
                    raw["status"] = 200
                    raw["headers"] = [*raw["headers"], ("X-Nianbao-Passed-Challenge", str(response.status))]
                return response.replace(status=200)
            return response
        if self.browser and not request.meta.get("playwright") and self.crawler.spider is not None:
            return self._in_browser(request, nianbao_challenge=reason)
        request.meta["nianbao_blocked"] = reason
        return response

    def _may_render(self, request: Request) -> bool:
        """The browser is on, the request was not rendered yet, and its portal does not refuse one."""
        spider = self.crawler.spider
        if not self.browser or request.meta.get("playwright") or spider is None:
            return False
        portal = getattr(spider, "portals", {}).get(request.meta.get("portal"))
        return getattr(portal, "render", "auto") != "never"

    def _render_shell(self, request: Request) -> Request:
        """An application shell again, in the browser, as a page (not a challenge: its failure is a
        failure, not a block), at the very URL asked, fragment included (the app reads its route there)."""
        return self._in_browser(request, nianbao_app_shell=True)

    def _in_browser(self, request: Request, **mark) -> Request:
        spider = self.crawler.spider
        retry = spider.browser_meta() if hasattr(spider, "browser_meta") else {"playwright": True}
        meta = {k: v for k, v in request.meta.items() if not k.startswith("nianbao_")}
        meta.update(retry, **mark)
        again = request.replace(meta=meta, dont_filter=True)
        for h in (b"If-None-Match", b"If-Modified-Since"):  # a 304 would abort the browser's navigation
            again.headers.pop(h, None)
        return again

    def process_exception(self, request: Request, exception: Exception, spider=None):
        if request.meta.get("nianbao_challenge"):
            request.meta["nianbao_blocked"] = (f"{request.meta['nianbao_challenge']}; the browser saw no real "
                                               f"content either ({type(exception).__name__})")
        return None
