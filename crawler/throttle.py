"""How fast the crawl goes to a host: never faster than the host's floor, slower when the host asks.

A host's floor is the least time between two requests to it, counted from the host's last answer (a
request may reach the wire a little after it left Scrapy's queue). It starts at the portal profile's
``delay`` (``DOWNLOAD_SLOTS``) and is raised for the rest of the crawl when the host asks for more:
robots.txt's ``Crawl-delay`` for us (:class:`CrawlDelay`), or 429/503 answers again and again
(:class:`crawler.middlewares.backoff.BackoffMiddleware`). A ``Retry-After`` *holds* the host: nothing
more is sent to it before that time, whatever its floor.

Scrapy's AutoThrottle lowers a slot's delay towards the host's latency, bounded below only by the
global ``DOWNLOAD_DELAY`` (0 here, as every host has its own slot): on a fast host it sent requests far
quicker than the profile's delay, and it would shrink a Retry-After back to the latency at the next
quick answer. :class:`PoliteThrottle` keeps AutoThrottle's backing off (slow answers widen the gap) and
clamps the delay from below by the floor and, until it ends, the hold. The components that raise a floor
or hold a host tell it through two signals (:data:`floor_raised`, :data:`host_held`) rather than reach
into one another; the throttle applies them to the host's downloader slot at once, and again whenever a
request reaches a slot (Scrapy drops idle slots and makes new ones from ``DOWNLOAD_SLOTS``).

What a host asked for is counted in the crawl's stats, under the names below, per host;
:func:`throttled_hosts` reads them back for the run's summary.
"""

from __future__ import annotations

from time import monotonic

from scrapy import Request, signals
from scrapy.core.downloader import Slot
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.extensions.throttle import AutoThrottle
from scrapy.http import Response
from scrapy.robotstxt import RobotParser
from scrapy.utils.httpobj import urlparse_cached

floor_raised = object()
"""Signal ``(host: str, floor: float)``: from now on, at least ``floor`` seconds between requests to ``host``."""
host_held = object()
"""Signal ``(host: str, until: float)``: no request leaves for ``host`` before ``until`` (``time.monotonic()``)."""

# stats, each + host
FLOOR = "nianbao/floor/"  # the floor a host ended with, when raised during the crawl (seconds)
CRAWL_DELAY = "nianbao/crawl_delay/"  # what robots.txt asked (seconds)
ANSWERS = "nianbao/throttled/answers/"  # 429/503 answers
RETRY_AFTER = "nianbao/throttled/retry_after/"  # the longest Retry-After asked (seconds)
WAITED = "nianbao/throttled/waited/"  # the longest wait held (the Retry-After, capped)
CRAWL_DELAY_CAPPED = "nianbao/crawl_delay_capped"  # hosts whose Crawl-delay was past the most we wait


