"""Keep Chromium inside the portal too (order 70; on only with the browser).

Scrapy's own requests never leave the portal's hosts (:class:`~crawler.middlewares.scope.ScopeMiddleware`),
but a page open in Chromium can: a script's ``location.replace()``, a meta refresh, ``window.open``, an
iframe, an ``<img>``, a ``<script>``, a ``fetch()``. Every page the crawl opens gets a route, through
scrapy-playwright's page init callback, that aborts each request to a host outside its portal's scope
(:meth:`PortalProfile.covers`, the rule Scrapy's requests follow), navigations and sub-resources alike;
``data:``, ``blob:`` and ``about:`` URLs stay allowed. Each one is counted in the crawl's stats
(:data:`OUT_OF_SCOPE`) and the run's summary lists the hosts.

scrapy-playwright's own ``PLAYWRIGHT_ABORT_REQUEST`` is not enough: it aborts with ERR_FAILED, which puts
Chromium's error page in place of a page whose script navigates away (and that error page would be
archived for the portal's), and it never sees a popup's requests. Here a navigation the page makes is
cancelled before it begins (:data:`NAVIGATE_JS`) or, failing that, its request aborted with ERR_ABORTED (the
page keeps its document); the crawl's own navigation redirected off-site fails at once, as an off-site
skip; a popup is closed (a crawl reads none); the context's route catches what no page route sees.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING
from urllib.parse import urldefrag, urlsplit
from weakref import WeakKeyDictionary, WeakSet

from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Request

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Page, Route
    from playwright.async_api import Request as BrowserRequest

    from spiders.profiles import PortalProfile

OUT_OF_SCOPE = "nianbao/browser/out_of_scope"  # + "/<portal>/<host>" per portal and host ("-" : no portal known)
FOLLOWED = "nianbao/browser/redirected_off_site"  # the same, for a server's redirect Chromium followed
CHECKED_SCHEMES = frozenset({"http", "https", "ws", "wss"})  # data:, blob:, about: never leave the machine
SENT_OFF = "nianbao_browser_sent_to"  # meta: the host the crawl's own navigation was redirected to
KEPT_OUT_BINDING = "__nianbaoKeptOut"
# Run in every document before its own scripts: a navigation of the document to another host
# (location.replace or .href, a meta refresh, a form, a link) is cancelled through the Navigation API before
# it begins. Aborting its request instead would come too late for a navigation started while the page is
# still loading: Chromium stops parsing the page as the navigation starts, and the page keeps only what was
# parsed by then (and never fires "load"). The hosts are the portal's (PortalProfile.covers, given as data);
# whatever this lets through, the route still judges in Python.
NAVIGATE_JS = """(hosts, report) => {
  if (!window.navigation) return;
  navigation.addEventListener('navigate', e => {
    let u;
    try { u = new URL(e.destination.url); } catch (_) { return; }
    if (!/^(https?|wss?):$/.test(u.protocol) || hosts.includes(u.hostname) || !e.cancelable) return;
    e.preventDefault();
    if (window[report]) window[report](u.href);
  });
}"""


class BrowserScopeMiddleware:
    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.pages: WeakKeyDictionary[Page, PortalProfile | None] = WeakKeyDictionary()
        self.asked: WeakKeyDictionary[Page, Request] = WeakKeyDictionary()  # the crawl's request a page is for now
        self.contexts: WeakSet[BrowserContext] = WeakSet()
        self.closing: set[asyncio.Future] = set()  # popups being closed (a task nobody holds may be collected)

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("NIANBAO_BROWSER"):
            raise NotConfigured
        return cls(crawler)

    def process_request(self, request: Request, spider=None):
        if request.meta.get("playwright"):
            request.meta["playwright_page_init_callback"] = self.scope_page
        return None

    def process_response(self, request: Request, response, spider=None):
        """The crawl's own navigation, redirected by the server to another host: skipped as off-site, as
        Scrapy's redirect to there would have been (whatever the browser made of the other host's page)."""
        if (host := request.meta.pop(SENT_OFF, None)) is not None:
            raise IgnoreRequest(f"off-site: the browser was redirected to {host}")
        return response

    def process_exception(self, request: Request, exception: Exception, spider=None):
        if (host := request.meta.pop(SENT_OFF, None)) is not None:
            raise IgnoreRequest(f"off-site: the browser was redirected to {host}")
        return None

    # -- in the browser ----------------------------------------------------------------------------------
    async def scope_page(self, page: Page, request: Request) -> None:
        """scrapy-playwright's page init callback (it runs on each download, after its own route): the page's
        requests pass our route first; its context's route catches what no page route sees (popups)."""
        portal = self._portal(request.meta.get("portal"))
        if page not in self.pages:  # a new page: its scope holds for its life
            self.pages[page] = portal
            page.on("popup", self._close_popup)
            page.on("request", lambda req: self._followed(page, req))
            await page.expose_binding(KEPT_OUT_BINDING, self._kept_out_by_script)
            hosts = sorted(portal.allowed_hosts if portal is not None
                           else {h for p in self._portals().values() for h in p.allowed_hosts})
            await page.add_init_script(f"({NAVIGATE_JS})({json.dumps(hosts)}, {json.dumps(KEPT_OUT_BINDING)})")
        portal = self.pages[page]
        self.asked[page] = request
        await page.route("**", self._page_route(portal))
        if page.context not in self.contexts:
            self.contexts.add(page.context)
            await page.context.route("**", self._context_route)

    def allowed(self, url: str, portal: PortalProfile | None) -> bool:
        """Whether Chromium may fetch ``url`` for a page of ``portal``: the portal's own scope (with no portal
        known, any portal's of the crawl); URLs that name no host are always allowed."""
        if urlsplit(url).scheme.lower() not in CHECKED_SCHEMES:
            return True
        if portal is not None:
            return portal.covers(url)
        return any(p.covers(url) for p in self._portals().values())

    def _page_route(self, portal: PortalProfile | None) -> Callable[..., Awaitable[None]]:
        async def route(route: Route, req: BrowserRequest) -> None:
            if self.allowed(req.url, portal):
                await route.fallback()  # on to scrapy-playwright's own route (headers, method, body)
                return
            self._count(portal, req.url)
            # a navigation cancelled (the frame keeps the document it has); anything else refused
            await route.abort("aborted" if req.is_navigation_request() else "blockedbyclient")
        return route

    def _followed(self, page: Page, req: BrowserRequest) -> None:
        """A server's redirect to another host, which no route sees (Playwright routes only the first URL of a
        redirect chain): Chromium has made that request, so it is counted as such, and the crawl's own
        navigation redirected so is dropped as off-site."""
        portal = self.pages.get(page)
        if req.redirected_from is None or self.allowed(req.url, portal):
            return
        self._count(portal, req.url, FOLLOWED)
        asked = self.asked.get(page)
        if asked is not None and req.is_navigation_request() and _main_frame(req) \
                and _first(req).rstrip("/") == urldefrag(asked.url)[0].rstrip("/"):
            asked.meta[SENT_OFF] = urlsplit(req.url).hostname

    async def _context_route(self, route: Route, req: BrowserRequest) -> None:
        """A request no page route handled: a popup's (its page is not known before its first request)."""
        portal = None
        with contextlib.suppress(Exception):  # a popup's first request comes before its frame
            page = req.frame.page
            opener = await page.opener()
            portal = self.pages.get(page) or (self.pages.get(opener) if opener is not None else None)
        if self.allowed(req.url, portal):
            await route.fallback()
            return
        self._count(portal, req.url)
        await route.abort("aborted" if req.is_navigation_request() else "blockedbyclient")

    def _kept_out_by_script(self, source: dict, url: str) -> None:
        """A navigation :data:`NAVIGATE_JS` cancelled before it began: counted as the route counts one."""
        self._count(self.pages.get(source["page"]), url)

    def _close_popup(self, popup: Page) -> None:
        """A page a page opened (``window.open``): closed, as a crawl reads none, so no script of it lives on."""
        task = asyncio.ensure_future(_close(popup))
        self.closing.add(task)
        task.add_done_callback(self.closing.discard)

    # -- bookkeeping ----------------------------------------------------------------------------------------
    def _portals(self) -> dict[str, PortalProfile]:
        return getattr(self.crawler.spider, "portals", None) or {}

    def _portal(self, name: str | None) -> PortalProfile | None:
        return self._portals().get(name) if name else None

    def _count(self, portal: PortalProfile | None, url: str, key: str = OUT_OF_SCOPE) -> None:
        stats = self.crawler.stats
        stats.inc_value(key)
        stats.inc_value(f"{key}/{portal.name if portal is not None else '-'}/{urlsplit(url).hostname or '?'}")


def kept_out(stats: dict, key: str = OUT_OF_SCOPE) -> list[dict]:
    """The requests the browser was kept from (or, with ``key=FOLLOWED``, redirected to), from the crawl's
    stats: ``{portal (None: not known), host, requests}`` rows, most first."""
    rows = []
    for name, n in stats.items():
        if name.startswith(key + "/"):
            portal, host = name.removeprefix(key + "/").rsplit("/", 1)
            rows.append({"portal": None if portal == "-" else portal, "host": host, "requests": n})
    return sorted(rows, key=lambda r: (-r["requests"], r["host"]))


def _main_frame(req: BrowserRequest) -> bool:
    try:
        return req.frame.parent_frame is None
    except Exception:  # a frame's first request comes before the frame: a new iframe or popup
        return False


def _first(req: BrowserRequest) -> str:
    """The URL a redirect chain started at."""
    while req.redirected_from is not None:
        req = req.redirected_from
    return urldefrag(req.url)[0]


async def _close(page: Page) -> None:
    from playwright.async_api import Error

    with contextlib.suppress(Error):
        await page.close()
