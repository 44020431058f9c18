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
from urllib.parse import urldefrag, urljoin

import parsel
import scrapy
from scrapy.http import FormRequest, Request, Response, TextResponse
from scrapy.selector import Selector

from archive.extract.charset import decode_html
from spiders import links as L
from spiders.listapis import ApiCall, Record, list_plans, read_api
from spiders.listing import ListLedger, list_items, list_key, page_announced, script_list, script_pager
from spiders.pagination import hanweb_list, hanweb_records, record_hrefs, trs_pages
from spiders.profiles import PortalProfile
from spiders.profiles import url_host as _hostname

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
        self.ledger = ListLedger()  # every report list met, how it was paged, what it announced
        self.patterns = {p.name: [re.compile(x) for x in p.hints.get("url_patterns", [])] for p in portals}

    # -- requests ---------------------------------------------------------------------------------
    def browser_meta(self) -> dict:
        from scrapy_playwright.page import PageMethod

        return {"playwright": True, "playwright_page_methods": [
            PageMethod("wait_for_function", EVIDENCE_JS, timeout=self.patience_ms)]}

    def make(self, url: str, portal: PortalProfile, *, hops: int, role: str, text: str = "", priority: int = 0,
             render: bool = False, callback=None, meta_extra: dict | None = None, formdata: dict | None = None,
             **kw) -> Request:
        """Every request of the crawl: the portal's name, agency and robots choice in its meta; a POST of
        ``formdata`` when given (a list API, Hanweb's dataproxy)."""
        meta = {"portal": portal.name, "hops": hops, "role": role, "link_text": text or None,
                "portal_agency": portal.agency, **(meta_extra or {})}
        if not portal.robots:
            meta["dont_obey_robotstxt"] = True
        if render and self.browser and role != "file":
            meta.update(self.browser_meta())
        if formdata is not None:
            return FormRequest(url, formdata=formdata, callback=callback or self.parse, errback=self.failed,
                               priority=priority, meta=meta, **kw)
        return Request(url, callback=callback or self.parse, errback=self.failed, priority=priority, meta=meta, **kw)

    def failed(self, failure) -> None:
        """A request that got no response (DNS, refused, timeout, too many redirects): remembered for
        the run's summary."""
        from scrapy.exceptions import IgnoreRequest
        from scrapy.spidermiddlewares.httperror import HttpError

        request = failure.request
        status = failure.value.response.status if failure.check(HttpError) else None
        said = f" (HTTP {status})" if status else f" ({failure.getErrorMessage()[:80]})"
        if (call := request.meta.get("api_call")) is not None:
            self.ledger.incomplete(call.list_url, request.meta.get("portal") or "", call.family,
                                   f"its list API did not answer page {call.page}{said}")
        elif (root := request.meta.get("list_root")) and not failure.check(IgnoreRequest):
            # (a page the crawl chose not to fetch — robots.txt, a trap's bound, the budget — is in "skipped")
            self.ledger.incomplete(root, request.meta.get("portal") or "", "static",
                                   f"a further page of it did not answer: {request.url}{said}")
        if failure.check(HttpError):
            return  # the response was archived with its status; the summary reads it there
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
        return self._once(self._parse(response), response)

    def _once(self, requests: Iterator[Request], response: Response) -> Iterator[Request]:
        """Each URL once; and each file request carries whether the response that listed it came back
        unchanged (a 304), so a file served without validators may stand as archived
        (crawler/middlewares/lookup.py) however the list was read: a link, a datastore record, an API's item."""
        unchanged = "not-modified" in response.flags
        for request in requests:
            if request.meta.get("role") == "file":
                request.meta["nianbao_parent_unchanged"] = unchanged
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
        pagers = 0  # ways to the list's further pages this page offers and the crawl follows
        # a report list (the ledger keeps those, not news columns): its further pages carry its first page
        root = response.meta.get("list_root") or (
            self.page_url(response) if role in ("column", "list") or any(x.kind == "report" for x in links) else None)
        further = {"list_root": root} if root else None
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
                pagers += 1
                yield self.make(link.url, portal, hops=hops, role="list", text=link.text, priority=30, render=render,
                                meta_extra=further)
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
            pagers += 1
            yield self.make(url, portal, hops=hops, role="list", priority=30, render=render, meta_extra=further)
        hanweb, datastore = yield from self._hanweb(html, response, portal, hops, base)
        found_reports += hanweb
        pagers += datastore
        if not on_report_page:
            adapted = yield from self._lists(html, sel, response, portal, hops, base, followed=pagers > 0,
                                             reports=found_reports)
            found_reports += adapted
        if not response.meta.get("nianbao_list_read") and self._needs_browser(response, sel, found_reports, portal):
            yield self.walk_request(response, portal, hops)  # rendered, and its pager (if any) walked

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
        """The agency's own hosts only (:meth:`PortalProfile.covers`, the rule the browser follows too)."""
        return portal.covers(url)

    def _hanweb(self, html: str, response: Response, portal: PortalProfile, hops: int, base: str):
        """A Hanweb datastore column: its records, and POSTs for the rest. Returns (report links, whether
        the page was one)."""
        listing = hanweb_list(html, response.url)
        if listing is None:
            return 0, False
        n = 0
        for snippet in listing.records:
            n += yield from self._record_links(snippet, base, portal, hops)
        self.ledger.note(response.url, portal.name, "hanweb-dataproxy", items=record_hrefs(listing.records, base),
                         announced=listing.total)
        if listing.truncated:
            self.ledger.incomplete(response.url, portal.name, "hanweb-dataproxy", f"the list announces "
                                   f"{listing.total} records; only the first {listing.cap} were read")
        for url, form in listing.more():
            yield self.make(url, portal, hops=hops, role="list", priority=30, callback=self.parse_hanweb,
                            formdata=form, meta_extra={"list_root": response.url})
        return n, True

    def _record_links(self, snippet: str, base: str, portal: PortalProfile, hops: int):
        n = 0
        for link in self._links(page_selector(snippet), base, portal):
            if link.kind in ("report", "attachment"):
                n += 1
                yield self._item(link, portal, hops)
        return n

    def _item(self, link: L.Link, portal: PortalProfile, hops: int, *, render: bool = False) -> Request:
        """A report or attachment a list holds (a datastore record, an API's item)."""
        role = "file" if link.kind == "attachment" else "report"
        return self.make(link.url, portal, hops=hops + 1, role=role, text=link.text, priority=40,
                         callback=self.parse_file if role == "file" else None, render=render and role == "report")

    def parse_hanweb(self, response: Response) -> Iterator[Request]:
        """A dataproxy.jsp answer: more records of a Hanweb column."""
        return self._once(self._parse_hanweb(response), response)

    def _parse_hanweb(self, response: Response) -> Iterator[Request]:
        portal = self.portals[response.meta["portal"]]
        records = hanweb_records(response.text)
        for snippet in records:
            yield from self._record_links(snippet, response.url, portal, response.meta.get("hops", 0))
        if root := response.meta.get("list_root"):
            self.ledger.note(root, portal.name, "hanweb-dataproxy", items=record_hrefs(records, response.url),
                             page=True)

    # -- lists paged by script ----------------------------------------------------------------------
    @staticmethod
    def page_url(response: Response) -> str:
        """The page's address with its fragment (``/gkmlpt/index#2629``): the downloader drops it."""
        asked = response.request.url if response.request is not None else response.url
        return asked if urldefrag(asked)[0] == response.url else response.url

    def _lists(self, html: str, sel: Selector, response: Response, portal: PortalProfile, hops: int, base: str,
               *, followed: bool, reports: int):
        """Lists an adapter reads (records in the page, the rest from its API), and what a list page says
        about its size and pager, into the ledger. Returns how many report links it yielded."""
        url = self.page_url(response)
        n = 0
        plans = list_plans(html, url)
        for plan in plans:
            key = plan.calls[0].list_url if plan.family == "gkmlpt" and plan.calls else url
            for rec in plan.records:
                n += yield from self._record(rec, portal, hops)
            shown = list_items(sel.root, base) if plan.family == "trs-api" else []  # its static first page
            self.ledger.note(key, portal.name, plan.family, items=[r.url for r in plan.records] + shown,
                             announced=plan.announced)
            if plan.why_incomplete:
                self.ledger.incomplete(key, portal.name, plan.family, plan.why_incomplete)
            for call in plan.calls:
                yield self._api_request(call, portal, hops)
            response.meta["nianbao_list_read"] = True  # an adapter reads it: no browser for this page
        if plans or not (reports or response.meta.get("role") in ("column", "list")):
            return n
        if (known := self.ledger.lists.get(list_key(url))) is not None and known.method != "static":
            return n  # an adapter above read this list (Hanweb's datastore)
        records, pages = page_announced(sel.root)
        items = list_items(sel.root, base)
        root = response.meta.get("list_root") or url
        if root != url:  # a further page of a list noted on its first
            if list_key(root) in self.ledger.lists:
                self.ledger.note(root, portal.name, "static", items=items, announced=records, announced_pages=pages,
                                 page=True)
            return n
        more = (pages or 0) > 1 or (records or 0) > len(items)
        pager = None if followed else script_pager(sel.root, more=more)
        if followed or records is not None or pages is not None or pager:
            self.ledger.note(url, portal.name, "static", items=items, announced=records, announced_pages=pages)
        if followed:
            return n
        if pager and self.browser and portal.render != "never" and not response.meta.get("playwright_page"):
            response.meta["nianbao_list_read"] = True  # one walk per page (_needs_browser would ask again)
            yield self.walk_request(response, portal, hops)
        elif pager:
            self.ledger.incomplete(url, portal.name, "static", f"{pager} was not followed"
                                   + ("" if self.browser else " (the crawl ran without a browser)"))
        elif (not self.browser or portal.render == "never") and response.meta.get("role") == "column" \
                and not reports and (how := script_list(html)) and not items:
            self.ledger.incomplete(url, portal.name, "static", f"the list is drawn by its script ({how}) and the "
                                   "crawl ran without a browser")
        elif pages and pages > 1:
            self.ledger.incomplete(url, portal.name, "static", f"the list says it has {pages} pages, and shows "
                                   "no link to the others")
        return n

    def _record(self, rec: Record, portal: PortalProfile, hops: int):
        """A list item an adapter read: followed like a link of the same words on a page."""
        url = _clean(rec.url)
        if not url or not self.in_scope(url, portal):
            return 0
        link = _classify(url, rec.title)
        if link.kind not in ("report", "attachment"):
            return 0
        yield self._item(link, portal, hops, render=portal.render == "browser")
        return 1

    def _api_request(self, call: ApiCall, portal: PortalProfile, hops: int) -> Request:
        """A call of a list API, sent as the page's own script sends it."""
        return self.make(call.url, portal, hops=hops, role="list", priority=30, callback=self.parse_api,
                         meta_extra={"api_call": call}, formdata=dict(call.form) if call.method == "POST" else None,
                         headers={"X-Requested-With": "XMLHttpRequest", "Referer": call.list_url.split("#")[0]})

    def parse_api(self, response: Response) -> Iterator[Request]:
        """An answer of a list API: its records, and the further pages it made known."""
        return self._once(self._parse_api(response), response)

    def _parse_api(self, response: Response) -> Iterator[Request]:
        call: ApiCall = response.meta["api_call"]
        portal = self.portals[response.meta["portal"]]
        hops = response.meta.get("hops", 0)
        page = read_api(response.text if isinstance(response, TextResponse) else "", call)
        for rec in page.records:
            yield from self._record(rec, portal, hops)
        self.ledger.note(call.list_url, portal.name, call.family, items=[r.url for r in page.records],
                         announced=page.announced, page=True)
        if not page.records and call.first:
            self.ledger.incomplete(call.list_url, portal.name, call.family,
                                   "its list API answered with no records it could read")
        for more in page.more:
            yield self._api_request(more, portal, hops)

    def _needs_browser(self, response: Response, sel: Selector, found: int, portal: PortalProfile) -> bool:
        """A report column whose list is empty but has scripts: it is filled in the browser."""
        return (self.browser and portal.render == "auto" and not response.meta.get("playwright")
                and response.meta.get("role") == "column" and found == 0
                and not sel.css("a[href]").re(r"(?:19|20)\d{2}") and bool(sel.css("script")))

    def parse_file(self, response: Response) -> None:
        """An attachment: archived as it came; nothing to follow."""
        return None

    # -- lists paged by script, walked in the browser (spiders/browser_walk.py) -----------------------
    def walk_request(self, response: Response, portal: PortalProfile, hops: int) -> Request:
        """The list page again, in Chromium with the page kept open, for :meth:`parse_walked` to click
        through its pager. Only with the browser on (without it the caller notes the list incomplete)."""
        request = self.make(self.page_url(response), portal, hops=hops, role=response.meta.get("role") or "list",
                            text=response.meta.get("link_text") or "", priority=30, render=True,
                            callback=self.parse_walked, dont_filter=True)
        # no <meta refresh> turned into another request: the page kept open must reach parse_walked to be closed
        request.meta.update(self.browser_meta(), playwright_include_page=True, dont_redirect=True)
        return request.replace(errback=self.walk_failed)

    async def parse_walked(self, response: Response) -> AsyncIterator[Request]:
        """A list page open in Chromium: its pager walked to the end, the page closed (whatever
        happened), every page's reports and their files requested, the list noted in the ledger."""
        from playwright.async_api import Error as PlaywrightError

        from spiders.browser_walk import walk_pager

        portal = self.portals[response.meta["portal"]]
        url = response.request.url if response.request is not None else response.url
        page = response.meta.get("playwright_page")
        if page is None:  # not opened in the browser after all: nothing to walk
            self.ledger.incomplete(url, portal.name, "browser", "the list page was not opened in the browser")
            return
        try:
            walk = await walk_pager(page, pause_ms=int(self.host_gap(url, portal) * 1000))
        except PlaywrightError as e:
            self.ledger.incomplete(url, portal.name, "browser", f"the browser walk failed: {str(e)[:160]}")
            return
        finally:
            await self._close_page(page)
        hops = response.meta.get("hops", 0)
        render = portal.render == "browser"
        kinds: dict[str, str] = {}
        for href, text in walk.links:
            link_url = _clean(href, None)
            if not link_url or not self.in_scope(link_url, portal):
                continue
            link = _classify(link_url, text)
            kinds.setdefault(link_url, link.kind)
            request = self._walked_link(link, portal, hops, render)
            if request is not None and request.url not in self.requested:
                self.requested.add(request.url)
                yield request
        # the list's items: what is not on every page (the navigation is); one page cannot tell, so
        # there only its reports and files count
        items = [u for h in walk.items if (u := _clean(h, None)) and kinds.get(u, "next") != "next"] \
            if walk.pages > 1 else [u for u, k in kinds.items() if k in ("report", "attachment")]
        # one page: only its reports count, which a total of every item would always exceed
        entry = self.ledger.note(url, portal.name, "browser", items=items,
                                 announced=walk.announced if walk.pages > 1 else None,
                                 announced_pages=walk.announced_pages, page=False)
        entry.pages = max(entry.pages, walk.pages)
        if not walk.complete:
            self.ledger.incomplete(url, portal.name, "browser", walk.why or "the pager was not followed to its end")

    def host_gap(self, url: str, portal: PortalProfile) -> float:
        """The least gap between two requests to the host now (the profile's delay, raised by robots.txt's
        Crawl-delay or a backoff): each click of a walk is a request to the host too."""
        slots = getattr(getattr(getattr(self, "crawler", None), "engine", None), "downloader", None)
        slot = slots.slots.get(_hostname(url)) if slots is not None else None
        return max(portal.delay, slot.delay if slot is not None else 0.0)

    def _walked_link(self, link: L.Link, portal: PortalProfile, hops: int, render: bool) -> Request | None:
        """A walked list's link as _parse takes it from a list page: a report, its file, a per-year
        sub-column drawn by the script; navigation and pager links are left (the walk clicked those)."""
        if link.kind == "attachment" and L.looks_like_report(link.text):
            return self.make(link.url, portal, hops=hops, role="file", text=link.text, priority=50,
                             callback=self.parse_file)
        if link.kind == "report":
            return self.make(link.url, portal, hops=hops + 1, role="report", text=link.text, priority=40,
                             render=render)
        if link.kind == "year" and hops <= MAX_HOPS:
            return self.make(link.url, portal, hops=hops + 1, role="column", text=link.text, priority=35,
                             render=render)
        return None

    async def walk_failed(self, failure) -> None:
        """A walk request that failed (no answer, an HTTP error): its page closed, the list incomplete."""
        request = failure.request
        if (page := request.meta.get("playwright_page")) is not None:
            await self._close_page(page)
        self.ledger.incomplete(request.url, request.meta.get("portal") or "", "browser",
                               f"the browser could not open the list: {failure.getErrorMessage()[:160]}")
        self.failed(failure)

    @staticmethod
    async def _close_page(page) -> None:
        """Close a page kept open for a walk; a browser already gone has closed it."""
        import contextlib

        from playwright.async_api import Error as PlaywrightError

        if not page.is_closed():
            with contextlib.suppress(PlaywrightError):
                await page.close()