class PoliteThrottle(AutoThrottle):
    """AutoThrottle whose delay never drops below the host's floor, nor under a hold before it ends."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.floors = {host: float(conf.get("delay") or 0.0)
                       for host, conf in crawler.settings.getdict("DOWNLOAD_SLOTS").items()}
        self.held: dict[str, float] = {}  # host -> monotonic time before which nothing is sent
        self.before: dict[str, float] = {}  # host -> its slot's delay when a hold began
        self.slots: dict[str, Slot] = {}  # the downloader's, once the crawl has started
        crawler.signals.connect(self.raise_floor, signal=floor_raised)
        crawler.signals.connect(self.hold, signal=host_held)
        crawler.signals.connect(self._reached, signal=signals.request_reached_downloader)

    def _spider_opened(self, spider) -> None:
        super()._spider_opened(spider)
        self.slots = self.crawler.engine.downloader.slots

    def floor(self, host: str | None) -> float:
        return max(self.floors.get(host or "", 0.0), self.mindelay)

    def least(self, host: str | None, slot: Slot) -> float:
        """The least delay ``slot`` may have now: the floor, or while the host is held, up to the hold's end
        (the downloader waits ``delay`` from the last request it sent)."""
        until = self.held.get(host or "", 0.0)
        hold = until - slot.lastseen if until > monotonic() else 0.0
        return max(self.floor(host), hold)

    def raise_floor(self, host: str, floor: float) -> None:
        if floor <= self.floors.get(host, 0.0):
            return
        self.floors[host] = floor
        self.crawler.stats.set_value(FLOOR + host, floor)
        self._apply(host, self._slot(host))

    def hold(self, host: str, until: float) -> None:
        slot = self._slot(host)
        if host not in self.held and slot is not None:
            self.before[host] = slot.delay  # given back when the hold is over
        self.held[host] = max(self.held.get(host, 0.0), until)
        self._apply(host, self._slot(host))

    def _slot(self, key: str | None) -> Slot | None:
        return self.slots.get(key or "")

    def _get_slot(self, request: Request, spider=None) -> tuple[str | None, Slot | None]:
        key = request.meta.get("download_slot")
        return key, self._slot(key)

    def _apply(self, host: str | None, slot: Slot | None) -> None:
        if slot is None:
            return
        until = self.held.get(host or "")
        if until is not None and until <= monotonic():
            # the hold is over: its gap goes (AutoThrottle never lowers a delay on a 304 or an error, so a
            # recrawl would otherwise keep a 120 s Retry-After between all its requests)
            del self.held[host or ""]
            slot.delay = max(self.before.pop(host or "", 0.0), self.floor(host))
            return
        slot.delay = max(slot.delay, self.least(host, slot))

    def _response_downloaded(self, response: Response, request: Request, spider=None) -> None:
        """The gap to the host's next request is counted from this answer, not from when this request left
        the slot: a request can reach the wire late (the crawl's first waits for the download handler to
        start, any may wait behind a page being parsed), and a gap counted from the slot shrank by that
        much (a robots.txt asking for 1 s got 0.86 s on a busy machine)."""
        super()._response_downloaded(response, request, spider)
        _, slot = self._get_slot(request, spider)
        if slot is not None:
            slot.lastseen = max(slot.lastseen, monotonic())
            self._apply(urlparse_cached(request).hostname, slot)

    def _reached(self, request: Request, spider=None) -> None:
        """A request is in its slot's queue: the slot (perhaps new) gets the host's floor first."""
        self._apply(urlparse_cached(request).hostname, self._slot(request.meta.get("download_slot")))

    def _adjust_delay(self, slot: Slot, latency: float, response: Response) -> None:
        super()._adjust_delay(slot, latency, response)
        slot.delay = max(slot.delay, self.least(urlparse_cached(response).hostname, slot))


class CrawlDelay:
    """robots.txt's ``Crawl-delay`` for our user agent (or ``*``) raises the host's floor. Requests wait
    for the host's robots.txt (Scrapy's RobotsTxtMiddleware), so none goes out before the floor is known.
    A value past ``NIANBAO_MAX_CRAWL_DELAY`` (60 s: an hour between pages would never end a crawl) is
    taken as that, and said. Off without ``ROBOTSTXT_OBEY``."""

    def __init__(self, crawler: Crawler) -> None:
        s = crawler.settings
        if not s.getbool("ROBOTSTXT_OBEY"):
            raise NotConfigured
        self.crawler = crawler
        self.agent = s.get("ROBOTSTXT_USER_AGENT") or s.get("USER_AGENT")
        self.most = s.getfloat("NIANBAO_MAX_CRAWL_DELAY", 60.0)
        crawler.signals.connect(self.robots_parsed, signal=signals.robots_parsed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlDelay:
        return cls(crawler)

    def robots_parsed(self, robotparser: RobotParser, request: Request) -> None:
        host = urlparse_cached(request).hostname
        asked = robotparser.crawl_delay(self.agent)
        if not host or not asked or asked <= 0:
            return
        self.crawler.stats.set_value(CRAWL_DELAY + host, asked)
        if asked > self.most:
            self.crawler.stats.inc_value(CRAWL_DELAY_CAPPED)
        self.crawler.signals.send_catch_log(floor_raised, host=host, floor=min(asked, self.most))


def throttled_hosts(stats: dict) -> list[dict]:
    """The hosts that asked the crawl to slow down, from its stats: ``answers`` (429/503), the longest
    ``retry_after`` asked and ``waited``, the ``crawl_delay`` robots.txt asked, and the ``floor_s`` the host
    ended with (None when never raised)."""
    def per_host(prefix: str) -> dict[str, float]:
        return {k[len(prefix):]: v for k, v in stats.items() if k.startswith(prefix)}

    answers, crawl_delay = per_host(ANSWERS), per_host(CRAWL_DELAY)
    retry_after, waited, floors = per_host(RETRY_AFTER), per_host(WAITED), per_host(FLOOR)
    return [{"host": h, "answers": answers.get(h, 0), "retry_after_max": retry_after.get(h),
             "waited_max": waited.get(h), "crawl_delay": crawl_delay.get(h), "floor_s": floors.get(h)}
            for h in sorted(set(answers) | set(crawl_delay))]
