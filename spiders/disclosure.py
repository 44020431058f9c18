"""The spider: from a portal's front page (or hub, or column) to every year's report and its files.

It follows same-site links scored by what they say (政府信息公开, 年报, …) for a bounded number of
hops, pages through list columns however the CMS does it (下一页 links, TRS ``createPageHTML``,
Hanweb datastores, script-filled lists through a browser), opens report pages and fetches their
attachments. It decides nothing about what a document *is*: every response goes to the archive,
whose parser tells a report from a look-alike.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

import parsel
import scrapy
from scrapy.http import FormRequest, Request, Response, TextResponse
from scrapy.selector import Selector

from archive.extract.charset import decode_html
from spiders import links as L
from spiders.pagination import hanweb_list, hanweb_records, trs_pages
from spiders.profiles import PortalProfile

MAX_HOPS = 4  # front page -> hub -> column -> list; pagination and report links do not count
FOLLOW_SCORE = 25  # a navigation link must say at least this much about disclosure to be followed
COLUMN_SCORE = 40  # a link this telling leads to the report column itself
SHELL_LINKS = 3  # a page with at most this many links and a location.replace() is a redirect shell
# What the browser waits for before taking the page: real text, or the site's links (a challenge page
# has neither until its script has run and the page reloaded).
EVIDENCE_JS = ("() => document.body && (document.body.innerText.replace(/\\s+/g, '').length > 40"
               " || document.links.length >= 2)")


# The same navigation links recur on every page of a site: clean and classify each once (bounded, so
# memory stays flat however many portals a crawl holds).
_clean = lru_cache(maxsize=65536)(L.clean_url)
_classify = lru_cache(maxsize=65536)(L.classify)


@lru_cache(maxsize=65536)
def _hostname(url: str) -> str:
    return urlsplit(url).hostname or ""


def page_selector(html: str) -> parsel.Selector:
    """The page's text as a Selector: parsel's own. Scrapy's wraps the text in a stand-in response, encodes
    and decodes it again and looks for a base URL that nothing here reads (a third of the spider's time in
    bench/crawl.py); the tree is the same."""
    return parsel.Selector(text=html, type="html")


def page_base(sel: Selector, url: str) -> str:
    """Where the page's relative links resolve: its ``<base href>`` (resolved against the page), else
    the page's own URL (a report was fetched at the wrong address and 404ed without this)."""
    # the first <base> with an href, in document order (what //head/base/@href | //base/@href gives), read by
    # lxml itself: the XPath through parsel cost more than the rest of the function
    href = next((h for b in sel.root.iter("base") if (h := b.get("href")) is not None), None)
    return urljoin(url, href.strip()) if href and href.strip() else url


