"""AutoThrottle held to each host's own floor: the portal profile's delay is the least time between two
requests to a host, however fast the host answers.

Scrapy's AutoThrottle lowers a slot's delay towards the host's latency, bounded below only by the
global ``DOWNLOAD_DELAY`` (0 here, as every host has its own slot): on a fast host it sent requests far
quicker than the profile's delay. This subclass keeps AutoThrottle's backing off (slow answers widen
the gap) and clamps it from below by the slot's configured delay (``DOWNLOAD_SLOTS``).
"""

from __future__ import annotations

from scrapy.core.downloader import Slot
from scrapy.crawler import Crawler
from scrapy.extensions.throttle import AutoThrottle
from scrapy.http import Response
from scrapy.utils.httpobj import urlparse_cached


class PoliteThrottle(AutoThrottle):
    """AutoThrottle whose delay never drops below the host's floor (its slot's configured delay)."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.floors = {host: float(conf.get("delay") or 0.0)
                       for host, conf in crawler.settings.getdict("DOWNLOAD_SLOTS").items()}

    def floor(self, host: str | None) -> float:
        return max(self.floors.get(host or "", 0.0), self.mindelay)

    def _adjust_delay(self, slot: Slot, latency: float, response: Response) -> None:
        super()._adjust_delay(slot, latency, response)
        slot.delay = max(slot.delay, self.floor(urlparse_cached(response).hostname))
