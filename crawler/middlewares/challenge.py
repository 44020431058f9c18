"""Anti-bot pages: recognised by the absence of real content, retried once in a browser, else reported.

Challenge markers change with every WAF release, and during a Ruishu challenge the page is blanked,
so "no marker left" proves nothing. A page counts as real only on positive evidence: enough visible
text, or links. A 412 (Ruishu ``$_ts``), 521 (Jiasule), 403 or 200 page without that evidence is
re-fetched through the browser with a patient wait for real content (a Ruishu challenge takes a real
browser 30-45 s). If it still shows nothing, the URL is recorded as blocked and never taken for a
report. Order 540: after decompression.
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
        if reason is None:
            if request.meta.get("playwright") and response.status in CHALLENGE_STATUS:
                # the browser got through: keep what it rendered, and say which status it had to pass
                raw = request.meta.get("nianbao_raw")
                if raw:
                    raw["status"] = 200
                    raw["headers"] = [*raw["headers"], ("X-Nianbao-Passed-Challenge", str(response.status))]
                return response.replace(status=200)
            return response
        spider = self.crawler.spider
        if self.browser and not request.meta.get("playwright") and spider is not None:
            retry = spider.browser_meta() if hasattr(spider, "browser_meta") else {"playwright": True}
            meta = {k: v for k, v in request.meta.items() if not k.startswith("nianbao_")}
            meta.update(retry, nianbao_challenge=reason)
            retried = request.replace(meta=meta, dont_filter=True)
            for h in (b"If-None-Match", b"If-Modified-Since"):  # a 304 would abort the browser's navigation
                retried.headers.pop(h, None)
            return retried
        request.meta["nianbao_blocked"] = reason
        return response

    def process_exception(self, request: Request, exception: Exception, spider=None):
        if request.meta.get("nianbao_challenge"):
            request.meta["nianbao_blocked"] = (f"{request.meta['nianbao_challenge']}; the browser saw no real "
                                               f"content either ({type(exception).__name__})")
        return None