class DisclosureSpider(scrapy.Spider):
    name = "disclosure"

    def __init__(self, portals: list[PortalProfile], browser: bool = False, patience_ms: int = 45_000,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.portals = {p.name: p for p in portals}
        self.allowed_domains = sorted({h for p in portals for h in p.allowed_hosts})
        self.browser = browser
        self.patience_ms = patience_ms
        self.failures: list[tuple[str, str | None, str]] = []
        self.requested: set[str] = set()
        self.patterns = {p.name: [re.compile(x) for x in p.hints.get("url_patterns", [])] for p in portals}

    # -- requests ---------------------------------------------------------------------------------
    def browser_meta(self) -> dict:
        from scrapy_playwright.page import PageMethod

        return {"playwright": True, "playwright_page_methods": [
            PageMethod("wait_for_function", EVIDENCE_JS, timeout=self.patience_ms)]}

    def make(self, url: str, portal: PortalProfile, *, hops: int, role: str, text: str = "", priority: int = 0,
             render: bool = False, callback=None, **kw) -> Request:
        meta = {"portal": portal.name, "hops": hops, "role": role, "link_text": text or None}
        if not portal.robots:
            meta["dont_obey_robotstxt"] = True
        if render and self.browser and role != "file":
            meta.update(self.browser_meta())
        return Request(url, callback=callback or self.parse, errback=self.failed, priority=priority, meta=meta, **kw)

    def failed(self, failure) -> None:
        """A request that got no response (DNS, refused, timeout, too many redirects): remembered for
        the run's summary."""
        from scrapy.spidermiddlewares.httperror import HttpError

        if failure.check(HttpError):
            return  # the response was archived with its status; the summary reads it there
        request = failure.request
        blocked = request.meta.get("nianbao_blocked")
        why = f"blocked: {blocked}" if blocked else failure.getErrorMessage()[:200] or type(failure.value).__name__
        self.failures.append((request.url, request.meta.get("portal"), why))

    async def start(self) -> AsyncIterator[Request]:
        for portal in self.portals.values():
            for url in portal.start_urls:
                yield self.make(url, portal, hops=0, role="start", render=portal.render == "browser")

    # -- pages ------------------------------------------------------------------------------------
    def parse(self, response: Response) -> Iterator[Request]:
        """Requests for what a page links to, each URL once per crawl (the navigation on every page
        of a site would otherwise make a Request, a trip through the middlewares and a fingerprint
        for the scheduler to drop, per link per page)."""
        for request in self._parse(response):
            if request.dont_filter or request.method != "GET":
                yield request
            elif request.url not in self.requested:
                self.requested.add(request.url)
                yield request

    def _parse(self, response: Response) -> Iterator[Request]:
        portal = self.portals[response.meta["portal"]]
        if not isinstance(response, TextResponse) or L.is_attachment(response.url):
            return  # a file: the archive has it
        ctype = response.headers.get("Content-Type", b"").decode("latin-1")
        if "html" not in ctype and not response.body.lstrip()[:200].lower().startswith((b"<!doctype", b"<html")):
            return
        if response.meta.get("nianbao_charset") == response.encoding:
            html = response.text  # EncodingMiddleware chose the charset; MetaRefresh already decoded it
        else:
            html = decode_html(response.body, ctype)[0]  # charset-normalizer, not Scrapy's cp1252 fallback
        sel = page_selector(html)
        base = page_base(sel, response.url)
        hops = response.meta.get("hops", 0)
        render = portal.render == "browser"
        title = " ".join(sel.css("title::text, h1 ::text").getall())
        on_report_page = L.looks_like_report(title)
        found_reports = 0
        role = response.meta.get("role")
        links = list(self._links(sel, base, portal))
        for link in links:
            if link.kind == "attachment":
                if on_report_page or L.looks_like_report(link.text) or role == "report":
                    yield self.make(link.url, portal, hops=hops, role="file", text=link.text, priority=50,
                                    callback=self.parse_file)
            elif link.kind == "report":
                found_reports += 1
                yield self.make(link.url, portal, hops=hops + 1, role="report", text=link.text, priority=40,
                                render=render)
            elif link.kind == "next" and not on_report_page:
                yield self.make(link.url, portal, hops=hops, role="list", text=link.text, priority=30, render=render)
            elif link.kind == "year" and role in ("start", "column", "list") and hops <= MAX_HOPS:
                # a per-year sub-column (gknb2022/, 2022n/) of the report column
                yield self.make(link.url, portal, hops=hops + 1, role="column", text=link.text, priority=35,
                                render=render)
            elif link.kind == "nav" and link.score >= FOLLOW_SCORE and hops < MAX_HOPS and not on_report_page:
                follow = "column" if link.score >= COLUMN_SCORE else "nav"
                yield self.make(link.url, portal, hops=hops + 1, role=follow, text=link.text,
                                priority=link.score // 10, render=render)
        if len(links) <= SHELL_LINKS and (target := L.script_redirect(html)):
            yield from self._shell(target, response, portal, hops)
        for url in trs_pages(html, response.url):
            yield self.make(url, portal, hops=hops, role="list", priority=30, render=render)
        found_reports += yield from self._hanweb(html, response, portal, hops, base)
        if self._needs_browser(response, sel, found_reports, portal):
            yield self.make(response.url, portal, hops=hops, role=response.meta.get("role", "nav"), render=True,
                            dont_filter=True, text=response.meta.get("link_text") or "")

    def _shell(self, target: str, response: Response, portal: PortalProfile, hops: int) -> Iterator[Request]:
        """A script-only page (``location.replace``): the page it sends to, in the same role."""
        url = L.clean_url(target, response.url)
        if not url or url == response.url or not self.in_scope(url, portal):
            return
        role = response.meta.get("role", "nav")
        if L.is_attachment(url):
            yield self.make(url, portal, hops=hops, role="file", priority=50, callback=self.parse_file,
                            text=response.meta.get("link_text") or "")
        else:
            yield self.make(url, portal, hops=hops, role=role, priority=40, text=response.meta.get("link_text") or "",
                            render=portal.render == "browser")

    def _links(self, sel: Selector, base: str, portal: PortalProfile) -> Iterator[L.Link]:
        """The page's in-scope links, classified; a profile's hints overrule the heuristics."""
        seen: set[str] = set()
        listed: set[str] = set()
        if selector := portal.hints.get("list_selector"):
            listed = {u for h in sel.css(selector).xpath("descendant-or-self::a/@href").getall()
                      if (u := L.clean_url(h, base))}
        patterns = self.patterns.get(portal.name, [])
        origin = base[:base.find("/", base.find("//") + 2)] if base.count("/") >= 3 else base
        for a in sel.root.iter("a"):  # lxml itself: a Selector per anchor costs more than the rest of the page
            href = a.get("href")
            if href is None:
                continue
            # a root-relative href ("/zwgk/") means the same on every page of the host: one cache entry
            url = _clean(href, origin if href.startswith("/") and not href.startswith("//") else base)
            if not url or url in seen or not self.in_scope(url, portal):
                continue
            seen.add(url)
            text = " ".join(" ".join(a.itertext()).split()) or a.get("title", "")
            link = _classify(url, text)
            if url in listed and link.kind != "attachment":
                link = replace(link, kind="report")  # the profile says: this list holds the reports
            elif link.kind == "nav" and any(p.search(url) for p in patterns):
                link = replace(link, score=max(link.score, COLUMN_SCORE))  # the profile says: a column
            yield link

    def in_scope(self, url: str, portal: PortalProfile) -> bool:
        """The agency's own hosts only: copies of government pages elsewhere are spam mirrors."""
        return _hostname(url) in portal.allowed_hosts

    def _hanweb(self, html: str, response: Response, portal: PortalProfile, hops: int, base: str):
        listing = hanweb_list(html, response.url)
        if listing is None:
            return 0
        n = 0
        for snippet in listing.records:
            n += yield from self._record_links(snippet, base, portal, hops)
        for url, form in listing.more():
            yield FormRequest(url, formdata=form, callback=self.parse_hanweb, priority=30,
                              meta={"portal": portal.name, "hops": hops, "role": "list", "link_text": None})
        return n

    def _record_links(self, snippet: str, base: str, portal: PortalProfile, hops: int):
        n = 0
        for link in self._links(page_selector(snippet), base, portal):
            if link.kind in ("report", "attachment"):
                n += 1
                role = "file" if link.kind == "attachment" else "report"
                yield self.make(link.url, portal, hops=hops + 1, role=role, text=link.text, priority=40,
                                callback=self.parse_file if role == "file" else None)
        return n

    def parse_hanweb(self, response: Response) -> Iterator[Request]:
        """A dataproxy.jsp answer: more records of a Hanweb column."""
        portal = self.portals[response.meta["portal"]]
        for snippet in hanweb_records(response.text):
            yield from self._record_links(snippet, response.url, portal, response.meta.get("hops", 0))

    def _needs_browser(self, response: Response, sel: Selector, found: int, portal: PortalProfile) -> bool:
        """A report column whose list is empty but has scripts: it is filled in the browser."""
        return (self.browser and portal.render == "auto" and not response.meta.get("playwright")
                and response.meta.get("role") == "column" and found == 0
                and not sel.css("a[href]").re(r"(?:19|20)\d{2}") and bool(sel.css("script")))

    def parse_file(self, response: Response) -> None:
        """An attachment: archived as it came; nothing to follow."""
        return None
