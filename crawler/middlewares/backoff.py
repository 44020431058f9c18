"""A host that answers 429 (too many requests) or 503 (not now) gets the time it asks for, and more when
it keeps answering so (order 555: before Scrapy's RetryMiddleware, at 550, turns the answer into a retry).

Scrapy retries a 429/503 as soon as the slot's delay allows, and AutoThrottle, seeing a small error page
come back fast, would not slow down. Here:

- ``Retry-After`` (seconds, or an HTTP date) holds the host: its next request, the retry included, leaves
  no sooner (at most ``NIANBAO_MAX_RETRY_AFTER``, 300 s);
- from its second such answer on, the host's floor doubles (to at least 1 s, at most
  ``NIANBAO_MAX_BACKOFF``, 60 s) for the rest of the crawl;
- the answers are counted per host (:mod:`crawler.throttle` names the stats), for the run's summary.

The hold and the floor are kept by :class:`crawler.throttle.PoliteThrottle`, told through its signals.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC
from email.utils import parsedate_to_datetime

from scrapy.crawler import Crawler
from scrapy.http import Request, Response
from scrapy.utils.httpobj import urlparse_cached

from crawler.throttle import ANSWERS, RETRY_AFTER, WAITED, floor_raised, host_held

RETRY_STATUS = (429, 503)
FIRST_BACKOFF = 1.0  # seconds: the least floor of a host that keeps answering 429/503


def retry_after(value: bytes | str | None, now: float | None = None) -> float | None:
    """The seconds a ``Retry-After`` header asks for (delta-seconds or an HTTP date, ``now`` being
    ``time.time()``); None when there is none or it cannot be read."""
    if not value:
        return None
    text = (value.decode("latin-1") if isinstance(value, bytes) else value).strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - (time.time() if now is None else now)
    return max(0.0, seconds) if seconds == seconds else None  # NaN is no answer


class BackoffMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        s = crawler.settings
        self.crawler = crawler
        self.most_wait = s.getfloat("NIANBAO_MAX_RETRY_AFTER", 300.0)
        self.most_floor = s.getfloat("NIANBAO_MAX_BACKOFF", 60.0)
        self.floors = {host: float(conf.get("delay") or 0.0) for host, conf in s.getdict("DOWNLOAD_SLOTS").items()}
        self.answers: Counter[str] = Counter()
        crawler.signals.connect(self._floor_raised, signal=floor_raised)  # a Crawl-delay is doubled too

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffMiddleware:
        return cls(crawler)

    def _floor_raised(self, host: str, floor: float) -> None:
        self.floors[host] = max(self.floors.get(host, 0.0), floor)

    def process_response(self, request: Request, response: Response, spider=None) -> Response:
        if response.status not in RETRY_STATUS or request.meta.get("nianbao_from_archive"):
            return response
        host = urlparse_cached(request).hostname or ""
        stats, signals = self.crawler.stats, self.crawler.signals
        self.answers[host] += 1
        stats.inc_value(ANSWERS + host)
        if self.answers[host] > 1:
            floor = min(max(2 * self.floors.get(host, 0.0), FIRST_BACKOFF), self.most_floor)
            signals.send_catch_log(floor_raised, host=host, floor=floor)  # comes back to _floor_raised
        asked = retry_after(response.headers.get("Retry-After"))
        if asked is not None:
            wait = min(asked, self.most_wait)
            stats.max_value(RETRY_AFTER + host, asked)
            stats.max_value(WAITED + host, wait)
            signals.send_catch_log(host_held, host=host, until=time.monotonic() + wait)
        return response
